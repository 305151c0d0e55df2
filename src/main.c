/*
 * main.c - the spamtrace program: dispatch to one subcommand.
 *
 * Each subcommand lives in its own cmd_*.c and uses only the public API
 * of libspamtrace.  Exit statuses are those of CONTRACT.md.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} commands[] = {
	{ "trace",   cmd_trace,   "trace messages to their origin" },
	{ "bounces", cmd_bounces, "read bounces and sum up a joe-job campaign" },
	{ "probe",   cmd_probe,   "test a suspected open relay over SMTP" },
	{ "report",  cmd_report,  "write (and send) abuse reports" },
	{ "cases",   cmd_cases,   "list and update the case file" },
	{ "milter",  cmd_milter,  "run as a Sendmail/Postfix milter" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: spamtrace COMMAND [OPTIONS] ...\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\n'spamtrace COMMAND --help' shows the options of one "
	    "command; spamtrace(1) has everything.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("spamtrace %s\n", ST_VERSION);
		return EXIT_OK;
	}
	st_library_init();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "spamtrace: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
