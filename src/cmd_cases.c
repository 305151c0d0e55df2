/*
 * cmd_cases.c - placeholder until the cases command lands.
 */
#include "cli.h"

int
cmd_cases(int argc, char **argv)
{
	cli_warn("cases: not implemented yet");
	return EXIT_USAGE;
}
