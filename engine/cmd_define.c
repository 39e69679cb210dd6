/*
 * Placeholder: these commands are being built.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

int
cmd_validate(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		cli_usage("validate", stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dag-cli: 'validate' is not available yet\n");
	return EXIT_USAGE;
}

int
cmd_plan(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		cli_usage("plan", stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dag-cli: 'plan' is not available yet\n");
	return EXIT_USAGE;
}

int
cmd_graph(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		cli_usage("graph", stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dag-cli: 'graph' is not available yet\n");
	return EXIT_USAGE;
}
