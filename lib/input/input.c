/*
 * input.c - find the messages in a path and hand them out one at a time.
 *
 * A path is a file (one message or an mbox, told apart by content), a
 * Maildir (cur/ then new/, names sorted: Maildir names start with the
 * delivery time), a directory of files (sorted, recursive), or "-".  Each
 * file is read as a stream through one buffer that never grows past
 * ST_MAX_MESSAGE_SIZE plus one read chunk, so a mailbox of any size is
 * read in memory bounded by its largest message.  A message past the limit
 * is skipped with an error record; nothing is dropped silently.
 *
 * The mbox separator (RFC 4155): a line "From " at the start of a message,
 * after an empty line, whose rest looks like "sender date".  A body line
 * such as "From here on..." is not one; see st_mbox_is_separator().
 * mboxrd ">From " quoting is left as it is (headers never need it).
 */
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdbool.h>

#include "spamtrace/input.h"
#include "spamtrace/limits.h"
#include "util/ascii.h"

#define CHUNK	(256 * 1024)

struct st_input {
	enum st_input_kind kind;
	char  **files;		/* the files to read, in order */
	size_t	nfiles, next_file;
	/* the current file */
	int	fd;
	char   *path;
	int	file_kind;	/* 0 not started, 1 single, 2 mbox, 3 done */
	size_t	index;		/* message index within the file */
	size_t	dir_index;	/* position in the directory listing */
	bool	from_dir;
	/* the stream buffer: [0, have) valid; the message being read starts
	 * at 'start'; 'scan' is where separator search resumes */
	char   *buf;
	size_t	cap, have, start, scan;
	bool	eof;
	char	nl;		/* line terminator of this mbox: LF, or CR
				 * for old Mac files */
	uint64_t file_off;	/* file offset of buf[0] */
	uint64_t bytes;		/* total bytes read */
	char   *env;		/* envelope of the message being read */
	size_t	env_len;
	char	envbuf[512];
};

static const char *kind_names[] = {
	"message", "mbox", "maildir", "directory", "empty"
};

const char *
st_input_kind_name(enum st_input_kind kind)
{
	return kind_names[kind];
}

enum st_input_kind
st_input_kind(const struct st_input *in)
{
	return in->kind;
}

uint64_t
st_input_bytes_read(const struct st_input *in)
{
	return in->bytes;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum st_status
add_file(struct st_input *in, const char *path, size_t *cap)
{
	char **v;

	if (in->nfiles == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((v = realloc(in->files, *cap * sizeof(*v))) == NULL)
			return ST_ENOMEM;
		in->files = v;
	}
	if ((in->files[in->nfiles] = strdup(path)) == NULL)
		return ST_ENOMEM;
	in->nfiles++;
	return ST_OK;
}

/* List dir (sorted); files are added, subdirectories recursed into. */
static enum st_status
list_dir(struct st_input *in, const char *dir, size_t *cap, int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, **v, path[4096];
	size_t n = 0, ncap = 0, i;
	struct stat st;
	enum st_status rc = ST_OK;

	if (depth > 16 || (d = opendir(dir)) == NULL)
		return ST_OK;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == ncap) {
			ncap = ncap ? ncap * 2 : 64;
			if ((v = realloc(names, ncap * sizeof(*v))) == NULL) {
				rc = ST_ENOMEM;
				break;
			}
			names = v;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = ST_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (rc == ST_OK) {
			size_t dl = strlen(dir);

			while (dl > 1 && dir[dl - 1] == '/')
				dl--;
			snprintf(path, sizeof(path), "%.*s/%s", (int)dl, dir,
			    names[i]);
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				rc = list_dir(in, path, cap, depth + 1);
			else
				rc = add_file(in, path, cap);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

enum st_status
st_input_open(struct st_input **inp, const char *path, struct st_error *err)
{
	struct st_input *in;
	struct stat st;
	size_t cap = 0;
	char sub[4096];
	enum st_status rc = ST_OK;

	*inp = NULL;
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	in->fd = -1;
	if (strcmp(path, "-") == 0) {
		in->kind = ST_INPUT_MESSAGE;
		rc = add_file(in, "-", &cap);
	} else if (stat(path, &st) != 0) {
		int e = errno;

		free(in);
		if (err)
			err->sys_errno = e;
		return st_error_set(err, ST_EIO, "%s: %s", path, strerror(e));
	} else if (S_ISDIR(st.st_mode)) {
		snprintf(sub, sizeof(sub), "%s/cur", path);
		if (is_dir(sub)) {
			in->kind = ST_INPUT_MAILDIR;
			rc = list_dir(in, sub, &cap, 0);
			snprintf(sub, sizeof(sub), "%s/new", path);
			if (rc == ST_OK)
				rc = list_dir(in, sub, &cap, 0);
		} else {
			snprintf(sub, sizeof(sub), "%s/new", path);
			if (is_dir(sub)) {
				in->kind = ST_INPUT_MAILDIR;
				rc = list_dir(in, sub, &cap, 0);
			} else {
				in->kind = ST_INPUT_DIR;
				rc = list_dir(in, path, &cap, 0);
			}
		}
		in->from_dir = true;
	} else {
		int fd = open(path, O_RDONLY);

		if (fd < 0) {
			int e = errno;

			free(in);
			if (err)
				err->sys_errno = e;
			return st_error_set(err, ST_EIO, "%s: %s", path,
			    strerror(e));
		}
		close(fd);
		in->kind = st.st_size == 0 ? ST_INPUT_EMPTY : ST_INPUT_MESSAGE;
		rc = add_file(in, path, &cap);
	}
	if (rc != ST_OK) {
		st_input_close(in);
		return st_error_set(err, rc, "%s: out of memory", path);
	}
	*inp = in;
	return ST_OK;
}

void
st_input_close(struct st_input *in)
{
	size_t i;

	if (in == NULL)
		return;
	if (in->fd > 0)
		close(in->fd);
	for (i = 0; i < in->nfiles; i++)
		free(in->files[i]);
	free(in->files);
	free(in->buf);
	free(in);
}

/* --- the mbox separator rule ------------------------------------------ */

static bool
is_month_or_day(const char *p, size_t len)
{
	/* the three letters of each name, lower case, one word each */
	static const char names[] = "montuewedthufrisatsun"
	    "janfebmaraprmayjunjulaugsepoctnovdec";
	char w[3];
	size_t i;

	if (len < 3)
		return false;
	for (i = 0; i < 3; i++)
		w[i] = (char)st_ascii_lower((unsigned char)p[i]);
	for (i = 0; i + 3 <= sizeof(names) - 1; i += 3)
		if (w[0] == names[i] && w[1] == names[i + 1] &&
		    w[2] == names[i + 2])
			return true;
	return false;
}

/*
 * "From " SENDER SP DATE.  The date part must carry a time (h:mm) and a
 * year or a day/month name.  After a non-empty line only the full ctime()
 * form is accepted (some writers omit the blank line; a body line needs
 * all of "From x Day Mon dd hh:mm:ss yyyy" to be taken for one).
 */
int
st_mbox_is_separator(const char *p, size_t len, int prev_blank)
{
	const char *e = p + len, *q;
	bool time = false, name = false, year = false;
	int names = 0;

	if (len < 5 || memcmp(p, "From ", 5) != 0)
		return 0;
	q = p + 5;
	while (q < e && *q == ' ')
		q++;
	if (q == e)
		return 0;
	while (q < e && *q != ' ' && *q != '\t')	/* sender */
		q++;
	if (q == e)
		return 0;
	while (q < e) {
		const char *w;

		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		w = q;
		while (q < e && *q != ' ' && *q != '\t')
			q++;
		if (q - w >= 4 && isdigit((unsigned char)w[0]) &&
		    (w[1] == ':' || w[2] == ':'))
			time = true;
		else if (q - w == 4 && isdigit((unsigned char)w[0]) &&
		    isdigit((unsigned char)w[3]))
			year = true;
		else if (is_month_or_day(w, (size_t)(q - w))) {
			name = true;
			names++;
		}
	}
	if (prev_blank)
		return time && (year || name);
	return time && year && names >= 2;
}

/* --- reading ------------------------------------------------------------ */

static enum st_status
open_next_file(struct st_input *in, struct st_rawmsg *m)
{
	const char *path = in->files[in->next_file];

	in->path = in->files[in->next_file];
	in->dir_index = in->next_file;
	in->next_file++;
	in->have = in->start = in->scan = 0;
	in->eof = false;
	in->file_off = 0;
	in->index = 0;
	in->file_kind = 0;
	in->env = NULL;
	if (strcmp(path, "-") == 0) {
		in->fd = 0;
	} else if ((in->fd = open(path, O_RDONLY)) < 0) {
		m->error = ST_EIO;
		snprintf(m->errmsg, sizeof(m->errmsg), "cannot open: %s",
		    strerror(errno));
		in->fd = -1;
		in->file_kind = 3;
		return ST_EIO;
	}
	return ST_OK;
}

/* Read more into the buffer; compacts first.  Returns bytes read, 0 at EOF,
 * -1 on error. */
static ssize_t
fill(struct st_input *in)
{
	ssize_t n;

	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->have - in->start);
		in->have -= in->start;
		in->scan -= in->start;
		in->file_off += in->start;
		in->start = 0;
	}
	if (in->cap - in->have < CHUNK) {
		size_t ncap = in->cap ? in->cap * 2 : 4 * CHUNK;
		char *nb;

		if (ncap > ST_MAX_MESSAGE_SIZE + 2 * CHUNK)
			ncap = ST_MAX_MESSAGE_SIZE + 2 * CHUNK;
		if (ncap > in->cap) {
			if ((nb = realloc(in->buf, ncap)) == NULL)
				return -1;
			in->buf = nb;
			in->cap = ncap;
		}
	}
	if (in->cap - in->have == 0)
		return -2;	/* full: the message is too large */
	do {
		n = read(in->fd, in->buf + in->have, in->cap - in->have);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		in->have += (size_t)n;
		in->bytes += (uint64_t)n;
	} else if (n == 0) {
		in->eof = true;
	}
	return n;
}

static void
set_msg(struct st_input *in, struct st_rawmsg *m, size_t end)
{
	m->path = in->path;
	m->index = in->from_dir && in->file_kind == 1 ? in->dir_index :
	    in->index;
	m->data = in->buf + in->start;
	m->len = end - in->start;
	m->offset = in->file_off + in->start;
	m->envelope = in->env;
	m->envelope_len = in->env_len;
	in->index++;
}

static void
too_large(struct st_input *in, struct st_rawmsg *m)
{
	m->path = in->path;
	m->index = in->from_dir && in->file_kind == 1 ? in->dir_index :
	    in->index;
	m->data = NULL;
	m->len = 0;
	m->error = ST_ELIMIT;
	snprintf(m->errmsg, sizeof(m->errmsg),
	    "message larger than %u bytes, not analysed",
	    (unsigned)ST_MAX_MESSAGE_SIZE);
	in->index++;
}

/* Drop the buffered part of an oversized message, keeping the last line
 * fragment so a separator split across reads is still seen. */
static void
discard(struct st_input *in)
{
	size_t keep_from = in->scan;

	in->file_off += keep_from;
	memmove(in->buf, in->buf + keep_from, in->have - keep_from);
	in->have -= keep_from;
	in->scan = 0;
	in->start = 0;
}

/* Whole file is one message. */
static enum st_status
next_single(struct st_input *in, struct st_rawmsg *m)
{
	ssize_t n;
	bool big = false;

	for (;;) {
		n = fill(in);
		if (n == 0)
			break;
		if (n == -2) {
			big = true;
			in->scan = in->have;
			discard(in);
			continue;
		}
		if (n < 0) {
			m->error = ST_EIO;
			snprintf(m->errmsg, sizeof(m->errmsg), "read error: %s",
			    strerror(errno));
			m->path = in->path;
			m->index = in->from_dir ? in->dir_index : 0;
			in->file_kind = 3;
			return ST_OK;
		}
	}
	in->file_kind = 3;
	if (big) {
		too_large(in, m);
		return ST_OK;
	}
	set_msg(in, m, in->have);
	if (m->len == 0) {
		m->error = ST_EPARSE;
		snprintf(m->errmsg, sizeof(m->errmsg),
		    "empty file: no message");
	}
	return ST_OK;
}

/* Take the From_ line at in->start as the envelope; advance start. */
/*
 * The first "\nFrom " (sep: the line end then "From ") in p[0..n).  With
 * SSE2, 32 places are tested at once for a line end followed by 'F'
 * (branch-free over the text, where a memchr() per line end pays its set
 * up and a mispredicted exit every few dozen bytes); the tail, and
 * machines without SSE2, go by memchr() per line end.
 */
static char *
find_sep(char *p, size_t n, const char *sep)
{
	char *e = p + n, *q;

#ifdef __SSE2__
	{
		const __m128i c0 = _mm_set1_epi8(sep[0]);
		const __m128i c1 = _mm_set1_epi8(sep[1]);

		/* the places p .. p+31, each with its next byte, and the
		 * five bytes a match needs after its line end */
		while ((size_t)(e - p) >= 32 + 5) {
			__m128i a0 = _mm_loadu_si128((const __m128i *)p);
			__m128i b0 = _mm_loadu_si128((const __m128i *)(p + 1));
			__m128i a1 = _mm_loadu_si128((const __m128i *)(p + 16));
			__m128i b1 = _mm_loadu_si128((const __m128i *)(p + 17));
			uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_and_si128(
			    _mm_cmpeq_epi8(a0, c0), _mm_cmpeq_epi8(b0, c1))) |
			    (uint32_t)_mm_movemask_epi8(_mm_and_si128(
			    _mm_cmpeq_epi8(a1, c0), _mm_cmpeq_epi8(b1, c1))) <<
			    16;

			for (; m != 0; m &= m - 1) {
				q = p + __builtin_ctz(m);
				if (memcmp(q + 1, sep + 1, 5) == 0)
					return q;
			}
			p += 32;
		}
	}
#endif
	while ((size_t)(e - p) >= 6 &&
	    (q = memchr(p, sep[0], (size_t)(e - p) - 5)) != NULL) {
		if (memcmp(q + 1, sep + 1, 5) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

static void
take_envelope(struct st_input *in, size_t eol)
{
	size_t len = eol - in->start;

	if (len > 5)
		len -= 5;
	else
		len = 0;
	while (len && (in->buf[in->start + 5 + len - 1] == '\r' ||
	    in->buf[in->start + 5 + len - 1] == '\n'))
		len--;
	if (len >= sizeof(in->envbuf))
		len = sizeof(in->envbuf) - 1;
	memcpy(in->envbuf, in->buf + in->start + 5, len);
	in->envbuf[len] = '\0';
	in->env = in->envbuf;
	in->env_len = len;
	in->start = eol + 1;
	in->scan = in->start;
}

static enum st_status
next_mbox(struct st_input *in, struct st_rawmsg *m)
{
	bool big = false;
	char *nl;
	ssize_t n;
	const char *sep = in->nl == '\r' ? "\rFrom " : "\nFrom ";

	/* in->start is at the beginning of a "From " line (or EOF) */
	for (;;) {
		nl = memchr(in->buf + in->start, in->nl, in->have - in->start);
		if (nl != NULL || in->eof)
			break;
		if ((n = fill(in)) < 0 && n != -2)
			return ST_EIO;
		if (n == -2)
			break;
	}
	if (in->start >= in->have && in->eof) {
		in->file_kind = 3;
		return ST_EOF;
	}
	take_envelope(in, nl ? (size_t)(nl - in->buf) : in->have - 1);

	for (;;) {
		/* look for "\nFrom " at or after scan-1 */
		size_t from = in->scan > in->start ? in->scan - 1 : in->start;
		char *hit = NULL;

		if (in->have > from)
			hit = find_sep(in->buf + from, in->have - from, sep);
		while (hit != NULL) {
			size_t ls = (size_t)(hit - in->buf) + 1;
			char *le = memchr(in->buf + ls, in->nl, in->have - ls);
			size_t ll;
			int prev_blank;

			if (le == NULL && !in->eof)
				break;	/* need the whole line */
			ll = (le ? (size_t)(le - in->buf) : in->have) - ls;
			if (ll && in->buf[ls + ll - 1] == '\r')
				ll--;
			prev_blank = (ls >= 2 && in->buf[ls - 2] == in->nl) ||
			    (ls >= 3 && in->buf[ls - 2] == '\r' &&
			    in->buf[ls - 3] == '\n') ||
			    ls - 1 <= in->start;
			if (st_mbox_is_separator(in->buf + ls, ll,
			    prev_blank)) {
				size_t end = ls;

				/* the blank line before From_ belongs to
				 * the separator */
				if (prev_blank && end > in->start) {
					end--;
					if (end > in->start && in->nl == '\n' &&
					    in->buf[end - 1] == '\r')
						end--;
				}
				if (big)
					too_large(in, m);
				else
					set_msg(in, m, end);
				in->start = ls;
				in->scan = ls;
				return ST_OK;
			}
			from = ls;
			hit = find_sep(in->buf + from, in->have - from, sep);
		}
		/* no separator in what we have: resume near the end */
		in->scan = in->have > in->start + 6 ? in->have - 6 : in->start;
		if (hit != NULL)
			in->scan = (size_t)(hit - in->buf) + 1;
		if (in->eof) {
			if (big)
				too_large(in, m);
			else
				set_msg(in, m, in->have);
			in->start = in->have;
			return ST_OK;
		}
		n = fill(in);
		if (n == -2) {
			/* message past the limit: drop what we have but
			 * keep scanning for the next separator */
			big = true;
			if (in->scan > in->start + 1)
				in->scan--;
			discard(in);
			continue;
		}
		if (n < 0)
			return ST_EIO;
	}
}

enum st_status
st_input_next(struct st_input *in, struct st_rawmsg *m)
{
	enum st_status rc;
	ssize_t n;

	memset(m, 0, sizeof(*m));
	for (;;) {
		if (in->file_kind == 3 || in->fd < 0) {
			if (in->fd > 0)
				close(in->fd);
			in->fd = -1;
			if (in->next_file >= in->nfiles)
				return ST_EOF;
			if (open_next_file(in, m) != ST_OK) {
				m->path = in->path;
				m->index = in->dir_index;
				return ST_OK;	/* an error record */
			}
		}
		if (in->file_kind == 0) {
			/* detect: enough bytes to see the first line */
			while (!in->eof && in->have < 4096) {
				n = fill(in);
				if (n < 0)
					break;
			}
			if (in->have >= 5 && memcmp(in->buf, "From ", 5) == 0) {
				const char *lf = memchr(in->buf, '\n', in->have);
				const char *cr = memchr(in->buf, '\r', in->have);

				in->file_kind = 2;
				in->nl = cr != NULL && (lf == NULL || cr < lf - 1) ?
				    '\r' : '\n';
				if (in->kind == ST_INPUT_MESSAGE)
					in->kind = ST_INPUT_MBOX;
			} else {
				in->file_kind = 1;
			}
		}
		if (in->file_kind == 1)
			return next_single(in, m);
		rc = next_mbox(in, m);
		if (rc == ST_EOF)
			continue;
		if (rc == ST_EIO) {
			m->path = in->path;
			m->index = in->index++;
			m->error = ST_EIO;
			snprintf(m->errmsg, sizeof(m->errmsg),
			    "read error: %s", strerror(errno));
			in->file_kind = 3;
		}
		return ST_OK;
	}
}
