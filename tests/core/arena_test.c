/*
 * arena_test.c - the per-message arena: alignment, zeroing, the ceiling,
 * big objects, and reuse across resets (the sanitizer suite's leak check
 * sees any block lost between messages).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "spamtrace/arena.h"

static int fails, checks;

#define CHECK(c, ...) do { checks++; if (!(c)) { fails++; \
	printf("FAIL " __VA_ARGS__); printf("\n"); } } while (0)

int
main(void)
{
	struct st_arena *a = st_arena_new(1024 * 1024);
	size_t i, k;
	char *p;

	CHECK(a != NULL, "arena_new");
	for (k = 0; k < 200; k++) {
		/* messages of varying size: small pieces, one big object */
		for (i = 0; i < (k % 2 ? 300 : 20) + k; i++) {
			p = st_arena_alloc(a, 1000);
			CHECK(p != NULL && ((uintptr_t)p & 15) == 0 && p[0] == 0 &&
			    p[999] == 0, "alloc %zu/%zu aligned and zeroed", k, i);
			if (p != NULL)
				memset(p, 0xab, 1000);
		}
		p = st_arena_alloc(a, 100000);
		CHECK(p != NULL && p[99999] == 0, "big object %zu", k);
		st_arena_reset(a);
	}
	/* the ceiling: an arena of 1 MB refuses what would pass it */
	for (i = 0; i < 2000 && st_arena_alloc(a, 1000) != NULL; i++)
		;
	CHECK(i < 2000 && i > 900, "ceiling reached after %zu KB", i);
	CHECK(st_arena_alloc(a, 2 * 1024 * 1024) == NULL, "over-size refused");
	st_arena_reset(a);
	CHECK(st_arena_alloc(a, 1000) != NULL, "usable after reset");
	p = st_arena_strndup(a, "abc\0def", 7);
	CHECK(p != NULL && memcmp(p, "abc\0def", 8) == 0, "strndup keeps NULs");
	st_arena_free(a);
	printf("%d passed, %d failed\n", checks - fails, fails);
	return fails ? 1 : 0;
}
