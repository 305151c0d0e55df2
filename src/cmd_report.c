/*
 * cmd_report.c - placeholder until the report command lands.
 */
#include "cli.h"

int
cmd_report(int argc, char **argv)
{
	cli_warn("report: not implemented yet");
	return EXIT_USAGE;
}
