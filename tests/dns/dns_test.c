/*
 * dns_test.c - drive the dns module's API on addresses, for the
 * integration test (dns_test.py starts dnsmasq and compares).
 *
 * usage: dns_test [--resolver IP[:PORT]] [--dnsbl ZONE]... [--timeout MS]
 *                 [--cache FILE] [--repeat N] IP...
 *        dns_test [options] --eml FILE...
 *
 * With --eml each FILE is one message: all are traced, then looked up as
 * one batch with st_dns_lookup_traces(), and one line per FILE is printed:
 *   {"file": "...", "origin": "ip" | null, "dns": {...} | null}
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

static void
info_json(const struct st_dns_info *x)
{
	size_t m;

	if (x == NULL) {
		printf("null");
		return;
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
	printf("], \"timed_out\": %s}", x->timed_out ? "true" : "false");
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n == cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (nb == NULL)
				break;
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

/* --eml: trace each file, then one st_dns_lookup_traces() for all. */
static int
eml_mode(struct st_dns *d, const struct st_config *cfg, char **files,
    size_t n)
{
	struct st_trace *tr = calloc(n, sizeof(*tr)), **tp;
	struct st_arena **ar = calloc(n, sizeof(*ar));
	char **bufs = calloc(n, sizeof(*bufs));
	struct st_error err = { 0 };
	enum st_status st;
	size_t i;

	tp = calloc(n, sizeof(*tp));
	if (tr == NULL || ar == NULL || bufs == NULL || tp == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		struct st_msg m;
		size_t len = 0;

		ar[i] = st_arena_new(0);
		bufs[i] = slurp(files[i], &len);
		if (ar[i] == NULL || bufs[i] == NULL ||
		    st_msg_parse(&m, ar[i], bufs[i], len) != ST_OK ||
		    st_trace_message(&m, cfg, NULL, &tr[i], &err) != ST_OK) {
			fprintf(stderr, "dns_test: %s: cannot trace\n",
			    files[i]);
			return 2;
		}
		tp[i] = &tr[i];
	}
	st = st_dns_lookup_traces(d, tp, ar, n, &err);
	fprintf(stderr, "status: %s%s%s\n", st_strerror(st),
	    st != ST_OK ? ": " : "", st != ST_OK ? err.msg : "");
	for (i = 0; i < n; i++) {
		printf("{\"file\": ");
		jstr(files[i]);
		printf(", \"origin\": ");
		if (tr[i].origin.present)
			jstr(tr[i].origin.ip);
		else
			printf("null");
		printf(", \"dns\": ");
		info_json(tr[i].origin.present ? tr[i].origin.dns : NULL);
		printf("}\n");
		st_arena_free(ar[i]);
		free(bufs[i]);
	}
	free(tr);
	free(tp);
	free(ar);
	free(bufs);
	return 0;
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
	int i, repeat = 1, r, rc = 0;
	bool eml = false;
	size_t n = 0, k;
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
		else if (strcmp(argv[i], "--eml") == 0)
			eml = true;
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
	if (eml) {
		rc = eml_mode(d, &cfg, argv + i, (size_t)(argc - i));
		repeat = 0;
	}
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
		printf("{\"ip\": ");
		jstr(q[k].ip);
		printf(", \"dns\": ");
		info_json(q[k].info);
		printf("}\n");
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
	return rc;
}
