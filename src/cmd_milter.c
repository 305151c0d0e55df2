/*
 * cmd_milter.c - placeholder until the milter command lands.
 */
#include "cli.h"

int
cmd_milter(int argc, char **argv)
{
	cli_warn("milter: not implemented yet");
	return EXIT_USAGE;
}
