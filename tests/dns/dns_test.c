/*
 * dns_test.c - drive the dns module's API on addresses, for the
 * integration test (dns_test.py starts dnsmasq and compares).
 *
 * usage: dns_test [--resolver IP[:PORT]] [--dnsbl ZONE]... [--timeout MS]
 *                 [--cache FILE] [--repeat N] IP...
 *
 * Looks up all the IPs as one batch (st_dns_resolve) --repeat times and
 * prints, for the last round, one JSON line per IP in order:
 *   {"ip": "...", "dns": {"ptr": [...], "fcrdns": true|false|null,
 *    "listed": [{"zone": "...", "answer": "...", "txt": "..."}],
 *    "timed_out": false}}
 * then to standard error one "warning: ..." line per warning, a
 * "status: ..." line per round, and a final "stats: ..." line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spamtrace/spamtrace.h"
#include "spamtrace/dns.h"

static void
jstr(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	struct st_config cfg;
	struct st_dns *d;
	struct st_error err = { 0 };
	struct st_dns_query *q;
	struct st_dns_stats s;
	struct st_arena *a;
	const char *cache = NULL, *w;
	int i, repeat = 1, r;
	size_t n = 0, k, m;
	double t0;

	st_config_init(&cfg);
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (i + 1 >= argc)
			break;
		if (strcmp(argv[i], "--resolver") == 0)
			cfg.resolver = strdup(argv[++i]);
		else if (strcmp(argv[i], "--dnsbl") == 0)
			st_strlist_add(&cfg.dnsbl, argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0)
			cfg.dns_timeout_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "--cache") == 0)
			cache = argv[++i];
		else if (strcmp(argv[i], "--repeat") == 0)
			repeat = atoi(argv[++i]);
		else {
			fprintf(stderr, "dns_test: unknown option %s\n",
			    argv[i]);
			return 2;
		}
	}
	if (st_dns_new(&d, &cfg, &err) != ST_OK) {
		fprintf(stderr, "dns_test: %s\n", err.msg);
		return 2;
	}
	if (cache != NULL && st_dns_set_cache_file(d, cache, &err) != ST_OK) {
		fprintf(stderr, "dns_test: %s\n", err.msg);
		return 2;
	}
	q = calloc((size_t)argc, sizeof(*q));
	a = st_arena_new(0);
	if (q == NULL || a == NULL)
		return 2;
	for (r = 0; r < repeat; r++) {
		enum st_status st;

		st_arena_reset(a);
		for (n = 0, k = (size_t)i; k < (size_t)argc; k++, n++) {
			q[n].ip = argv[k];
			q[n].arena = a;
		}
		t0 = now_ms();
		st = st_dns_resolve(d, q, n, &err);
		fprintf(stderr, "status: %s%s%s (%.1f ms)\n", st_strerror(st),
		    st != ST_OK ? ": " : "", st != ST_OK ? err.msg : "",
		    now_ms() - t0);
	}
	for (k = 0; k < n; k++) {
		const struct st_dns_info *x = q[k].info;

		printf("{\"ip\": ");
		jstr(q[k].ip);
		printf(", \"dns\": ");
		if (x == NULL) {
			printf("null}\n");
			continue;
		}
		printf("{\"ptr\": [");
		for (m = 0; m < x->nptr; m++) {
			printf(m ? ", " : "");
			jstr(x->ptr[m]);
		}
		printf("], \"fcrdns\": %s, \"listed\": [",
		    x->fcrdns < 0 ? "null" : x->fcrdns ? "true" : "false");
		for (m = 0; m < x->nlisted; m++) {
			printf("%s{\"zone\": ", m ? ", " : "");
			jstr(x->listed[m].zone);
			printf(", \"answer\": ");
			jstr(x->listed[m].answer);
			printf(", \"txt\": ");
			jstr(x->listed[m].txt);
			printf("}");
		}
		printf("], \"timed_out\": %s}}\n",
		    x->timed_out ? "true" : "false");
	}
	while ((w = st_dns_next_warning(d)) != NULL)
		fprintf(stderr, "warning: %s\n", w);
	st_dns_get_stats(d, &s);
	fprintf(stderr, "stats: sent=%llu answered=%llu failed=%llu "
	    "cache_hits=%llu disk_hits=%llu rejected=%llu\n",
	    (unsigned long long)s.sent, (unsigned long long)s.answered,
	    (unsigned long long)s.failed, (unsigned long long)s.cache_hits,
	    (unsigned long long)s.disk_hits, (unsigned long long)s.rejected);
	fflush(stdout);
	st_dns_free(d);
	st_arena_free(a);
	free(q);
	st_config_free(&cfg);
	return 0;
}
