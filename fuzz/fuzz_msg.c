/*
 * fuzz_msg.c - libFuzzer target: the header scanner and display decoding.
 *
 * Scans the input as a message (st_msg_parse), then unfolds and decodes
 * every field it found (st_hdr_unfold, st_hdr_decode, st_addr_extract,
 * st_date_parse on Date) and checks the scanner's invariants: every span
 * lies inside the buffer, the body offset is within it, the header count
 * within ST_MAX_HEADERS.  A broken invariant aborts (a finding).
 */
#include "fuzz_common.h"

#include "spamtrace/arena.h"
#include "spamtrace/date.h"
#include "spamtrace/limits.h"
#include "spamtrace/msg.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	struct st_arena *a = st_arena_new(64u * 1024 * 1024);
	struct st_msg m;
	size_t i;

	st_library_init();
	CHECK(a != NULL);
	if (st_msg_parse(&m, a, buf, size) == ST_OK) {
		CHECK(m.body_off <= size);
		CHECK(m.nhdrs <= ST_MAX_HEADERS);
		for (i = 0; i < m.nhdrs; i++) {
			const struct st_header *h = &m.hdrs[i];
			size_t n;
			char *u, *d;

			CHECK(h->name >= buf && h->name + h->name_len <=
			    buf + size);
			CHECK(h->value >= buf && h->value + h->value_len <=
			    buf + size);
			if (i >= 64)	/* decoding is the slow part */
				continue;
			u = st_hdr_unfold(a, h->value, h->value_len, &n);
			CHECK(u == NULL || n <= ST_MAX_HEADER_VALUE);
			d = st_hdr_decode(a, h->value, h->value_len);
			if (d != NULL)
				(void)st_addr_extract(a, d, strlen(d));
			(void)st_addr_extract(a, h->value, h->value_len);
		}
		(void)st_msg_count(&m, "Received");
		(void)st_msg_decoded(&m, "Subject");
		(void)st_msg_unfolded(&m, "Message-ID");
		{
			const struct st_header *h = st_msg_get(&m, "Date", 0);
			struct st_date dt;

			if (h != NULL)
				(void)st_date_parse(h->value, h->value_len,
				    &dt);
		}
	}
	st_arena_free(a);
	free(buf);
	return 0;
}
