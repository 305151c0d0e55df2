/*
 * fuzz_bounce.c - libFuzzer entry point for the bounce reader.
 *
 * Copies the input into an exact-size malloc'd buffer (no NUL after it,
 * so a read past the end is caught by ASan), scans it as a message, reads
 * it as a bounce, and when it carries an original, parses that and runs
 * the trace on it with the bouncing system as the trusted top hop.
 */
#include "fuzz_common.h"

#include "spamtrace/spamtrace.h"
#include "spamtrace/bounce.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct st_arena *a;
	static struct st_config cfg;
	static int ready;
	struct st_msg m, om;
	struct st_bounce b;
	struct st_trace t;
	char *buf;

	if (!ready) {
		st_library_init();
		st_config_init(&cfg);
		a = st_arena_new(0);
		ready = 1;
	}
	if (a == NULL || size > ST_MAX_MESSAGE_SIZE)
		return 0;
	buf = fuzz_copy(data, size);
	st_arena_reset(a);
	if (st_msg_parse(&m, a, buf, size) == ST_OK && m.nhdrs > 0 &&
	    st_bounce_parse(&m, &b, NULL) == ST_OK && b.orig != NULL)
		(void)st_bounce_trace_original(&m, &b, &cfg, &om, &t, NULL);
	free(buf);
	return 0;
}
