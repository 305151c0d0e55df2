/*
 * cmd_bounces.c - placeholder until the bounces command lands.
 */
#include "cli.h"

int
cmd_bounces(int argc, char **argv)
{
	cli_warn("bounces: not implemented yet");
	return EXIT_USAGE;
}
