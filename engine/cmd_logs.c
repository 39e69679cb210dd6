/*
 * dag-cli logs DAG TASK --date D [--attempt N]: print the log of an
 * instance's latest attempt (or attempt N).  The log is a file the
 * scheduler wrote beside the state database, so this only asks the
 * database where it is and copies it out: a log is readable while its
 * attempt still runs, and a lost database row says so instead of guessing
 * a path.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dag.h"
#include "range.h"
#include "state.h"
#include "util.h"

int
cmd_logs(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct partition p;
	struct state st;
	struct err e;
	char *path = NULL, buf[65536];
	long attempt = 0;
	int rc = EXIT_USAGE, at = 0;
	size_t got;
	FILE *fp;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	if (cli_opts_parse("logs", argc, argv, &o) < 0)
		goto out;
	if (o.help) {
		cli_usage("logs", stdout);
		printf("\nPrints the log of an instance's latest attempt (or "
			"attempt N): the command's\nstdout and stderr, and why "
			"it failed.\n");
		rc = EXIT_OK;
		goto out;
	}
	if (o.n_args != 2 || !o.date) {
		fprintf(stderr, "dag-cli logs: give a DAG, a TASK and --date D\n");
		cli_usage("logs", stderr);
		goto out;
	}
	if (o.attempt && cli_parse_count("logs", "--attempt", o.attempt, 1,
	    &attempt) < 0)
		goto out;
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	if (dag_task_index(dag, o.args[1]) < 0) {
		fprintf(stderr, "dag-cli logs: DAG '%s' has no task '%s'\n",
			dag->name, o.args[1]);
		goto out;
	}
	if (cli_one_partition("logs", dag, o.date, &p) < 0)
		goto out;
	rc = EXIT_FAILED;
	if (state_open(&st, cli_state_path(o.state), 1, &e) < 0 ||
	    (e.code = state_attempt_log(&st, dag->name, o.args[1], p.id,
	    (int)attempt, &path, &at, &e)) < 0) {
		if (e.code == -ENOENT)
			fprintf(stderr, "dag-cli logs: no %s of %s %s is "
				"recorded\n", attempt ? "such attempt" : "attempt",
				o.args[1], p.id);
		else
			err_print(&e, stderr);
		goto out;
	}
	fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "dag-cli logs: cannot open '%s': %s\n", path,
			strerror(errno));
		goto out;
	}
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, got, stdout);
	fclose(fp);
	rc = EXIT_OK;
out:
	free(path);
	state_release(&st);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}

