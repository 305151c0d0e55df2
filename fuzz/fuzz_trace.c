/*
 * fuzz_trace.c - libFuzzer target: the whole trace of one message.
 *
 * st_msg_parse then st_trace_message (hops, trust boundary, origin,
 * source, relays, findings, contacts), with the default configuration or,
 * when the input's first byte is odd, one that trusts a network and names
 * a --me address (other code paths).  Checks: the hop count is within
 * ST_MAX_HOPS, every string the output would print is non-NULL.
 */
#include "fuzz_common.h"

#include "spamtrace/arena.h"
#include "spamtrace/config.h"
#include "spamtrace/limits.h"
#include "spamtrace/msg.h"
#include "spamtrace/trace.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	struct st_arena *a = st_arena_new(128u * 1024 * 1024);
	struct st_config cfg;
	struct st_msg m;
	struct st_trace t;
	struct st_error err;
	size_t i;

	CHECK(a != NULL);
	st_library_init();
	st_config_init(&cfg);
	if (size > 0 && (data[0] & 1)) {
		(void)st_config_add_trust(&cfg, "192.0.2.0/24", &err);
		(void)st_config_add_trust(&cfg, ".example.jp", &err);
		st_strlist_add(&cfg.me, "user@example.jp");
	}
	if (st_msg_parse(&m, a, buf, size) == ST_OK && m.nhdrs > 0 &&
	    st_trace_message(&m, &cfg, NULL, &t, &err) == ST_OK) {
		CHECK(t.nhops <= ST_MAX_HOPS);
		for (i = 0; i < t.nhops; i++) {
			const struct st_hop *h = &t.hops[i];

			CHECK(h->raw && h->ip && h->rdns && h->helo && h->by &&
			    h->ident && h->envfrom && h->id && h->auth &&
			    h->with && h->for_ && h->mta);
		}
		for (i = 0; i < t.nfindings; i++)
			CHECK(t.findings[i].code && t.findings[i].evidence &&
			    t.findings[i].explain);
		for (i = 0; i < t.ncontacts; i++)
			CHECK(t.contacts[i].address && t.contacts[i].for_);
		for (i = 0; i < t.nrelays; i++)
			CHECK(t.relays[i].role != NULL);
		CHECK(t.verdict != NULL);
	}
	st_config_free(&cfg);
	st_arena_free(a);
	free(buf);
	return 0;
}
