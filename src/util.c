/*
 * util.c - writing output buffers, the JSON writer, colours, warnings,
 * progress, and the option and configuration handling the commands share.
 */
#include <errno.h>
#include <stdarg.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cli.h"

bool cli_color;

/*
 * Room for n more bytes (and the NUL) at b->p + b->len.  The common case
 * is tested here, inline, for the JSON writer that runs on every field;
 * growing is st_buf_reserve's.
 */
static inline bool
room(struct st_buf *b, size_t n)
{
	return (!b->failed && b->cap - b->len > n) || st_buf_reserve(b, n);
}

void
cli_buf_check(const struct st_buf *b)
{
	if (b->failed) {
		fprintf(stderr, "spamtrace: out of memory\n");
		exit(70);
	}
}

void
cli_buf_write(struct st_buf *b, FILE *f)
{
	cli_buf_check(b);
	if (b->len)
		fwrite(b->p, 1, b->len, f);
	st_buf_reset(b);
}

void
cli_outq_init(struct cli_outq *q, FILE *f)
{
	memset(q, 0, sizeof(*q));
	q->f = f;
	q->direct = !isatty(fileno(f));
}

void
cli_outq_put(struct cli_outq *q, struct st_buf *b)
{
	size_t max = b->max;

	if (!q->direct) {
		cli_buf_write(b, q->f);
		return;
	}
	cli_buf_check(b);
	if (b->len == 0)
		return;
	q->bytes += b->len;
	q->held[q->n++] = *b;
	/* spares and held buffers together are never more than
	 * CLI_OUTQ_MAX: one spare out for each record in */
	if (q->nspare > 0)
		*b = q->spare[--q->nspare];
	else
		memset(b, 0, sizeof(*b));
	b->max = max;
	if (q->n == CLI_OUTQ_MAX || q->bytes >= CLI_OUTQ_BYTES)
		cli_outq_flush(q);
}

/* A buffer past this is freed once written, not kept as a spare. */
#define OUTQ_KEEP	(1u << 20)

void
cli_outq_flush(struct cli_outq *q)
{
	struct iovec iov[CLI_OUTQ_MAX];
	size_t i, k = 0;
	int fd = fileno(q->f);

	if (q->n == 0)
		return;
	for (i = 0; i < q->n; i++) {
		iov[i].iov_base = q->held[i].p;
		iov[i].iov_len = q->held[i].len;
	}
	/* anything stdio holds goes first */
	fflush(q->f);
	while (k < q->n) {
		ssize_t w = writev(fd, iov + k, (int)(q->n - k));

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;		/* as fwrite: the records are lost */
		}
		for (; k < q->n && (size_t)w >= iov[k].iov_len; k++)
			w -= (ssize_t)iov[k].iov_len;
		if (k < q->n) {
			iov[k].iov_base = (char *)iov[k].iov_base + w;
			iov[k].iov_len -= (size_t)w;
		}
	}
	for (i = 0; i < q->n; i++) {
		if (q->held[i].cap > OUTQ_KEEP)
			st_buf_free(&q->held[i]);
		st_buf_reset(&q->held[i]);
		q->spare[q->nspare++] = q->held[i];
	}
	q->n = 0;
	q->bytes = 0;
}

void
cli_outq_free(struct cli_outq *q)
{
	size_t i;

	cli_outq_flush(q);
	for (i = 0; i < q->nspare; i++)
		st_buf_free(&q->spare[i]);
	q->nspare = 0;
}

/* --- JSON --------------------------------------------------------------- */

/*
 * Every writer below reserves its field's worst case once (the key, the
 * separator, each string byte as a six-byte escape), then stores straight
 * into the buffer.  Some stores are whole words of which only the first
 * bytes count; JW_SLACK more bytes are reserved so those stay inside.
 * A string longer than JW_STR_MAX (none is, in memory) is written as "".
 */
#define JW_SLACK	16
#define JW_STR_MAX	((SIZE_MAX - 16) / 6)

void
jw_init(struct jw *w, struct st_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* The field's start (after the separator, if one is due) at o. */
static inline char *
sep_at(struct jw *w, char *o)
{
	*o = ',';
	return o + w->need_comma[w->depth];
}

/*
 * Copies n bytes of a key: two overlapping words for the short ones,
 * which all keys are, without reading past s + n.
 */
static inline void
copy_key(char *o, const char *s, size_t n)
{
	if (n > 16)
		memcpy(o, s, n);
	else if (n >= 8) {
		memcpy(o, s, 8);
		memcpy(o + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(o, s, 4);
		memcpy(o + n - 4, s + n - 4, 4);
	} else if (n > 0) {
		o[0] = s[0];
		o[n / 2] = s[n / 2];
		o[n - 1] = s[n - 1];
	}
}

/*
 * Separator and "k": at o.  Keys are the program's own ASCII constants
 * (or names it made, such as dates): no escaping needed.
 */
static inline char *
key_at(struct jw *w, char *o, const char *k, size_t kn)
{
	o = sep_at(w, o);
	*o++ = '"';
	copy_key(o, k, kn);
	o += kn;
	*o++ = '"';
	*o++ = ':';
	return o;
}

/*
 * Starts a field: the separator, then the key k unless NULL, with room
 * for v bytes of value after it.  NULL when there is no room (the buffer
 * is failed, and the writer writes nothing).  The sum cannot overflow:
 * kn is the length of a string in memory (< SIZE_MAX / 2), and v at most
 * JW_VAL_MAX.
 */
#define JW_VAL_MAX	(SIZE_MAX / 4)
static inline char *
field(struct jw *w, const char *k, size_t kn, size_t v)
{
	char *o;

	if (!room(w->b, kn + 4 + v + JW_SLACK))
		return NULL;
	o = w->b->p + w->b->len;
	return k != NULL ? key_at(w, o, k, kn) : sep_at(w, o);
}

/* Ends a field's value at o (NULL: nothing written); a comma is due
 * before the next. */
static inline void
value_done(struct jw *w, char *o)
{
	if (o != NULL) {
		*o = '\0';
		w->b->len = (size_t)(o - w->b->p);
	}
	w->need_comma[w->depth] = true;
}

/* Does c go out as it is? */
static inline bool
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/*
 * One character at *p that is not plain, or any one character: its
 * escape, a valid UTF-8 sequence copied, or U+FFFD for a byte that
 * starts none.
 */
static inline char *
escape_one(char *o, const unsigned char **pp, const unsigned char *e)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = *pp;
	unsigned char c = *p;

	if (plain(c)) {
		*o++ = (char)c;
		*pp = p + 1;
		return o;
	}
	if (c >= 0x80) {
		/* copy a valid UTF-8 sequence; else U+FFFD */
		int len = (c & 0xe0) == 0xc0 ? 2 :
		    (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		int k;

		if (len == 0 || e - p < len)
			goto bad;
		for (k = 1; k < len; k++)
			if ((p[k] & 0xc0) != 0x80)
				goto bad;
		if ((len == 2 && c < 0xc2) ||
		    (len == 3 && c == 0xe0 && p[1] < 0xa0) ||
		    (len == 3 && c == 0xed && p[1] >= 0xa0) ||
		    (len == 4 && c == 0xf0 && p[1] < 0x90) ||
		    (len == 4 && c > 0xf4) ||
		    (len == 4 && c == 0xf4 && p[1] >= 0x90))
			goto bad;
		memcpy(o, p, (size_t)len);
		*pp = p + len;
		return o + len;
bad:
		memcpy(o, "\\ufffd", 6);
		*pp = p + 1;
		return o + 6;
	}
	*o++ = '\\';
	switch (c) {
	case '"':  *o++ = '"'; break;
	case '\\': *o++ = '\\'; break;
	case '\n': *o++ = 'n'; break;
	case '\r': *o++ = 'r'; break;
	case '\t': *o++ = 't'; break;
	default:
		*o++ = 'u';
		*o++ = '0';
		*o++ = '0';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	*pp = p + 1;
	return o;
}

#if defined(__SSE2__)
/*
 * The last n (1-15) bytes of a string as a vector, zeros after them,
 * without reading past p + n: overlapping loads, as in a short memcpy.
 * (SSE2 means x86: little-endian.)
 */
static inline __m128i
load_short(const unsigned char *p, size_t n)
{
	uint64_t lo, hi = 0;

	if (n >= 8) {
		memcpy(&lo, p, 8);
		if (n > 8) {
			memcpy(&hi, p + n - 8, 8);
			hi >>= 8 * (16 - n);
		}
	} else if (n >= 4) {
		uint32_t a, z;

		memcpy(&a, p, 4);
		memcpy(&z, p + n - 4, 4);
		lo = a | (uint64_t)z << (8 * (n - 4));
	} else
		lo = p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
		    (uint64_t)p[n - 1] << (8 * (n - 1));
	return _mm_set_epi64x((long long)hi, (long long)lo);
}

/* 0xff for each byte that needs care: < 0x20 or >= 0x80 (as a signed
 * compare), '"', '\\'. */
static inline __m128i
care_vec(__m128i v)
{
	return _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
}

/* The same as one bit a byte. */
static inline unsigned
care_mask(__m128i v)
{
	return (unsigned)_mm_movemask_epi8(care_vec(v));
}
#endif

/*
 * The JSON string literal of s[0..n) at o, which has room for 6 * n + 2
 * bytes and JW_SLACK.  This runs for every string of every message.
 */
static char *
escape_at(char *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
#if defined(__SSE2__)
	size_t run = 0;		/* bytes before p that went out as they are */
#endif

	*o++ = '"';
	while (p < e) {
#if defined(__SSE2__)
		/*
		 * Sixteen bytes at a time, the string's short end too: the
		 * block is stored whole (the slack takes what is past the
		 * plain run), and the run before the first byte that needs
		 * care is kept.
		 */
		size_t left = (size_t)(e - p), back = 0, k;
		__m128i v;
		unsigned mask;

		/* the long plain stretches, thirty-two at a time */
		while (left >= 32) {
			__m128i v2 = _mm_loadu_si128((const __m128i *)
			    (const void *)(p + 16));

			v = _mm_loadu_si128((const __m128i *)(const void *)p);
			if (_mm_movemask_epi8(_mm_or_si128(care_vec(v),
			    care_vec(v2))) != 0)
				break;
			_mm_storeu_si128((__m128i *)(void *)o, v);
			_mm_storeu_si128((__m128i *)(void *)(o + 16), v2);
			o += 32;
			p += 32;
			left -= 32;
			run += 32;
		}
		if (left == 0)
			break;
		if (left >= 16) {
			v = _mm_loadu_si128((const __m128i *)(const void *)p);
			mask = care_mask(v);
			k = 16;
		} else if (run >= 16 - left) {
			/* the end as the string's last sixteen bytes: those
			 * before p are stored again as they went out */
			back = 16 - left;
			v = _mm_loadu_si128((const __m128i *)
			    (const void *)(p - back));
			mask = care_mask(v) >> back;
			k = left;
		} else {
			v = load_short(p, left);
			mask = care_mask(v) & ((1u << left) - 1);
			k = left;
		}
		_mm_storeu_si128((__m128i *)(void *)(o - back), v);
		if (mask == 0) {
			o += k;
			p += k;
			run += k;
			continue;
		}
		k = (size_t)__builtin_ctz(mask);
		o += k;
		p += k;
		/* the bytes that need care, until a plain one */
		do
			o = escape_one(o, &p, e);
		while (p < e && !plain(*p));
		run = 0;
#else
		/* eight plain bytes at a time (none < 0x20, >= 0x80, '"', '\\') */
		while (e - p >= 8) {
			const uint64_t ones = 0x0101010101010101ull,
			    high = 0x8080808080808080ull;
			uint64_t w, q, bs;

			memcpy(&w, p, 8);
			q = w ^ (ones * '"');
			bs = w ^ (ones * '\\');
			if ((w & high) || ((w - ones * 0x20) & ~w & high) ||
			    ((q - ones) & ~q & high) ||
			    ((bs - ones) & ~bs & high))
				break;
			memcpy(o, p, 8);
			o += 8;
			p += 8;
		}
		if (p < e)
			o = escape_one(o, &p, e);
#endif
	}
	*o++ = '"';
	return o;
}

/* The digits of v at o. */
static inline char *
int_at(char *o, long long v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;
	size_t n;

	if (v < 0)
		*o++ = '-';
	if (u < 10) {
		/* most are hop numbers and counts */
		*o++ = (char)('0' + u);
		return o;
	}
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	n = (size_t)(buf + sizeof(buf) - p);
	memcpy(o, p, n);
	return o + n;
}

/* Opens an object or array (c) as the next value, under key k unless
 * NULL. */
static void
jw_open(struct jw *w, const char *k, size_t kn, char c)
{
	char *o;

	if ((o = field(w, k, kn, 1)) != NULL)
		*o++ = c;
	value_done(w, o);
	if (w->depth < 63)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void
jw_close(struct jw *w, char c)
{
	struct st_buf *b = w->b;

	if (room(b, 1)) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
	}
	if (w->depth > 0)
		w->depth--;
}

void
jw_obj(struct jw *w)
{
	jw_open(w, NULL, 0, '{');
}

void
jw_end_obj(struct jw *w)
{
	jw_close(w, '}');
}

void
jw_arr(struct jw *w)
{
	jw_open(w, NULL, 0, '[');
}

void
jw_kobj_n(struct jw *w, const char *k, size_t kn)
{
	jw_open(w, k, kn, '{');
}

void
jw_karr_n(struct jw *w, const char *k, size_t kn)
{
	jw_open(w, k, kn, '[');
}

void
jw_end_arr(struct jw *w)
{
	jw_close(w, ']');
}

void
jw_key_n(struct jw *w, const char *k, size_t kn)
{
	char *o;

	if ((o = field(w, k, kn, 0)) != NULL) {
		*o = '\0';
		w->b->len = (size_t)(o - w->b->p);
	}
	w->need_comma[w->depth] = false;
}

/* A fixed word (null, true, false) at o. */
static inline char *
word_at(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

/* Key k (none when NULL) and the string s[0..n). */
static void
str_field(struct jw *w, const char *k, size_t kn, const char *s, size_t n)
{
	char *o;

	if (n > (JW_VAL_MAX - 2) / 6) {
		/* more than any buffer holds (a 32-bit size_t): failed, as
		 * st_buf_reserve has it; past JW_STR_MAX, "" as ever */
		if (n <= JW_STR_MAX)
			w->b->failed = true;
		n = 0;
	}
	if ((o = field(w, k, kn, 6 * n + 2)) != NULL)
		o = escape_at(o, s, n);
	value_done(w, o);
}

void
jw_kstr_n(struct jw *w, const char *k, size_t kn, const char *s)
{
	char *o;

	if (s == NULL || *s == '\0') {
		/* null, or the many empty fields: nothing to count or scan */
		if ((o = field(w, k, kn, 4)) != NULL)
			o = s == NULL ? word_at(o, "null", 4) : word_at(o, "\"\"", 2);
		value_done(w, o);
		return;
	}
	str_field(w, k, kn, s, strlen(s));
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	str_field(w, NULL, 0, s, n);
}

void
jw_str(struct jw *w, const char *s)
{
	jw_kstr_n(w, NULL, 0, s);
}

void
jw_kint_n(struct jw *w, const char *k, size_t kn, long long v)
{
	char *o;

	if ((o = field(w, k, kn, 24)) != NULL)
		o = int_at(o, v);
	value_done(w, o);
}

void
jw_int(struct jw *w, long long v)
{
	jw_kint_n(w, NULL, 0, v);
}

void
jw_kbool_n(struct jw *w, const char *k, size_t kn, bool v)
{
	char *o;

	if ((o = field(w, k, kn, 5)) != NULL)
		o = v ? word_at(o, "true", 4) : word_at(o, "false", 5);
	value_done(w, o);
}

void
jw_bool(struct jw *w, bool v)
{
	jw_kbool_n(w, NULL, 0, v);
}

void
jw_knull_n(struct jw *w, const char *k, size_t kn)
{
	char *o;

	if ((o = field(w, k, kn, 4)) != NULL)
		o = word_at(o, "null", 4);
	value_done(w, o);
}

void
jw_null(struct jw *w)
{
	jw_knull_n(w, NULL, 0);
}

void
jw_raw(struct jw *w, const char *json)
{
	size_t n = strlen(json);
	char *o;

	if (n > JW_VAL_MAX) {
		w->b->failed = true;
		n = 0;
	}
	if ((o = field(w, NULL, 0, n)) != NULL)
		o = word_at(o, json, n);
	value_done(w, o);
}

/*
 * "YYYY-MM-DDTHH:MM:SSZ", as st_date_iso writes it, at o; false outside
 * the years 0-9999 (left to st_date_iso).  The day's half is kept from
 * the last date this thread wrote: a message's dates mostly share a day,
 * and the calendar arithmetic is most of the cost.
 */
static bool
iso_at(char *o, int64_t utc)
{
	static _Thread_local int64_t last_day = INT64_MIN;
	static _Thread_local char day[10];
	int64_t days;
	int secs, v[3], i;

	if (utc < -62167219200LL || utc > 253402300799LL)
		return false;	/* 0000-01-01 to 9999-12-31 */
	days = utc >= 0 ? utc / 86400 : (utc - 86399) / 86400;
	secs = (int)(utc - days * 86400);
	if (days != last_day) {
		char buf[32];

		st_date_iso(days * 86400, buf, sizeof(buf));
		if (strlen(buf) != 20)
			return false;
		memcpy(day, buf, 10);
		last_day = days;
	}
	memcpy(o, day, 10);
	o[10] = 'T';
	v[0] = secs / 3600;
	v[1] = secs / 60 % 60;
	v[2] = secs % 60;
	for (i = 0; i < 3; i++) {
		o[11 + 3 * i] = (char)('0' + v[i] / 10);
		o[12 + 3 * i] = (char)('0' + v[i] % 10);
		o[13 + 3 * i] = i < 2 ? ':' : 'Z';
	}
	return true;
}

void
jw_kdate_n(struct jw *w, const char *k, size_t kn, bool has, int64_t utc)
{
	char *o;

	if (!has) {
		jw_knull_n(w, k, kn);
		return;
	}
	/* room for st_date_iso's longest (its buffer of 32), quoted */
	if ((o = field(w, k, kn, 34)) != NULL) {
		/* digits and "-T:Z" only: nothing to escape */
		*o++ = '"';
		if (iso_at(o, utc))
			o += 20;
		else {
			st_date_iso(utc, o, 32);
			o += strlen(o);
		}
		*o++ = '"';
	}
	value_done(w, o);
}

/* --- colours, warnings, progress ---------------------------------------- */

void
cli_color_setup(const char *mode)
{
	const char *nc = getenv("NO_COLOR");

	if (mode != NULL && strcmp(mode, "always") == 0)
		cli_color = true;
	else if (mode != NULL && strcmp(mode, "never") == 0)
		cli_color = false;
	else
		cli_color = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0')
		    && getenv("TERM") != NULL && strcmp(getenv("TERM"), "dumb");
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr);	/* one whole line, whatever other threads say */
	fputs("spamtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/*
 * A record is a few KiB, and glibc's 4 KiB buffer means a write(2) for
 * each.  The buffer stays until exit, when stdout is flushed.  On a
 * terminal, stdout stays line-buffered for people.
 */
void
cli_stdout_buffer(void)
{
	static char buf[256 * 1024];

	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, buf, _IOFBF, sizeof(buf));
}

static double
now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

void
progress_init(struct progress *p)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO);
	p->start = p->last = now();
}

void
progress_update(struct progress *p, uint64_t msgs, uint64_t bytes)
{
	double t;

	p->msgs = msgs;
	p->bytes = bytes;
	if (!p->on || (msgs & 255) != 0)
		return;
	t = now();
	if (t - p->last < 0.5)
		return;
	p->last = t;
	fprintf(stderr, "\r%llu messages, %.1f MB, %.0f msg/s   ",
	    (unsigned long long)msgs, bytes / 1e6,
	    msgs / (t - p->start > 0 ? t - p->start : 1));
}

void
progress_done(struct progress *p)
{
	if (p->on && p->last > p->start)
		fputs("\r\033[K", stderr);
}

int
cli_load_config(struct st_config *cfg, const char *explicit_path)
{
	struct st_error err;
	char path[4096];
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");

	if (st_config_load(cfg, "/etc/spamtrace.conf", &err) != ST_OK &&
	    err.status != ST_EIO) {
		cli_warn("%s", err.msg);
		return EXIT_USAGE;
	}
	if (xdg != NULL && *xdg)
		snprintf(path, sizeof(path), "%s/spamtrace/config", xdg);
	else if (home != NULL)
		snprintf(path, sizeof(path), "%s/.config/spamtrace/config",
		    home);
	else
		path[0] = '\0';
	if (path[0] && st_config_load(cfg, path, &err) != ST_OK &&
	    err.status != ST_EIO) {
		cli_warn("%s", err.msg);
		return EXIT_USAGE;
	}
	if (explicit_path != NULL &&
	    st_config_load(cfg, explicit_path, &err) != ST_OK) {
		cli_warn("%s", err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void
cli_opts_init(struct cli_opts *co, void (*usage)(FILE *))
{
	memset(co, 0, sizeof(*co));
	st_config_init(&co->cl);
	co->color = "auto";
	co->usage = usage;
}

int
cli_opts_take(struct cli_opts *co, int c, const char *arg)
{
	struct st_error err;
	int rc = EXIT_USAGE;

	switch (c) {
	case 'm': st_strlist_add(&co->cl.me, arg); return CLI_GO_ON;
	case 't':
		if (st_config_add_trust(&co->cl, arg, &err) == ST_OK)
			return CLI_GO_ON;
		cli_warn("%s", err.msg);
		break;
	case 'B': st_strlist_add(&co->cl.dnsbl, arg); return CLI_GO_ON;
	case 'R':
		free(co->cl.resolver);
		co->cl.resolver = strdup(arg);
		return CLI_GO_ON;
	case 'c': co->config_path = arg; return CLI_GO_ON;
	case 'C': co->color = arg ? arg : "always"; return CLI_GO_ON;
	case 'j': {
		/* 0 (or no -j): one per processor; at most POOL_THREADS are
		 * started whatever is asked */
		char *end;
		long v;

		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno == 0 && end != arg && *end == '\0' && v >= 0 &&
		    v <= 1024) {
			co->jobs = (int)v;
			return CLI_GO_ON;
		}
		cli_warn("-j %s: not a number of threads (0-1024)", arg);
		break;
	}
	case 'h': co->usage(stdout); rc = EXIT_OK; break;
	default: co->usage(stderr); break;
	}
	st_config_free(&co->cl);
	return rc;
}

int
cli_opts_finish(struct cli_opts *co, int argc, struct st_config *cfg)
{
	int rc = EXIT_OK;

	if (optind >= argc) {
		co->usage(stderr);
		rc = EXIT_USAGE;
	} else if ((rc = cli_load_config(cfg, co->config_path)) == EXIT_OK &&
	    st_config_merge(cfg, &co->cl) != ST_OK) {
		/* command-line settings come after the files */
		cli_warn("out of memory");
		rc = EXIT_PARTIAL;
	}
	st_config_free(&co->cl);
	if (co->jobs <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		co->jobs = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
	}
	return rc;
}
