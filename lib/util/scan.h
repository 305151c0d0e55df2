/*
 * scan.h - finding a byte that is usually near: the end of a header line,
 * a fold.  memchr() is built for long searches; for a line of a few dozen
 * bytes its set-up and exit cost more than the search, and a loop over
 * the lines calls it once per line.  st_scan_byte() looks at 16 bytes at
 * a time inline (SSE2) and leaves long runs to memchr().  Not installed:
 * lib/ files include it as "util/scan.h".
 */
#ifndef ST_UTIL_SCAN_H
#define ST_UTIL_SCAN_H

#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The first c in p[0..n), or NULL: memchr(p, c, n). */
static inline const char *
st_scan_byte(const char *p, size_t n, char c)
{
#ifdef __SSE2__
	const __m128i v = _mm_set1_epi8(c);
	size_t i;

	/* the first 64 bytes here, the rest (a long line) by memchr */
	for (i = 0; i + 16 <= n && i < 64; i += 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)(p + i)),
		    v));

		if (m != 0)
			return p + i + __builtin_ctz(m);
	}
	return memchr(p + i, c, n - i);
#else
	return memchr(p, c, n);
#endif
}

#endif
