/*
 * dag-cli's entry point: find the subcommand and hand it the arguments.
 * Only main() exits; every command returns its status.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "task_kind.h"
#include "util.h"

const struct cli_command cli_commands[] = {
	/*
	 * Each command lists exactly the options it accepts: the parser
	 * refuses the others and --help prints these (t/t0000).
	 */
	{ "validate", "dags state param at", cmd_validate, "DAG...", "check DAG files; print every error", 0, 1 },
	{ "plan", "dags state date from to json param rerun-stale at", cmd_plan,
		"DAG --date D | --from A --to B [--rerun-stale] [--at REV]",
		"show what is complete, what would run, and why", 0, 1 },
	{ "run", "dags state date jobs force rerun-stale json fsync param executor partition account sbatch-option at", cmd_run,
		"DAG --date D [-j N] [--force TASK] [--rerun-stale] [--at REV]",
		"make one partition's targets exist", 0, 1 },
	{ "backfill", "dags state from to days-back jobs force rerun-stale json reverse fsync param executor partition account sbatch-option at",
		cmd_backfill,
		"DAG --from A --to B | --days-back N [-j N] [--reverse] [--rerun-stale] [--at REV]",
		"make the targets of every partition in a range exist", 0, 1 },
	{ "status", "dags state date from to json param task only compact", cmd_status,
		"DAG [--date D | --from A --to B] [--task NAME] [--only STATE] [--compact] [--json]",
		"print the task x partition grid" },
	{ "logs", "dags state date attempt param", cmd_logs, "DAG TASK --date D [--attempt N]",
		"print an attempt's log" },
	{ "clear", "dags state date from to downstream yes param", cmd_clear, "DAG TASK --date D [--downstream] [--yes]",
		"remove targets so they are made again" },
	{ "graph", "dags state date format param", cmd_graph, "DAG [--format dot|json|svg] [--date D]",
		"print the task graph" },
	{ "serve", "dags state listen token-file web", cmd_serve,
		"[--listen 127.0.0.1:8642] [--token-file PATH] [--web DIR]",
		"serve the web UI, the JSON API and /metrics" },
	{ "metrics", "dags state param", cmd_metrics, "DAG...",
		"print the DAGs' metrics in the Prometheus text format" },
	{ "kinds", "", cmd_kinds, "[KIND]", "list task kinds and their fields" },
	{ "scheduler", "dags state jobs", cmd_scheduler, "[--dags DIR] [--state PATH] [-j N]",
		"run each DAG's partitions as they fall due, until SIGTERM", 0, 1 },
	{ "__run-instance", "dags state date print", cmd_run_instance, "FILE.json",
		"run one resolved built-in instance in this process", 1 },
	{ "__worker", "", cmd_worker, "",
		"run built-in instances sent by the scheduler on fd 3", 1 },
	{ NULL, NULL, NULL, NULL, NULL, 0, 0 },
};

static void
usage(FILE *fp)
{
	const struct cli_command *c;

	fprintf(fp, "usage: dag-cli COMMAND [ARGS]\n\n"
		"Runs daily and hourly data pipelines written as YAML files.\n\n"
		"Commands:\n");
	for (c = cli_commands; c->name; c++)
		if (!c->hidden)
			fprintf(fp, "  %-9s %s\n", c->name, c->summary);
	fprintf(fp, "\n'dag-cli COMMAND --help' describes a command; "
		"'man dag-cli' the YAML format.\n");
}

/*
 * "dag-cli help CMD" is "dag-cli CMD --help" (each command prints its own
 * longer help); "dag-cli help" the list of commands.
 */
static int
help(const char *name)
{
	const struct cli_command *c;
	const char *near;
	char *argv[3];

	if (!name) {
		usage(stdout);
		return EXIT_OK;
	}
	for (c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name)) {
			argv[0] = (char *)c->name;
			argv[1] = (char *)"--help";
			argv[2] = NULL;
			return c->fn(2, argv);
		}
	near = cli_command_nearest(name);
	fprintf(stderr, "dag-cli help: no command '%s'%s%s%s\n", name,
		near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	const struct cli_command *c;
	const char *near;

	/*
	 * SQLite's memory statistics take a global mutex on every allocation;
	 * nothing here reads them, and a bulk load allocates per row.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return help(argc > 2 ? argv[2] : NULL);
	if (!strcmp(argv[1], "--version")) {
		printf("dag-cli %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (c = cli_commands; c->name; c++)
		if (!strcmp(c->name, argv[1])) {
			cli_set_load_warnings(c->load_warnings);
			return c->fn(argc - 1, argv + 1);
		}
	near = cli_command_nearest(argv[1]);
	if (near) {
		fprintf(stderr, "dag-cli: unknown command '%s'; did you mean "
			"'%s'?\n", argv[1], near);
		return EXIT_USAGE;
	}
	fprintf(stderr, "dag-cli: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
