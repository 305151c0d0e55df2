/*
 * msg.c - the header scanner, unfolding, and decoded display values.
 *
 * The scanner is the hot path of every command: it walks the header block
 * once with memchr, records each field as a span into the message buffer
 * and never copies.  Any line ending is accepted (CRLF, LF, CR); NUL bytes
 * are data (and flagged).  A line that is neither a field nor a
 * continuation ends the header block, as in Python's email package and
 * Postfix; the defect is recorded.
 *
 * Decoding for display goes through GMime (RFC 2047 encoded words and
 * charsets), after raw 8-bit text has been given its likely charset
 * (UTF-8, Shift_JIS, EUC-JP, else Windows-1252) and raw ISO-2022-JP
 * escapes have been converted.
 *
 * Standards: RFC 5322 (2.2, 2.2.3 unfolding), RFC 2047, RFC 1468.
 */
#include <ctype.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <gmime/gmime.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/limits.h"
#include "spamtrace/msg.h"
#include "util/ascii.h"
#include "util/scan.h"

static GMimeParserOptions *decode_opts;
static gsize init_done;

void
st_library_init(void)
{
	if (g_once_init_enter(&init_done)) {
		const char *fallback[] = { "UTF-8", "CP932", "EUC-JP",
		    "Windows-1252", NULL };

		g_mime_init();
		decode_opts = g_mime_parser_options_new();
		g_mime_parser_options_set_fallback_charsets(decode_opts,
		    fallback);
		g_mime_parser_options_set_rfc2047_compliance_mode(decode_opts,
		    GMIME_RFC_COMPLIANCE_LOOSE);
		g_once_init_leave(&init_done, 1);
	}
}

/* Find the end of the line starting at p: *eol is where the terminator
 * starts, the return value where the next line starts. */
static inline const char *
line_end(const char *p, const char *end, bool cr_only, const char **eol)
{
	const char *nl;

	if (cr_only) {
		nl = st_scan_byte(p, (size_t)(end - p), '\r');
		if (nl == NULL) {
			*eol = end;
			return end;
		}
		*eol = nl;
		return nl + 1;
	}
	nl = st_scan_byte(p, (size_t)(end - p), '\n');
	if (nl == NULL) {
		*eol = end;
		if (end > p && end[-1] == '\r')
			*eol = end - 1;
		return end;
	}
	*eol = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
	return nl + 1;
}

static bool
is_field_name_char(unsigned char c)
{
	return c > 32 && c < 127 && c != ':';
}

/*
 * The end of the field name that starts the line p[0..eol): the first
 * byte that is not a field-name character, or eol.  With SSE2 the first
 * 16 bytes are tested at once (most names are shorter), when the buffer
 * (which ends at end) has them.
 */
static inline const char *
field_name_end(const char *p, const char *eol, const char *end)
{
	const char *c = p;
#ifdef __SSE2__
	while (end - c >= 16 && c < eol) {
		__m128i v = _mm_loadu_si128((const __m128i *)c);
		/* field-name bytes are 33-126 except ':'.  Signed compares:
		 * bytes >= 0x80 are negative, so "> 32" is false for them */
		__m128i ok = _mm_andnot_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(':')),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(127))),
		    _mm_cmpgt_epi8(v, _mm_set1_epi8(32)));
		unsigned m = (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;

		if (m != 0) {
			c += __builtin_ctz(m);
			return c < eol ? c : eol;
		}
		c += 16;
	}
	if (c >= eol)
		return eol;
#endif
	while (c < eol && is_field_name_char((unsigned char)*c))
		c++;
	return c;
}

enum st_status
st_msg_parse(struct st_msg *m, struct st_arena *a, const char *buf,
    size_t len)
{
	const char *p = buf, *end = buf + len, *next, *eol, *c;
	size_t cap = 0;
	bool cr_only;
	struct st_header *h;

	memset(m, 0, sizeof(*m));
	m->arena = a;
	m->buf = buf;
	m->len = len;
	m->body_off = len;
	{
		size_t probe = len < 65536 ? len : 65536;

		cr_only = memchr(buf, '\n', probe) == NULL &&
		    memchr(buf, '\r', probe) != NULL;
	}
	/* An mbox envelope line left at the top ("From x date") is skipped. */
	if (len >= 5 && (memcmp(p, "From ", 5) == 0 ||
	    (len >= 6 && memcmp(p, ">From ", 6) == 0)))
		p = line_end(p, end, cr_only, &eol);

	while (p < end) {
		if ((size_t)(p - buf) > ST_MAX_HEADER_BLOCK) {
			m->defects |= ST_MSG_DEFECT_HEADER_BLOCK;
			m->body_off = (size_t)(p - buf);
			goto done;
		}
		next = line_end(p, end, cr_only, &eol);
		if (eol == p) {			/* the empty line */
			m->body_off = (size_t)(next - buf);
			goto done;
		}
		if (*p == ' ' || *p == '\t') {	/* continuation */
			if (m->nhdrs > 0) {
				h = &m->hdrs[m->nhdrs - 1];
				h->value_len = (size_t)(eol - h->value);
				if (h->value_len > ST_MAX_HEADER_VALUE)
					m->defects |= ST_MSG_DEFECT_LONG_VALUE;
			}
			p = next;
			continue;
		}
		c = field_name_end(p, eol, end);
		/* allow white space before the colon (obs-optional) */
		{
			const char *n_end = c;

			while (c < eol && (*c == ' ' || *c == '\t'))
				c++;
			if (c == eol || *c != ':' || n_end == p) {
				m->defects |= m->nhdrs == 0 ?
				    ST_MSG_DEFECT_NO_HEADERS :
				    ST_MSG_DEFECT_BAD_LINE;
				m->body_off = (size_t)(p - buf);
				goto done;
			}
			if (m->nhdrs >= ST_MAX_HEADERS) {
				m->defects |= ST_MSG_DEFECT_TOO_MANY;
				p = next;
				continue;
			}
			if (m->nhdrs == cap) {
				size_t ncap = cap ? cap * 2 : 32;
				struct st_header *nh = st_arena_grow(a,
				    m->hdrs, m->nhdrs, ncap, sizeof(*nh));

				if (nh == NULL)
					return ST_ENOMEM;
				m->hdrs = nh;
				cap = ncap;
			}
			h = &m->hdrs[m->nhdrs++];
			h->name = p;
			h->name_len = (size_t)(n_end - p);
			h->value = c + 1;
			h->value_len = (size_t)(eol - (c + 1));
			if (h->value_len > ST_MAX_HEADER_VALUE)
				m->defects |= ST_MSG_DEFECT_LONG_VALUE;
		}
		p = next;
	}
	m->defects |= ST_MSG_DEFECT_NO_BODY_SEP;
	m->body_off = len;
done:
	if (memchr(buf, '\0', m->body_off) != NULL)
		m->defects |= ST_MSG_DEFECT_NUL;
	return ST_OK;
}

/* Field names are ASCII: the first byte, folded, settles most
 * comparisons; the rest is compared inline (util/ascii.h). */
static bool
name_eq(const char *a, const char *b, size_t n)
{
	return n == 0 || (((unsigned char)a[0] | 0x20) ==
	    ((unsigned char)b[0] | 0x20) && st_ascii_ieq(a, b, n));
}

const struct st_header *
st_msg_get(const struct st_msg *m, const char *name, size_t n)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < m->nhdrs; i++) {
		const struct st_header *h = &m->hdrs[i];

		if (h->name_len == nl && name_eq(h->name, name, nl) &&
		    n-- == 0)
			return h;
	}
	return NULL;
}

size_t
st_msg_count(const struct st_msg *m, const char *name)
{
	size_t i, nl = strlen(name), k = 0;

	for (i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].name_len == nl &&
		    name_eq(m->hdrs[i].name, name, nl))
			k++;
	return k;
}

void
st_msg_pick(const struct st_msg *m, const char *const *names, size_t n,
    const struct st_header **out, size_t *counts)
{
	/* the names chained by length: first[k] is the first name k bytes
	 * long (+1, 0 for none), next[j] the one after names[j] */
	unsigned char first[64] = { 0 }, next[ST_MSG_PICK_MAX];
	size_t len[ST_MSG_PICK_MAX], i, j;

	if (n > ST_MSG_PICK_MAX)
		n = ST_MSG_PICK_MAX;
	for (j = n; j-- > 0;) {
		len[j] = strlen(names[j]);
		out[j] = NULL;
		if (counts != NULL)
			counts[j] = 0;
		next[j] = 0;
		if (len[j] > 0 && len[j] < 64) {
			next[j] = first[len[j]];
			first[len[j]] = (unsigned char)(j + 1);
		}
	}
	for (i = 0; i < m->nhdrs; i++) {
		const struct st_header *h = &m->hdrs[i];

		if (h->name_len >= 64)
			continue;	/* no name asked for is that long */
		for (j = first[h->name_len]; j != 0; j = next[j - 1])
			if (name_eq(h->name, names[j - 1], h->name_len)) {
				if (out[j - 1] == NULL)
					out[j - 1] = h;
				if (counts != NULL)
					counts[j - 1]++;
				break;
			}
	}
}

char *
st_hdr_unfold(struct st_arena *a, const char *p, size_t len, size_t *lenp)
{
	char *s, *o;
	const char *e;

	if (len > ST_MAX_HEADER_VALUE)
		len = ST_MAX_HEADER_VALUE;
	e = p + len;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	if ((s = st_arena_alloc_raw(a, (size_t)(e - p) + 1)) == NULL)
		return NULL;
	/*
	 * A fold: CRLF + WSP becomes the WSP alone, and a lone CR or LF is
	 * dropped as well: every CR and LF goes.  With SSE2, 16 bytes at a
	 * time up to the next CR or LF (most values have no fold); the last
	 * few a byte at a time.
	 */
	o = s;
#ifdef __SSE2__
	{
		const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');

		while (e - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)p);
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			    _mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));

			/* o is never ahead of p: the 16 bytes fit; only those
			 * before the first CR or LF are kept */
			_mm_storeu_si128((__m128i *)o, v);
			if (m == 0) {
				o += 16;
				p += 16;
			} else {
				o += __builtin_ctz(m);
				p += __builtin_ctz(m) + 1;
			}
		}
	}
#endif
	for (; p < e; p++)
		if (*p != '\r' && *p != '\n')
			*o++ = *p;
	*o = '\0';
	if (lenp)
		*lenp = (size_t)(o - s);
	return s;
}

/* --- decoding for display ---------------------------------------------- */

static bool
is_utf8(const unsigned char *s, size_t n)
{
	return g_utf8_validate((const char *)s, (gssize)n, NULL);
}

/*
 * The likely charset of raw 8-bit header text that is not UTF-8: Shift_JIS
 * when a byte only it uses as a lead byte appears (0x81-0x9F), EUC-JP when
 * every high byte is in 0xA1-0xFE and they come in pairs, else
 * Windows-1252 (the superset of Latin-1 that Western mail really uses).
 */
static const char *
guess_8bit_charset(const unsigned char *s, size_t n)
{
	size_t i, run = 0;
	bool sjis = false, eucish = true, high = false;

	for (i = 0; i <= n; i++) {
		unsigned char c = i < n ? s[i] : 0;

		if (c < 0x80) {
			if (run % 2)
				eucish = false;
			run = 0;
			continue;
		}
		high = true;
		run++;
		if (c >= 0x81 && c <= 0x9f && c != 0x8e && c != 0x8f)
			sjis = true;
		if ((c < 0xa1 && c != 0x8e && c != 0x8f) || c == 0xff)
			eucish = false;
	}
	if (!high)
		return NULL;
	if (sjis)
		return "CP932";
	if (eucish)
		return "EUC-JP";
	return "Windows-1252";
}

/*
 * glibc unloads a gconv module (dlclose) two converter releases after the
 * last converter using it is closed, and GMime opens and closes one for
 * each encoded word and each 8-bit text it decodes: so nearly every such
 * header paid a dlopen and a dlclose.  One converter kept open for each
 * charset name seen keeps its module loaded.  The table is small and
 * fixed (names only: bounded memory on any input; when full, nothing more
 * is pinned) and the converters are never used: results do not change.
 */
#define PIN_MAX		32
#define PIN_NAME	40

static struct pin {
	char	 name[PIN_NAME];
	iconv_t	 cd;		/* (iconv_t)-1 for a name iconv lacks */
} pins[PIN_MAX];
static size_t npins;
G_LOCK_DEFINE_STATIC(pins);

static void
pin_charset(const char *cs, size_t n)
{
	size_t i;

	if (n == 0 || n >= PIN_NAME)
		return;
	G_LOCK(pins);
	for (i = 0; i < npins; i++)
		if (g_ascii_strncasecmp(pins[i].name, cs, n) == 0 &&
		    pins[i].name[n] == '\0')
			break;
	if (i == npins && npins < PIN_MAX) {
		memcpy(pins[i].name, cs, n);
		pins[i].name[n] = '\0';
		pins[i].cd = g_mime_iconv_open("UTF-8", pins[i].name);
		npins++;
	}
	G_UNLOCK(pins);
}

/* Pin the charset of each encoded word in s, and once GMime's fallback
 * charsets for raw 8-bit text. */
static void
pin_charsets(const char *s)
{
	static gsize fallback_done;
	const char *p, *q;

	if (g_once_init_enter(&fallback_done)) {
		const char *const *fb;

		for (fb = g_mime_parser_options_get_fallback_charsets(
		    decode_opts); *fb != NULL; fb++)
			pin_charset(*fb, strlen(*fb));
		g_once_init_leave(&fallback_done, 1);
	}
	/* "=?charset?B?" or "?Q?" ("charset*lang" is the charset): text
	 * that only looks a little like a word fills no slot */
	for (p = s; (p = strstr(p, "=?")) != NULL; p = q) {
		const char *star;

		p += 2;
		for (q = p; *q != '\0' && *q != '?' && q - p < PIN_NAME; q++)
			;
		if (*q != '?' || strchr("BbQq", q[1]) == NULL || q[1] == '\0' ||
		    q[2] != '?')
			continue;
		star = memchr(p, '*', (size_t)(q - p));
		pin_charset(p, (size_t)((star != NULL ? star : q) - p));
	}
}

/* Convert n bytes from charset to UTF-8 (its module pinned, see above);
 * invalid bytes are skipped.  g_free() the result. */
static char *
convert(const char *in, size_t n, const char *charset)
{
	iconv_t cd;
	char *out;

	pin_charset(charset, strlen(charset));
	cd = g_mime_iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		cd = g_mime_iconv_open("UTF-8", "Windows-1252");
	if (cd == (iconv_t)-1)
		return NULL;
	out = g_mime_iconv_strndup(cd, in, n);
	g_mime_iconv_close(cd);
	return out;
}

/*
 * GMime (3.2) joins adjacent B-encoded words of one charset before
 * decoding them (right: a character may be split between words) but drops
 * what follows the padding of the first ("=?utf-8?B?...pQ==?=
 * =?utf-8?B?...?=" loses the second word).  Join such runs here first:
 * decode each word's base64, concatenate the bytes, and encode them again
 * as one word (always safe: adjacent words are one text by RFC 2047 6.2).
 * Returns NULL when there is nothing to join.
 */
static char *
join_b_words(const char *s)
{
	GString *out = NULL;
	const char *p = s;

	while ((p = strstr(p, "=?")) != NULL) {
		const char *start = p, *q, *cs_end, *t_end, *next;
		GByteArray *bytes;
		char cs[64];
		size_t csl;
		int words = 0;

		cs_end = strchr(p + 2, '?');
		if (cs_end == NULL || cs_end - (p + 2) >= (ptrdiff_t)sizeof(cs) ||
		    (cs_end[1] != 'B' && cs_end[1] != 'b') || cs_end[2] != '?') {
			p += 2;
			continue;
		}
		csl = (size_t)(cs_end - (p + 2));
		memcpy(cs, p + 2, csl);
		cs[csl] = '\0';
		bytes = g_byte_array_new();
		q = p;
		for (;;) {
			const char *txt = q + 2 + csl + 3;
			gsize dl;
			guchar *dec;
			char *b64;

			t_end = strstr(txt, "?=");
			if (t_end == NULL)
				break;
			b64 = g_strndup(txt, (gsize)(t_end - txt));
			dec = g_base64_decode(b64, &dl);
			g_free(b64);
			g_byte_array_append(bytes, dec, (guint)dl);
			g_free(dec);
			words++;
			next = t_end + 2;
			while (*next == ' ' || *next == '\t')
				next++;
			if (strncmp(next, "=?", 2) != 0 ||
			    g_ascii_strncasecmp(next + 2, cs, csl) != 0 ||
			    next[2 + csl] != '?' ||
			    (next[3 + csl] != 'B' && next[3 + csl] != 'b') ||
			    next[4 + csl] != '?')
				break;
			q = next;
		}
		if (words >= 2 && t_end != NULL) {
			char *enc = g_base64_encode(bytes->data, bytes->len);

			if (out == NULL)
				out = g_string_new(NULL);
			g_string_append_len(out, s, start - s);
			g_string_append_printf(out, "=?%s?B?%s?=", cs, enc);
			g_free(enc);
			s = t_end + 2;
			p = s;
		} else
			p = t_end != NULL ? t_end + 2 : start + 2;
		g_byte_array_free(bytes, TRUE);
	}
	if (out == NULL)
		return NULL;
	g_string_append(out, s);
	return g_string_free(out, FALSE);
}

/* Replace control characters (terminal escapes!) and invalid UTF-8. */
static char *
sanitize(struct st_arena *a, const char *s)
{
	gchar *valid = g_utf8_make_valid(s, -1);
	size_t n = strlen(valid), i;
	char *o, *r;

	if ((r = st_arena_alloc(a, n * 3 + 1)) == NULL) {
		g_free(valid);
		return NULL;
	}
	for (i = 0, o = r; i < n; i++) {
		unsigned char c = (unsigned char)valid[i];

		if (c < 0x20 || c == 0x7f) {
			if (c == '\t' || c == '\n' || c == '\r')
				*o++ = ' ';
			else {
				memcpy(o, "\xef\xbf\xbd", 3);
				o += 3;
			}
		} else
			*o++ = (char)c;
	}
	*o = '\0';
	g_free(valid);
	return r;
}

/*
 * How many leading bytes of s[0..n) are, 16 at a time, printable ASCII
 * other than '=' (a multiple of 16, to be finished byte by byte): most
 * header values are plain text, and this is the test for it.
 */
static size_t
plain_prefix(const char *s, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i lo = _mm_set1_epi8(0x1f), eq = _mm_set1_epi8('=');

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
		/* signed compare: bytes >= 0x80 are negative, so "> 0x1f"
		 * is false for them as for controls; then DEL and '=' */
		__m128i ok = _mm_cmpgt_epi8(v, lo);
		__m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v, eq),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));

		if (_mm_movemask_epi8(_mm_andnot_si128(bad, ok)) != 0xffff)
			break;
	}
#endif
	return i;
}

char *
st_hdr_decode(struct st_arena *a, const char *p, size_t len)
{
	size_t n;
	char *u = st_hdr_unfold(a, p, len, &n), *pre = NULL, *dec, *r;
	const char *cs;

	if (u == NULL)
		return NULL;
	if (n > ST_MAX_DECODE_LEN) {
		n = ST_MAX_DECODE_LEN;
		u[n] = '\0';
	}
	/* the common case: printable ASCII with no encoded word is its own
	 * display value, no conversion needed */
	{
		size_t i = plain_prefix(u, n);

		for (; i < n; i++) {
			unsigned char c = (unsigned char)u[i];

			if ((c < 0x20 && c != '\t') || c >= 0x7f ||
			    (c == '=' && i + 1 < n && u[i + 1] == '?'))
				break;
		}
		if (i == n) {
			char *t = u;

			while ((t = memchr(t, '\t', (size_t)(u + n - t))) !=
			    NULL)
				*t++ = ' ';
			return u;
		}
	}
	st_library_init();
	if (n > ST_MAX_DECODE_LEN)
		n = ST_MAX_DECODE_LEN;
	/* NULs are data: show them as U+FFFD, not as the end */
	if (memchr(u, '\0', n) != NULL) {
		size_t i;

		for (i = 0; i < n; i++)
			if (u[i] == '\0')
				u[i] = '\x01';
	}
	u[n] = '\0';
	if (strstr(u, "\x1b$B") || strstr(u, "\x1b$@") || strstr(u, "\x1b(J"))
		pre = convert(u, n, "ISO-2022-JP");
	else if (!is_utf8((const unsigned char *)u, n) &&
	    (cs = guess_8bit_charset((const unsigned char *)u, n)) != NULL)
		pre = convert(u, n, cs);
	{
		char *joined = join_b_words(pre ? pre : u);

		pin_charsets(joined ? joined : (pre ? pre : u));
		dec = g_mime_utils_header_decode_text(decode_opts,
		    joined ? joined : (pre ? pre : u));
		g_free(joined);
	}
	r = sanitize(a, dec ? dec : (pre ? pre : u));
	g_free(dec);
	g_free(pre);
	return r;
}

char *
st_msg_decoded(struct st_msg *m, const char *name)
{
	const struct st_header *h = st_msg_get(m, name, 0);

	return h ? st_hdr_decode(m->arena, h->value, h->value_len) : NULL;
}

char *
st_msg_unfolded(struct st_msg *m, const char *name)
{
	const struct st_header *h = st_msg_get(m, name, 0);

	return h ? st_hdr_unfold(m->arena, h->value, h->value_len, NULL) :
	    NULL;
}

/* --- addresses ------------------------------------------------------------ */

char *
st_addr_extract(struct st_arena *a, const char *p, size_t len)
{
	const char *e = p + len, *lt = NULL, *gt, *at, *s, *t;
	const char *q;
	bool inq = false;

	/* the last <...> outside quotes wins ("Name <a@b>"); without
	 * quotes, simply the last '<' */
	if (memchr(p, '"', len) == NULL)
		lt = memrchr(p, '<', len);
	else
		for (q = p; q < e; q++) {
			if (*q == '"')
				inq = !inq;
			else if (*q == '<' && !inq)
				lt = q;
		}
	if (lt != NULL && (gt = memchr(lt, '>', (size_t)(e - lt))) != NULL) {
		s = lt + 1;
		t = gt;
		while (s < t && (*s == ' ' || *s == '\t'))
			s++;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (t == s)
			return st_arena_strdup(a, "");
		return st_arena_strndup(a, s, (size_t)(t - s));
	}
	/* bare address: the token holding '@' */
	if ((at = memchr(p, '@', len)) == NULL) {
		/* "MAILER-DAEMON" etc.: the first word */
		for (s = p; s < e && isspace((unsigned char)*s); s++)
			;
		for (t = s; t < e && !isspace((unsigned char)*t) &&
		    *t != '(' && *t != ','; t++)
			;
		return t > s ? st_arena_strndup(a, s, (size_t)(t - s)) : NULL;
	}
	for (s = at; s > p && !isspace((unsigned char)s[-1]) && s[-1] != '(' &&
	    s[-1] != ',' && s[-1] != ':' && s[-1] != '"'; s--)
		;
	for (t = at; t < e && !isspace((unsigned char)*t) && *t != ')' &&
	    *t != ',' && *t != ';' && *t != '"'; t++)
		;
	return st_arena_strndup(a, s, (size_t)(t - s));
}
