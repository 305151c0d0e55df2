/*
 * reason_test.c - the reason rules, one case per line of reasons.tsv:
 *	status <TAB> reply code <TAB> diagnostic text <TAB> expected reason
 * ("-" for an empty field), plus the status and reply-code finders and
 * the ccTLD table (sorted, known names).  Prints "N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/bounce.h"
#include "spamtrace/campaign.h"

static int passed, failed;

static void
check(const char *what, const char *got, const char *want)
{
	if ((got == NULL && want == NULL) || (got && want &&
	    strcmp(got, want) == 0)) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: got %s, want %s\n", what, got ? got : "(null)",
	    want ? want : "(null)");
}

static char *
field(char **p)
{
	char *s = *p, *t = strchr(s, '\t');

	if (t != NULL) {
		*t = '\0';
		*p = t + 1;
	} else
		*p = s + strlen(s);
	return strcmp(s, "-") == 0 ? "" : s;
}

int
main(int argc, char **argv)
{
	FILE *f;
	char line[4096], b[16];

	if (argc < 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: reason_test reasons.tsv\n");
		return 2;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *st, *rc, *tx, *want;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		st = field(&p);
		rc = field(&p);
		tx = field(&p);
		want = field(&p);
		check(tx, st_bounce_reason(st, rc, tx, strlen(tx)), want);
	}
	fclose(f);

	/* the code finders */
	check("status in 'said: 550 5.1.1 <a@b>'", st_bounce_find_status(
	    "said: 550 5.1.1 <a@b>", 21, b, sizeof(b)) ? b : NULL, "5.1.1");
	check("no status in an IP address", st_bounce_find_status(
	    "host 192.0.2.1 said", 19, b, sizeof(b)) ? b : NULL, NULL);
	check("failure code before 2.1.5", st_bounce_find_status(
	    "250 2.1.5 Ok ... 451 4.3.0 Error", 32, b, sizeof(b)) ? b :
	    NULL, "4.3.0");
	check("qmail (#5.5.0)", st_bounce_find_status("said 550 (#5.5.0)",
	    17, b, sizeof(b)) ? b : NULL, "5.5.0");
	check("reply code", st_bounce_find_reply_code("host x said: 552 "
	    "full", 21, b, sizeof(b)) ? b : NULL, "552");
	check("no reply code in a year", st_bounce_find_reply_code(
	    "on 2001-03-17", 13, b, sizeof(b)) ? b : NULL, NULL);

	/* ccTLDs */
	check("jp", st_cctld_country("venus.example.ac.jp"), "Japan");
	check("uk", st_cctld_country("mail.example.co.uk."), "United Kingdom");
	check("edu", st_cctld_country("voyager.example.edu"), "United States");
	check("com", st_cctld_country("mail.example.com"), NULL);
	check("ip", st_cctld_country("192.0.2.1"), NULL);
	check("bare", st_cctld_country("localhost"), NULL);
	check("za", st_cctld_country("xxxxxxx.co.za"), "South Africa");
	check("ve", st_cctld_country("mail.example.com.ve"), "Venezuela");

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
