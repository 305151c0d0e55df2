/*
 * date_test.c - st_date_parse over tests/core/dates.tsv: each row is the
 * input, the expected UTC time (or FAIL) and the expected zone text.
 *
 * Every input is also read a second time with ". " in front, which no
 * date in the standard form starts with: that sends it through the
 * word-by-word reader instead of the one-pass reader of the standard form,
 * and both must give the same answer, field for field.  The same check
 * is made on variants of each input (cut short, a byte changed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/date.h"

/* The two readers agree on in[0..n); prints and returns false if not. */
static bool
same_both_ways(const char *in, size_t n)
{
	char buf[1100];
	struct st_date a, b;
	bool oa, ob;

	if (n + 2 > sizeof(buf))
		return true;
	memcpy(buf, ". ", 2);
	memcpy(buf + 2, in, n);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	oa = st_date_parse(in, n, &a);
	ob = st_date_parse(buf, n + 2, &b);
	if (oa != ob || (oa && (a.utc != b.utc || a.tz_min != b.tz_min ||
	    a.tz_known != b.tz_known || a.tz_minus_zero != b.tz_minus_zero ||
	    strcmp(a.tz, b.tz) != 0))) {
		printf("FAIL '%.*s': the standard-form reader and the word "
		    "reader disagree (%d/%d)\n", (int)n, in, oa, ob);
		return false;
	}
	return true;
}

/* The input, each of its prefixes, and each one-byte change to a digit,
 * letter, sign, space or parenthesis, through both readers. */
static int
check_variants(const char *in)
{
	static const char subst[] = "09aZ+-( )\t:,";
	char v[1024];
	size_t n = strlen(in), i, k;
	int bad = 0, checks = 0;

	if (n >= sizeof(v))
		return 0;
	for (i = 0; i <= n; i++, checks++)
		bad += !same_both_ways(in, i);
	for (i = 0; i < n; i++)
		for (k = 0; subst[k] != '\0'; k++, checks++) {
			memcpy(v, in, n);
			v[i] = subst[k];
			bad += !same_both_ways(v, n);
		}
	return checks > 0 ? bad : 1;
}

int
main(int argc, char **argv)
{
	FILE *f;
	char line[1024];
	int n = 0, bad = 0;

	if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: date_test dates.tsv\n");
		return 2;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *in, *exp, *tz, *nl;
		struct st_date d;
		char iso[32];
		bool ok;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		in = line;
		if ((exp = strchr(in, '\t')) == NULL)
			continue;
		*exp++ = '\0';
		if ((tz = strchr(exp, '\t')) != NULL)
			*tz++ = '\0';
		else
			tz = "";
		n++;
		bad += check_variants(in);
		ok = st_date_parse(in, strlen(in), &d);
		if (strcmp(exp, "FAIL") == 0) {
			if (ok) {
				st_date_iso(d.utc, iso, sizeof(iso));
				printf("FAIL '%s': parsed as %s, expected failure\n",
				    in, iso);
				bad++;
			}
			continue;
		}
		if (!ok) {
			printf("FAIL '%s': not parsed, expected %s\n", in, exp);
			bad++;
			continue;
		}
		st_date_iso(d.utc, iso, sizeof(iso));
		if (strcmp(iso, exp) != 0 || strcmp(d.tz, tz) != 0) {
			printf("FAIL '%s': got %s %s, expected %s %s\n", in, iso,
			    d.tz, exp, tz);
			bad++;
		}
	}
	fclose(f);
	printf("%d passed, %d failed\n", n - bad, bad);
	return bad ? 1 : 0;
}
