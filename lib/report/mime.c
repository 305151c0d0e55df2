/*
 * mime.c - the MIME writing the report module needs: quoted-printable
 * and base64 bodies, folded header fields, RFC 2047 encoded words (UTF-8
 * and ISO-2022-JP), UTF-8 to ISO-2022-JP line by line, RFC 5322 dates,
 * redaction, and safe display of hostile header bytes.
 *
 * Limits: a buffer never grows past the maximum given at st_buf_init()
 * (callers use 2 * ST_MAX_MESSAGE_SIZE); past it the buffer is marked
 * failed and the caller reports ST_ELIMIT.
 *
 * Standards: RFC 2045 6.7 (quoted-printable) and 6.8 (base64), RFC 2047
 * (encoded words, 75 octets each), RFC 5322 2.2.3 (folding) and 3.3
 * (date-time), RFC 1468 (ISO-2022-JP: every line ends in ASCII).
 */
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "report_int.h"

void
st_mime_put_eol(struct st_buf *b, const char *s, size_t n, const char *eol)
{
	const char *e = s + n, *nl;

	while (s < e) {
		nl = memchr(s, '\n', (size_t)(e - s));
		if (nl == NULL) {
			st_buf_put(b, s, (size_t)(e - s));
			return;
		}
		st_buf_put(b, s, (size_t)(nl - s));
		st_buf_puts(b, eol);
		s = nl + 1;
	}
}

void
st_mime_put_qp(struct st_buf *b, const char *s, size_t n, const char *eol)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	int col = 0;

	while (p < e) {
		unsigned char c = *p;
		char enc[3];
		int w;
		bool trailing_ws;

		if (c == '\n') {
			st_buf_puts(b, eol);
			col = 0;
			p++;
			continue;
		}
		trailing_ws = (c == ' ' || c == '\t') &&
		    (p + 1 == e || p[1] == '\n');
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !trailing_ws)) {
			enc[0] = (char)c;
			w = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			w = 3;
		}
		if (col + w > 75) {		/* soft line break */
			st_buf_putc(b, '=');
			st_buf_puts(b, eol);
			col = 0;
		}
		st_buf_put(b, enc, (size_t)w);
		col += w;
		p++;
	}
}

void
st_mime_put_b64(struct st_buf *b, const unsigned char *s, size_t n,
    const char *eol)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	int col = 0;
	char q[4];

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		st_buf_put(b, q, 4);
		col += 4;
		if (col >= 76 && i + 3 < n) {
			st_buf_puts(b, eol);
			col = 0;
		}
	}
	st_buf_puts(b, eol);
}

void
st_mime_put_field(struct st_buf *b, const char *name, const char *value,
    const char *eol)
{
	size_t col = strlen(name) + 1, wl;
	const char *p = value, *w;
	bool first = true;

	st_buf_puts(b, name);
	st_buf_puts(b, ":");
	/* words separated by blanks; folded before a word that would pass
	 * column 78 (the blank run becomes one space or a fold) */
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		wl = (size_t)(p - w);
		if (!first && col + 1 + wl > 78) {
			st_buf_puts(b, eol);
			st_buf_putc(b, '\t');
			col = 1;
		} else {
			st_buf_putc(b, ' ');
			col++;
		}
		st_buf_put(b, w, wl);
		col += wl;
		first = false;
	}
	st_buf_puts(b, eol);
}

bool
st_mime_is_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

void
st_mime_date(int64_t utc, int tz_min, char *buf, size_t size)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(utc + (int64_t)tz_min * 60);
	struct tm tm;
	int a = tz_min < 0 ? -tz_min : tz_min;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
	    days[tm.tm_wday % 7], tm.tm_mday, mons[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    tz_min < 0 ? '-' : '+', a / 60, a % 60);
}

char *
st_mime_field_safe(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, i;
	char *o;

	if (n > max)
		n = max;
	if ((o = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		o[i] = (c >= 32 && c < 127) || c == '\t' ? (char)c : '?';
	}
	o[n] = '\0';
	return o;
}

void
st_mime_put_display(struct st_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	while (p < e) {
		const unsigned char *run = p;
		size_t l;

		while (p < e && ((*p >= 32 && *p < 127) || *p == '\t'))
			p++;
		st_buf_put(b, (const char *)run, (size_t)(p - run));
		if (p >= e)
			break;
		if (*p == '\r' && p + 1 < e && p[1] == '\n') {
			st_buf_putc(b, '\n');
			p += 2;
		} else if (*p == '\r' || *p == '\n') {
			st_buf_putc(b, '\n');
			p++;
		} else if (*p >= 0x80 && (l = st_mime_utf8_valid(p, e)) > 0) {
			st_buf_put(b, (const char *)p, l);
			p += l;
		} else {
			st_buf_printf(b, "\\x%02x", *p);
			p++;
		}
	}
}

size_t
st_mime_utf8_valid(const unsigned char *p, const unsigned char *e)
{
	size_t len = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
	    (*p & 0xf8) == 0xf0 ? 4 : 0, k;

	if (len == 0 || (size_t)(e - p) < len)
		return 0;
	for (k = 1; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	if ((len == 2 && *p < 0xc2) ||
	    (len == 3 && *p == 0xe0 && p[1] < 0xa0) ||
	    (len == 3 && *p == 0xed && p[1] >= 0xa0) ||
	    (len == 4 && *p == 0xf0 && p[1] < 0x90) ||
	    (len == 4 && *p > 0xf4) ||
	    (len == 4 && *p == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

/* --- redaction ------------------------------------------------------- */

char *
st_report_redact(const char *p, size_t len, const char *addr,
    const char *with, size_t *outlen)
{
	struct st_buf b;
	size_t al = addr ? strlen(addr) : 0, i = 0, run = 0;

	st_buf_init(&b, len * 4 + 1024);
	if (with == NULL)
		with = ST_REPORT_REDACTED;
	if (al == 0) {
		st_buf_put(&b, p, len);
	} else {
		while (i + al <= len) {
			if (strncasecmp(p + i, addr, al) == 0 &&
			    memchr(p + i, '\0', al) == NULL) {
				st_buf_put(&b, p + run, i - run);
				st_buf_puts(&b, with);
				i += al;
				run = i;
			} else {
				i++;
			}
		}
		st_buf_put(&b, p + run, len - run);
	}
	if (b.failed) {
		st_buf_free(&b);
		return NULL;
	}
	return st_buf_take(&b, outlen);
}

/* --- ISO-2022-JP ----------------------------------------------------- */

/* Convert one piece (no newline) and return to ASCII at its end. */
static bool
jis_piece(iconv_t cd, const char *s, size_t n, struct st_buf *b)
{
	char out[1024], *op;
	size_t ol;
	char *ip = (char *)(uintptr_t)s;
	size_t il = n;

	while (il > 0) {
		op = out;
		ol = sizeof(out);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 &&
		    errno != E2BIG)
			return false;
		st_buf_put(b, out, (size_t)(op - out));
	}
	op = out;
	ol = sizeof(out);
	if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
		return false;
	st_buf_put(b, out, (size_t)(op - out));
	return true;
}

char *
st_report_to_iso2022jp(const char *utf8, size_t len, size_t *outlen)
{
	iconv_t cd = iconv_open("ISO-2022-JP", "UTF-8");
	const char *p = utf8, *e = utf8 + len, *nl;
	struct st_buf b;
	bool ok = true;

	if (cd == (iconv_t)-1)
		return NULL;
	st_buf_init(&b, len * 4 + 1024);
	while (p < e && ok) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		/* ESC and SO/SI in the text would change the decoder's
		 * state: not representable here */
		if (memchr(p, 0x1b, (size_t)(nl - p)) != NULL ||
		    memchr(p, 0x0e, (size_t)(nl - p)) != NULL ||
		    memchr(p, 0x0f, (size_t)(nl - p)) != NULL)
			ok = false;
		else
			ok = jis_piece(cd, p, (size_t)(nl - p), &b);
		if (nl < e)
			st_buf_putc(&b, '\n');
		p = nl + 1;
	}
	iconv_close(cd);
	if (!ok || b.failed) {
		st_buf_free(&b);
		return NULL;
	}
	return st_buf_take(&b, outlen);
}

/* Length of the UTF-8 sequence at p (1 for a stray byte). */
static size_t
u8len(const unsigned char *p, const unsigned char *e)
{
	size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
	    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 1;

	if ((size_t)(e - p) < n)
		n = 1;
	return n;
}

char *
st_report_encode_words(const char *utf8, const char *charset,
    const char *eol)
{
	const unsigned char *p = (const unsigned char *)utf8,
	    *e = p + strlen(utf8);
	bool jis = strcasecmp(charset, "ISO-2022-JP") == 0;
	iconv_t cd = (iconv_t)-1;
	struct st_buf b, chunk;
	bool first = true;
	/* raw bytes per word: 36 -> 48 base64 characters; with the
	 * "=?ISO-2022-JP?B?" wrapper the word stays under 75 octets */
	const size_t maxraw = 36;

	if (st_mime_is_ascii(utf8, strlen(utf8)))
		return strdup(utf8);
	if (jis && (cd = iconv_open("ISO-2022-JP", "UTF-8")) == (iconv_t)-1)
		return NULL;
	st_buf_init(&b, 1024 * 1024);
	while (p < e) {
		const unsigned char *q = p, *best = p;

		st_buf_init(&chunk, 1024 * 1024);
		/* grow the chunk one character at a time while it fits */
		while (q < e) {
			const unsigned char *nq = q + u8len(q, e);
			struct st_buf t;
			bool ok = true;
			size_t tl;

			if (jis) {
				st_buf_init(&t, 4096);
				iconv(cd, NULL, NULL, NULL, NULL);
				ok = jis_piece(cd, (const char *)p,
				    (size_t)(nq - p), &t);
				tl = t.len;
				st_buf_free(&t);
				if (!ok) {
					if (cd != (iconv_t)-1)
						iconv_close(cd);
					st_buf_free(&chunk);
					st_buf_free(&b);
					return NULL;
				}
			} else {
				tl = (size_t)(nq - p);
			}
			if (tl > maxraw && best > p)
				break;
			best = nq;
			q = nq;
			if (tl > maxraw)
				break;
		}
		if (jis) {
			iconv(cd, NULL, NULL, NULL, NULL);
			jis_piece(cd, (const char *)p, (size_t)(best - p),
			    &chunk);
		} else {
			st_buf_put(&chunk, (const char *)p, (size_t)(best - p));
		}
		if (!first) {
			st_buf_puts(&b, eol);
			st_buf_putc(&b, ' ');
		}
		first = false;
		st_buf_printf(&b, "=?%s?B?", jis ? "ISO-2022-JP" : "UTF-8");
		{
			struct st_buf enc;

			st_buf_init(&enc, 1024 * 1024);
			st_mime_put_b64(&enc, (const unsigned char *)chunk.p,
			    chunk.len, "");
			st_buf_put(&b, enc.p ? enc.p : "", enc.len);
			st_buf_free(&enc);
		}
		st_buf_puts(&b, "?=");
		st_buf_free(&chunk);
		p = best;
	}
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	if (b.failed) {
		st_buf_free(&b);
		return NULL;
	}
	return st_buf_take(&b, NULL);
}
