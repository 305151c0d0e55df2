/*
 * fuzz_rfc2047.c - libFuzzer target: decoding a header value for display.
 *
 * The whole input is one raw header value given to st_hdr_decode: RFC 2047
 * encoded words (B and Q, any charset name), raw ISO-2022-JP escapes, raw
 * Shift_JIS / EUC-JP / Windows-1252 bytes, NULs and folds.  The result must
 * be valid UTF-8 with no control characters (terminal escapes), bounded by
 * ST_MAX_DECODE_LEN times the worst expansion.
 */
#include "fuzz_common.h"

#include <glib.h>

#include "spamtrace/arena.h"
#include "spamtrace/limits.h"
#include "spamtrace/msg.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	struct st_arena *a = st_arena_new(64u * 1024 * 1024);
	char *d;
	size_t i, n;

	CHECK(a != NULL);
	st_library_init();
	if ((d = st_hdr_decode(a, buf, size)) != NULL) {
		n = strlen(d);
		CHECK(g_utf8_validate(d, (gssize)n, NULL));
		for (i = 0; i < n; i++)
			CHECK((unsigned char)d[i] >= 0x20 && d[i] != 0x7f);
	}
	st_arena_free(a);
	free(buf);
	return 0;
}
