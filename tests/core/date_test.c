/*
 * date_test.c - st_date_parse over tests/core/dates.tsv: each row is the
 * input, the expected UTC time (or FAIL) and the expected zone text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/date.h"

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
