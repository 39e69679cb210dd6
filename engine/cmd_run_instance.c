/*
 * dag-cli __run-instance FILE.json (hidden): run one resolved instance
 * here: a built-in kind in this process, a command under /bin/sh -c
 * with its target published where it ran.  The scheduler resolves an instance (fields
 * after templates, database, needs' targets) into JSON; this is the
 * worker that takes that JSON and nothing else, so an executor that
 * cannot fork the scheduler (a remote machine, a batch system) can start
 * `dag-cli __run-instance` there.  --print writes the JSON for one
 * instance, so the seam can be tested and debugged by hand.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dag.h"
#include "executor.h"
#include "graph.h"
#include "instance.h"
#include "range.h"
#include "scheduler.h"
#include "util.h"

static int
print_instance(struct cli_opts *o)
{
	struct dag *dag = NULL;
	struct graph *g = NULL;
	struct graph_options gopt = { 0 };
	struct partition p;
	struct err e;
	char *json = NULL;
	size_t i;
	int t, rc = EXIT_USAGE;

	err_clear(&e);
	dag = cli_load_dag(o->args[0], o->dags);
	if (!dag)
		return EXIT_USAGE;
	t = dag_task_index(dag, o->args[1]);
	if (t < 0 || cli_one_partition("__run-instance", dag, o->date, &p) < 0)
		goto out;
	gopt.now = cli_now();
	if (graph_build_range(dag, p.id, p.id, &gopt, &g, &e) < 0)
		goto fail;
	for (i = 0; i < g->n_inst; i++)
		if (g->inst[i].task == (uint32_t)t && g->inst[i].requested)
			break;
	json = i < g->n_inst ? instance_json(dag, g, i, gopt.now, &e) : NULL;
	if (!json)
		goto fail;
	printf("%s\n", json);
	rc = EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "dag-cli __run-instance: ");
	err_print(&e, stderr);
out:
	free(json);
	graph_free(g);
	dag_free(dag);
	return rc;
}

int
cmd_run_instance(int argc, char **argv)
{
	struct cli_opts o;
	struct err e;
	char *text;
	int rc = EXIT_USAGE;

	err_clear(&e);
	if (cli_opts_parse("__run-instance", argc, argv, &o) < 0)
		goto out;
	if (o.help || (o.print ? o.n_args != 2 || !o.date : o.n_args != 1)) {
		fprintf(o.help ? stdout : stderr, "usage: dag-cli __run-instance "
			"FILE.json\n       dag-cli __run-instance --print DAG TASK "
			"--date D\n\nRuns one resolved instance (a built-in kind in "
			"this process, a command\nunder /bin/sh -c, publishing its "
			"target): what a remote executor or a\nworker starts.  "
			"--print writes that JSON for an instance.\n");
		rc = o.help ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	if (o.print) {
		rc = print_instance(&o);
		goto out;
	}
	text = strcmp(o.args[0], "-") ? read_path(o.args[0], NULL) :
		read_stream(stdin, NULL);
	if (!text) {
		fprintf(stderr, "dag-cli __run-instance: cannot read '%s': %s\n",
			o.args[0], strerror(errno));
		goto out;
	}
	rc = instance_run_json(text, &e);
	if (rc < 0) {
		fprintf(stderr, "dag-cli __run-instance: ");
		err_print(&e, stderr);
		rc = EXIT_USAGE;
	}
	free(text);
out:
	cli_opts_release(&o);
	return rc;
}

int
cmd_worker(int argc, char **argv)
{
	if (argc > 1) {
		int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");

		fprintf(help ? stdout : stderr, "usage: dag-cli __worker (started by the "
			"scheduler, with its socket at fd 3)\n");
		return help ? EXIT_OK : EXIT_USAGE;
	}
	return worker_main();
}
