/*
 * fmt_test.c - st_fmt() (lib/util/fmt.c) gives what snprintf() gives:
 * every conversion it formats itself, NULL strings, precisions, extreme
 * integers, conversions it hands to the C library, and truncation at
 * every buffer size.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/fmt.h"

static int bad, checks;

/* Both formatters into buffers of every size from 0 to 80. */
#define SAME(...)	do {						\
	char a_[96], b_[96];						\
	size_t sz_;							\
	for (sz_ = 0; sz_ <= 80; sz_++) {				\
		int na_, nb_;						\
		memset(a_, 'x', sizeof(a_));				\
		memset(b_, 'x', sizeof(b_));				\
		na_ = st_fmt(a_, sz_, __VA_ARGS__);			\
		nb_ = snprintf(b_, sz_, __VA_ARGS__);			\
		checks++;						\
		if (na_ != nb_ || memcmp(a_, b_, sizeof(a_)) != 0) {	\
			printf("FAIL line %d, size %zu: st_fmt gave %d "\
			    "'%.*s', snprintf %d '%.*s'\n", __LINE__,	\
			    sz_, na_, (int)(sz_ ? sz_ - 1 : 0), a_, nb_,	\
			    (int)(sz_ ? sz_ - 1 : 0), b_);		\
			bad++;						\
			break;						\
		}							\
	}								\
} while (0)

int
main(void)
{
	const char *nul = NULL;

	SAME("plain text, no conversion");
	SAME("%s", "");
	SAME("%s and %s", "one", "two");
	SAME("100%% sure: %s%%", "yes");
	SAME("%.*s|", 3, "abcdef");
	SAME("%.*s|", 0, "abcdef");
	SAME("%.*s|", 10, "abc");
	SAME("%.*s|", -1, "abcdef");
	SAME("[%c%c]", 'a', 0x7f);
	SAME("%d %d %d %d", 0, -1, INT_MAX, INT_MIN);
	SAME("%u %u", 0u, UINT_MAX);
	SAME("%zu %zu", (size_t)0, SIZE_MAX);
	SAME("%ld %lu", LONG_MIN, ULONG_MAX);
	SAME("%lld %llu", LLONG_MIN, ULLONG_MAX);
	SAME("hop %d: %s (%s) said '%.*s'", 3, "mx.example.org",
	    "192.0.2.1", 4, "HELO yahoo.com");
	/* conversions the C library formats */
	SAME("%5d|%-6s|%x|%02u|%.2f", 42, "ab", 255u, 7u, 2.5);
	SAME("%s then %08.3f", "text", 3.14159);
	/* NULL strings, which glibc prints as "(null)" (or nothing when
	 * the precision is too short for it) */
	SAME("%s", nul);
	SAME("[%.*s]", 3, nul);
	SAME("[%.*s]", 6, nul);
	SAME("[%.*s]", 3, "(null)");
	printf("%d checks, %d failed\n", checks, bad);
	return bad ? 1 : 0;
}
