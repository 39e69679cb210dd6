/*
 * Placeholder: these commands are being built.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

int
cmd_run(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		cli_usage("run", stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dag-cli: 'run' is not available yet\n");
	return EXIT_USAGE;
}

int
cmd_backfill(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		cli_usage("backfill", stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dag-cli: 'backfill' is not available yet\n");
	return EXIT_USAGE;
}

int
cmd_status(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		cli_usage("status", stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dag-cli: 'status' is not available yet\n");
	return EXIT_USAGE;
}

int
cmd_logs(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		cli_usage("logs", stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dag-cli: 'logs' is not available yet\n");
	return EXIT_USAGE;
}

int
cmd_clear(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		cli_usage("clear", stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dag-cli: 'clear' is not available yet\n");
	return EXIT_USAGE;
}
