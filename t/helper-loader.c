/*
 * Loader subcommands of t/helper:
 *
 *	dag parts FILE FROM TO		one partition a line: id, start, end
 *	dag step FILE PARTITION K	the partition K steps away, or "before start"
 *	dag resolve FILE TASK PARTITION	the resolved target and fields (JSON)
 *	dag graph FILE FROM TO [N]	build the graph N times; print counts
 *	dag batch			commands from stdin, each answer ended
 *					by a line "."; "load FILE" picks the DAG,
 *					then "parts FROM TO", "step ID K" and
 *					"target TASK ID" (t/tz-check.py drives it)
 *
 * DAG_NOW pins "now" (engine/clock.h), as for dag-cli.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "clock.h"
#include "dag.h"
#include "graph.h"
#include "node.h"
#include "util.h"

int helper_loader(int argc, char **argv);

static struct dag *
load(const char *path)
{
	struct errs errs = { 0 };
	struct dag *dag = NULL;

	if (dag_load(path, &dag, &errs) < 0)
		errs_print(&errs, stderr);
	errs_release(&errs);
	return dag;
}

static int
parts(struct dag *dag, int argc, char **argv)
{
	struct partition *p = NULL;
	struct partition_info info;
	struct err e;
	size_t n, i;

	if (argc < 3 || dag_partitions(dag, argv[1], argv[2], cli_now(), &p, &n,
	    &e) < 0) {
		if (argc >= 3)
			err_print(&e, stdout);
		return 1;
	}
	for (i = 0; i < n; i++) {
		dag_partition_info(dag, &p[i], &info);
		printf("%s %s %s\n", p[i].id, info.start_iso, info.end_iso);
	}
	free(p);
	return 0;
}

static int
step(struct dag *dag, int argc, char **argv)
{
	struct partition *p = NULL, q;
	struct err e;
	size_t n;
	int rc;

	if (argc < 3 || dag_partitions(dag, argv[1], argv[1], cli_now(), &p, &n,
	    &e) < 0 || n != 1) {
		free(p);
		return 1;
	}
	rc = dag_partition_step(dag, &p[0], atoi(argv[2]), &q);
	if (rc == -ENOENT)
		printf("no such day (%s)\n", q.id);
	else if (rc < 0)
		printf("before start (%s)\n", q.id);
	else
		printf("%s\n", q.id);
	free(p);
	return 0;
}

static int
resolve(struct dag *dag, int argc, char **argv)
{
	struct partition *p = NULL;
	struct node *fields = NULL;
	struct graph_options opt = { 0 };
	struct graph *g = NULL;
	struct resolve_env env;
	char *target = NULL, *json;
	struct err e;
	size_t n;
	int task;

	err_clear(&e);
	if (argc < 3 || (task = dag_task_index(dag, argv[1])) < 0 ||
	    dag_partitions(dag, argv[2], argv[2], cli_now(), &p, &n, &e) < 0) {
		printf("bad arguments: %s\n", e.msg);
		return 1;
	}
	/* As the scheduler does: needs answered from the instance graph. */
	opt.now = cli_now();
	if (graph_build(dag, p, 1, &opt, &g, &e) < 0) {
		printf("graph: %s\n", e.msg);
		free(p);
		return 1;
	}
	graph_resolve_env(g, &env);
	if (dag_resolve(dag, (size_t)task, &p[0], &env, &fields, &target,
	    &e) < 0) {
		printf("error: %s\n", e.msg);
		graph_free(g);
		free(p);
		return 1;
	}
	graph_free(g);
	printf("target: %s\n", target ? target : "(none)");
	json = node_to_json(fields);
	printf("%s\n", json);
	free(json);
	free(target);
	node_free(fields);
	free(p);
	return 0;
}

static int
graph(struct dag *dag, int argc, char **argv)
{
	struct partition *p = NULL;
	struct graph_options opt = { 0 };
	struct graph *g = NULL;
	struct err e;
	size_t n, i, done = 0;
	int rounds = argc > 3 ? atoi(argv[3]) : 1, r;
	int64_t t0;

	if (argc < 3 || dag_partitions(dag, argv[1], argv[2], cli_now(), &p, &n,
	    &e) < 0)
		return 1;
	opt.now = cli_now();
	t0 = clock_ms();
	for (r = 0; r < rounds; r++) {
		graph_free(g);
		if (graph_build(dag, p, n, &opt, &g, &e) < 0) {
			err_print(&e, stdout);
			free(p);
			return 1;
		}
	}
	for (i = 0; i < g->n_inst; i++)
		done += g->inst[i].state == INST_DONE;
	printf("%zu instances, %zu done\n", g->n_inst, done);
	fprintf(stderr, "%.1f ms per build\n",
		(double)(clock_ms() - t0) / rounds);
	graph_free(g);
	free(p);
	return 0;
}

static int
target(struct dag *dag, int argc, char **argv)
{
	struct partition *p = NULL;
	char *t = NULL;
	struct err e;
	size_t n;
	int task;

	err_clear(&e);
	if (argc < 3 || (task = dag_task_index(dag, argv[1])) < 0 ||
	    dag_partitions(dag, argv[2], argv[2], cli_now(), &p, &n, &e) < 0 ||
	    dag_resolve_target(dag, (size_t)task, &p[0], NULL, &t, &e) < 0)
		printf("error: %s\n", e.msg);
	else
		printf("%s\n", t ? t : "(none)");
	free(t);
	free(p);
	return 0;
}

/* One command a line from stdin; see the top of the file. */
static int
batch(void)
{
	struct dag *dag = NULL;
	char line[4096];

	while (fgets(line, sizeof(line), stdin)) {
		char *argv[8];
		int argc = 0;
		char *s = strtok(line, " \n");

		while (s && argc < 8) {
			argv[argc++] = s;
			s = strtok(NULL, " \n");
		}
		if (argc == 2 && !strcmp(argv[0], "load")) {
			dag_free(dag);
			dag = load(argv[1]);
		} else if (!dag || argc < 1) {
			printf("error: no DAG loaded\n");
		} else if (!strcmp(argv[0], "parts")) {
			parts(dag, argc, argv);
		} else if (!strcmp(argv[0], "step")) {
			if (step(dag, argc, argv))
				printf("error\n");
		} else if (!strcmp(argv[0], "target")) {
			target(dag, argc, argv);
		}
		printf(".\n");
	}
	dag_free(dag);
	return 0;
}

int
helper_loader(int argc, char **argv)
{
	struct dag *dag;
	int rc = 2;

	if (argc == 2 && !strcmp(argv[1], "batch"))
		return batch();
	if (argc < 3) {
		fprintf(stderr, "usage: helper dag parts|step|resolve|"
			"graph FILE ARGS\n");
		return 2;
	}
	dag = load(argv[2]);
	if (!dag)
		return 2;
	if (!strcmp(argv[1], "parts"))
		rc = parts(dag, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "step"))
		rc = step(dag, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "resolve"))
		rc = resolve(dag, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "graph"))
		rc = graph(dag, argc - 2, argv + 2);
	dag_free(dag);
	return rc;
}
