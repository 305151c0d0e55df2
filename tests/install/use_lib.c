/*
 * use_lib.c - a program outside the tree that uses the installed library
 * through its public header and pkg-config, as a user would.
 */
#include <stdio.h>
#include <string.h>

#include <spamtrace/spamtrace.h>

int
main(void)
{
	static const char msg[] =
	    "Received: from localhost (d102.GtokyoFL38.vectant.ne.jp "
	    "[202.215.137.102])\n\tby mx.example.jp (8.13.4/8.13.4) with SMTP "
	    "id k23BseD16587; Fri, 3 Mar 2006 20:54:40 +0900 (JST)\n"
	    "Subject: test\n\nbody\n";
	struct st_arena *a = st_arena_new(0);
	struct st_msg m;
	struct st_trace t;
	struct st_config cfg;
	struct st_error err;

	st_library_init();
	st_config_init(&cfg);
	if (a == NULL || st_msg_parse(&m, a, msg, strlen(msg)) != ST_OK ||
	    st_trace_message(&m, &cfg, NULL, &t, &err) != ST_OK)
		return 1;
	int ok = t.origin.present && strcmp(t.origin.ip, "202.215.137.102") == 0;

	printf("origin %s\n", t.origin.present ? t.origin.ip : "none");
	st_arena_free(a);	/* the trace lived in it: read it before */
	st_config_free(&cfg);
	return ok ? 0 : 1;
}
