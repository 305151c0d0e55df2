/*
 * fuzz_smtp_reply.c - libFuzzer entry point for the SMTP reply parser
 * (lib/smtp/reply.c, st_smtp_reply_parse).
 *
 * The input is copied into an exact-size malloc'd buffer (no NUL after
 * it, so AddressSanitizer catches any read past the end) and parsed the
 * way the session does: replies one after another until the bytes run out
 * or the parser stops on garbage or a limit.  The first input byte picks a
 * small line cap now and then so the limit paths are fuzzed too.  Then the
 * line accessors are walked over every reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st_smtp_reply r;
	struct st_error err;
	size_t pos = 0, used, max_line = 0, i, n;
	char *buf;

	if (size > 0 && data[0] == 0xff)
		max_line = 16;
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	if (size)
		memcpy(buf, data, size);
	for (;;) {
		enum st_status st;

		st_smtp_reply_init(&r, max_line, 0);
		st = st_smtp_reply_parse(&r, buf + pos, size - pos, &used,
		    &err);
		pos += used;
		for (i = 0; i < r.nlines; i++) {
			const char *l = st_smtp_reply_line(&r, i, &n);
			const char *t = st_smtp_reply_text(&r, i, &n);

			if (l == NULL || t == NULL)
				abort();	/* every counted line exists */
		}
		if (st_smtp_reply_line(&r, r.nlines, &n) != NULL)
			abort();
		if (r.raw != NULL && r.raw[r.rawlen] != '\0')
			abort();
		st_smtp_reply_free(&r);
		if (st != ST_OK || used == 0 || pos >= size)
			break;
	}
	free(buf);
	return 0;
}
