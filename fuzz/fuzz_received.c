/*
 * fuzz_received.c - libFuzzer target: one Received header value.
 *
 * The input, copied into an exact-size buffer with no NUL, goes through
 * st_received_parse.  Every string of the hop must be non-NULL; raw is
 * always kept; the ip, when set, must be an address st_ip_normalise reads
 * back to itself; no field may hold a control character.
 */
#include "fuzz_common.h"

#include "spamtrace/arena.h"
#include "spamtrace/received.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static void
check_str(const char *s)
{
	CHECK(s != NULL);
	for (; *s; s++)
		CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct st_arena *a;
	char *buf = fuzz_copy(data, size);
	struct st_hop h;

	if (a == NULL && (a = st_arena_new(0)) == NULL)
		abort();
	if (st_received_parse(a, buf, size, &h)) {
		const char *f[] = { h.rdns, h.helo, h.by, h.ident, h.envfrom,
		    h.id, h.auth, h.with, h.for_, h.mta };
		size_t i;

		CHECK(h.raw != NULL);
		CHECK(h.ip != NULL);
		for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			check_str(f[i]);
		if (h.ip[0]) {
			char back[64];

			CHECK(st_ip_normalise(h.ip, strlen(h.ip), back,
			    sizeof(back)));
			CHECK(strcmp(back, h.ip) == 0);
		}
		CHECK(h.mta[0] != '\0');
	}
	st_arena_reset(a);
	free(buf);
	return 0;
}
