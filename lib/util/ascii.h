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
#include <stdint.h>
#include <string.h>

static inline unsigned char
st_ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* The ASCII capitals of the eight bytes x lowered, other bytes as they
 * are (no carry crosses a byte: each sum stays below 0x100). */
static inline uint64_t
st_ascii_lower8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101u;
	uint64_t low7 = x & (0x7f * ones);
	uint64_t gt_z = low7 + (0x7f - 'Z') * ones;	/* bit 7: above 'Z' */
	uint64_t ge_a = low7 + (0x80 - 'A') * ones;	/* bit 7: 'A' or above */
	uint64_t upper = ~x & (ge_a ^ gt_z) & (0x80 * ones);

	return x | upper >> 2;
}

/* The n (at most 8) bytes at s as a word, the rest zeros: a constant-size
 * memcpy, which the compiler inlines (a variable one is a call). */
static inline uint64_t
st_ascii_load8(const char *s, size_t n)
{
	unsigned char b[8] = { 0 };
	uint64_t x;
	size_t i;

	if (n >= 8)
		memcpy(b, s, 8);
	else
		for (i = 0; i < n; i++)
			b[i] = (unsigned char)s[i];
	memcpy(&x, b, 8);
	return x;
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
