/*
 * fuzz_common.h - helpers shared by the libFuzzer entry points of fuzz/.
 *
 * fuzz_copy() gives each target its input in an exact-size malloc'd
 * buffer with no NUL terminator, so AddressSanitizer catches any read one
 * byte past the end (a parser that relies on NUL termination).  Header
 * only: every target is one .c file plus this.
 */
#ifndef SPAMTRACE_FUZZ_COMMON_H
#define SPAMTRACE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size copy; never NULL (malloc(0) may be NULL: 1 byte then, but
 * the caller is still given size 0). */
static inline char *
fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (p == NULL)
		abort();
	if (size)
		memcpy(p, data, size);
	return p;
}

#endif
