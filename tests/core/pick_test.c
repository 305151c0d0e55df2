/*
 * pick_test.c - st_msg_pick(): the first field of each name, in any case,
 * NULL for a name not there, and the count of each name, the same as
 * st_msg_get() and st_msg_count() give one name at a time.
 */
#include <stdio.h>
#include <string.h>

#include "spamtrace/arena.h"
#include "spamtrace/msg.h"

int
main(void)
{
	static const char text[] =
	    "received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	    "From: first@example.org\r\n"
	    "RECEIVED: from c by d; Mon, 1 Jan 2024 00:00:01 +0000\r\n"
	    "X-Received: not a Received field\r\n"
	    "from: second@example.org\r\n"
	    "Subject: hello\r\n"
	    " folded\r\n"
	    "Received: from e by f; Mon, 1 Jan 2024 00:00:02 +0000\r\n"
	    "\r\n"
	    "body\r\n";
	static const char *const names[] = { "Received", "From", "Subject",
	    "To", "Date" };
	enum { N = sizeof(names) / sizeof(names[0]) };
	const struct st_header *out[N];
	size_t counts[N], i;
	struct st_arena *a = st_arena_new(0);
	struct st_msg m;
	int bad = 0;

	if (a == NULL || st_msg_parse(&m, a, text, strlen(text)) != ST_OK) {
		printf("FAIL: parse\n");
		return 1;
	}
	st_msg_pick(&m, names, N, out, counts);
	for (i = 0; i < N; i++) {
		if (out[i] != st_msg_get(&m, names[i], 0)) {
			printf("FAIL %s: not the field st_msg_get gives\n",
			    names[i]);
			bad++;
		}
		if (counts[i] != st_msg_count(&m, names[i])) {
			printf("FAIL %s: count %zu, st_msg_count %zu\n",
			    names[i], counts[i], st_msg_count(&m, names[i]));
			bad++;
		}
	}
	if (counts[0] != 3 || counts[1] != 2 || counts[2] != 1 ||
	    out[3] != NULL || out[4] != NULL || out[0] != &m.hdrs[0] ||
	    out[1] != &m.hdrs[1]) {
		printf("FAIL: expected 3 Received, 2 From, 1 Subject, no To or "
		    "Date, the first of each\n");
		bad++;
	}
	/* without counts, and with nothing asked */
	st_msg_pick(&m, names, 1, out, NULL);
	if (out[0] != &m.hdrs[0]) {
		printf("FAIL: one name without counts\n");
		bad++;
	}
	st_msg_pick(&m, names, 0, out, NULL);
	st_arena_free(a);
	printf("%s\n", bad ? "failed" : "ok");
	return bad ? 1 : 0;
}
