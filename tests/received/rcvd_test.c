/*
 * rcvd_test.c - drive st_received_parse() from a table.
 *
 * Usage:
 *	rcvd_test [file.tsv]	read "key<TAB>value[<TAB>...]" lines (value
 *				with \n, \t and \\ escapes, or CSV-quoted),
 *				print one TSV row of hop fields per line
 *	rcvd_test --stress	hostile shapes: 100,000 unbalanced
 *				parentheses, a 20 MB value, deep nesting,
 *				64 KB values of repeated shapes; exit 0 when
 *				each is handled within its time
 *	rcvd_test --bench file.tsv N
 *				parse every value N times, print the rate
 *
 * Output columns: key ip rdns helo by ident envfrom id auth with for tls
 * mta parsed local rdns_unverified ip_from_helo date tz.  Booleans are 0/1,
 * an absent date is "-".  The comparison lives in the Python scripts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spamtrace/arena.h"
#include "spamtrace/date.h"
#include "spamtrace/received.h"

static void
put(const char *s)
{
	for (; *s; s++) {
		if (*s == '\t')
			fputs("\\t", stdout);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\\')
			fputs("\\\\", stdout);
		else
			putchar(*s);
	}
}

static void
row(const char *key, const struct st_hop *h)
{
	const char *f[] = { h->ip, h->rdns, h->helo, h->by, h->ident,
	    h->envfrom, h->id, h->auth, h->with, h->for_ };
	size_t i;
	char iso[32];

	put(key);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		putchar('\t');
		put(f[i]);
	}
	printf("\t%d\t", h->tls);
	put(h->mta);
	printf("\t%d\t%d\t%d\t%d\t", h->parsed, h->local, h->rdns_unverified,
	    h->ip_from_helo);
	if (h->has_date) {
		st_date_iso(h->date.utc, iso, sizeof(iso));
		printf("%s\t%s\n", iso, h->date.tz[0] ? h->date.tz : "-");
	} else
		printf("-\t-\n");
}

/* Undo the table's escapes in place; returns the new length. */
static size_t
unescape(char *v, size_t n)
{
	size_t i, o = 0;

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		/* CSV quoting: "..." with "" for a quote */
		for (i = 1; i + 1 < n; i++) {
			if (v[i] == '"' && i + 2 < n && v[i + 1] == '"')
				i++;
			v[o++] = v[i];
		}
		n = o;
		o = 0;
	}
	for (i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n) {
			char c = v[i + 1];

			if (c == 'n' || c == 't' || c == '\\' || c == 'r' ||
			    c == '0') {
				v[o++] = c == 'n' ? '\n' : c == 't' ? '\t' :
				    c == 'r' ? '\r' : c == '0' ? '\0' : '\\';
				i++;
				continue;
			}
		}
		v[o++] = v[i];
	}
	return o;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse one hostile value (exact-size buffer), report the time. */
static bool
stress_one(const char *name, const char *v, size_t n, double limit)
{
	struct st_arena *a = st_arena_new(0);
	struct st_hop h;
	char *buf = malloc(n ? n : 1);
	double t0, dt;
	bool ok;

	if (a == NULL || buf == NULL)
		return false;
	memcpy(buf, v, n);
	t0 = now();
	ok = st_received_parse(a, buf, n, &h);
	dt = now() - t0;
	printf("%s: %zu bytes, %.3f s, returned %d, parsed %d, ip '%s'\n",
	    name, n, dt, ok, h.parsed, ok ? h.ip : "");
	free(buf);
	st_arena_free(a);
	return ok && dt < limit;
}

static int
stress(void)
{
	size_t n = 20u * 1024 * 1024, i;
	char *v = malloc(n);
	bool ok = true;
	const char *pre = "from a.example (b.example [192.0.2.1]) by c ";

	if (v == NULL)
		return 1;
	/* 100,000 unbalanced '(' after a readable start */
	memcpy(v, pre, strlen(pre));
	memset(v + strlen(pre), '(', 100000);
	ok &= stress_one("unbalanced-open", v, strlen(pre) + 100000, 2.0);
	memset(v + strlen(pre), ')', 100000);
	ok &= stress_one("unbalanced-close", v, strlen(pre) + 100000, 2.0);
	/* deep balanced nesting, past ST_MAX_COMMENT_DEPTH */
	for (i = 0; i < 50000; i++) {
		v[i] = '(';
		v[100000 - 1 - i] = ')';
	}
	ok &= stress_one("deep-nesting", v, 100000, 2.0);
	/* a 20 MB value: words, brackets, semicolons, NULs, folds */
	for (i = 0; i < n; i++) {
		static const char pat[] =
		    "from x ([1.2.3.4]) by y\0 with (id ; for [;\r\n\t\"";

		v[i] = pat[i % (sizeof(pat) - 1)];
	}
	ok &= stress_one("20MB-mixed", v, n, 5.0);
	memset(v, 'a', n);
	ok &= stress_one("20MB-one-word", v, n, 5.0);
	memset(v, '[', n);
	ok &= stress_one("20MB-brackets", v, n, 5.0);
	for (i = 0; i < n; i++)
		v[i] = "Mon, 1 Jan 2001 ;"[i % 17];
	ok &= stress_one("20MB-dates", v, n, 5.0);
	for (i = 0; i < n; i++)
		v[i] = i % 2 ? ' ' : '(';
	ok &= stress_one("20MB-spaced-parens", v, n, 5.0);
	ok &= stress_one("empty", "", 0, 1.0);
	/* just under the unfold cap (ST_MAX_HEADER_VALUE): the parser itself
	 * sees all of these */
	n = 65000;
	for (i = 0; i < n; i++)
		v[i] = i % 2 ? ' ' : '(';
	ok &= stress_one("64K-spaced-open-parens", v, n, 1.0);
	for (i = 0; i < n; i++)
		v[i] = "[1.2.3.4] "[i % 10];
	ok &= stress_one("64K-address-words", v, n, 1.0);
	for (i = 0; i < n; i++)
		v[i] = "from x by y with z id w for v; "[i % 31];
	ok &= stress_one("64K-clauses", v, n, 1.0);
	for (i = 0; i < n; i++)
		v[i] = "from h (n [1.2.3.4] (may be forged (deep "[i % 41];
	ok &= stress_one("64K-nested-rdns", v, n, 1.0);
	for (i = 0; i < n; i++)
		v[i] = "(HELO x) helo= ident= AUTH: authenticated "[i % 42];
	ok &= stress_one("64K-one-comment-markers", v, n, 1.0);
	v[0] = '(';
	for (i = 1; i < n; i++)
		v[i] = "Mon, 1 Jan 2001 "[i % 16];
	ok &= stress_one("64K-dates-in-comment", v, n, 1.0);
	free(v);
	printf("%s\n", ok ? "stress: ok" : "stress: FAILED");
	return ok ? 0 : 1;
}

/* Parse every value of a table `rounds` times; print headers per second. */
static int
bench(const char *path, int rounds)
{
	FILE *fp = fopen(path, "rb");
	char *line = NULL, **vals = NULL;
	size_t cap = 0, nv = 0, *lens = NULL, i;
	ssize_t len;
	struct st_arena *a = st_arena_new(0);
	double t0, dt;
	long count = 0;
	int r;

	if (fp == NULL || a == NULL)
		return 2;
	while ((len = getline(&line, &cap, fp)) != -1) {
		char *tab = strchr(line, '\t'), *end;

		if (tab == NULL)
			continue;
		if ((end = strchr(tab + 1, '\t')) != NULL)
			*end = '\0';
		else if ((end = strchr(tab + 1, '\n')) != NULL)
			*end = '\0';
		vals = realloc(vals, (nv + 1) * sizeof(*vals));
		lens = realloc(lens, (nv + 1) * sizeof(*lens));
		if (vals == NULL || lens == NULL)
			return 2;
		vals[nv] = strdup(tab + 1);
		lens[nv] = unescape(vals[nv], strlen(vals[nv]));
		nv++;
	}
	fclose(fp);
	t0 = now();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nv; i++) {
			struct st_hop h;

			if (!st_received_parse(a, vals[i], lens[i], &h))
				return 2;
			count++;
			st_arena_reset(a);
		}
	dt = now() - t0;
	printf("%ld headers in %.3f s: %.0f headers/s, %.2f us each\n",
	    count, dt, count / dt, dt * 1e6 / count);
	for (i = 0; i < nv; i++)
		free(vals[i]);
	free(vals);
	free(lens);
	free(line);
	st_arena_free(a);
	return 0;
}

int
main(int argc, char **argv)
{
	FILE *fp = stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct st_arena *a;

	if (argc > 1 && strcmp(argv[1], "--stress") == 0)
		return stress();
	if (argc > 3 && strcmp(argv[1], "--bench") == 0)
		return bench(argv[2], atoi(argv[3]));
	if (argc > 1 && (fp = fopen(argv[1], "rb")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	if ((a = st_arena_new(0)) == NULL)
		return 2;
	while ((len = getline(&line, &cap, fp)) != -1) {
		char *tab, *v, *end, *buf;
		size_t n;
		struct st_hop h;

		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		v = tab + 1;
		if ((end = strchr(v, '\t')) != NULL)
			*end = '\0';
		n = unescape(v, strlen(v));
		/* exact-size copy: the parser must not read past it */
		if ((buf = malloc(n ? n : 1)) == NULL)
			return 2;
		memcpy(buf, v, n);
		if (!st_received_parse(a, buf, n, &h)) {
			fprintf(stderr, "%s: arena exhausted\n", line);
			return 2;
		}
		row(line, &h);
		free(buf);
		st_arena_reset(a);
	}
	free(line);
	st_arena_free(a);
	if (fp != stdin)
		fclose(fp);
	return 0;
}
