/*
 * cmd_probe.c - placeholder until the probe command lands.
 */
#include "cli.h"

int
cmd_probe(int argc, char **argv)
{
	cli_warn("probe: not implemented yet");
	return EXIT_USAGE;
}
