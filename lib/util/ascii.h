/*
 * ascii.h - ASCII case-insensitive comparison and search for the
 * library's hot paths (keywords, host names, header values).
 *
 * strncasecmp() and strcasestr() fold by the locale and cost a call per
 * use (strcasestr() a two-way setup per call); everything compared here
 * is ASCII text of the mail protocols, and bytes outside ASCII compare
 * as themselves, as they do in the C and UTF-8 locales.  Not installed:
 * lib/ files include it as "util/ascii.h".
 */
#ifndef ST_UTIL_ASCII_H
#define ST_UTIL_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline unsigned char
st_ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* a[0..n) equals b[0..n) ignoring ASCII case. */
static inline bool
st_ascii_ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i] && st_ascii_lower((unsigned char)a[i]) !=
		    st_ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * The first place of nd[0..nn) in h[0..hn) ignoring ASCII case, or NULL.
 * Candidates are found with memchr() for each case of the first byte
 * (each search resumed only when passed), then compared.
 */
static inline const char *
st_ascii_memcasemem(const char *h, size_t hn, const char *nd, size_t nn)
{
	const char *p = h, *e, *a = NULL, *b = NULL, *q;
	unsigned char lo, up;

	if (nn == 0)
		return h;
	if (hn < nn)
		return NULL;
	e = h + (hn - nn) + 1;		/* candidates are in [h, e) */
	lo = st_ascii_lower((unsigned char)nd[0]);
	up = lo >= 'a' && lo <= 'z' ? (unsigned char)(lo & ~0x20) : lo;
	while (p < e) {
		if (a != e && (a == NULL || a < p) &&
		    (a = memchr(p, lo, (size_t)(e - p))) == NULL)
			a = e;
		if (up == lo)
			b = e;
		else if (b != e && (b == NULL || b < p) &&
		    (b = memchr(p, up, (size_t)(e - p))) == NULL)
			b = e;
		q = a < b ? a : b;
		if (q == e)
			return NULL;
		if (st_ascii_ieq(q + 1, nd + 1, nn - 1))
			return q;
		p = q + 1;
	}
	return NULL;
}

/* strcasestr() for ASCII: NUL-terminated h and nd. */
static inline const char *
st_ascii_strcasestr(const char *h, const char *nd)
{
	return st_ascii_memcasemem(h, strlen(h), nd, strlen(nd));
}

#endif
