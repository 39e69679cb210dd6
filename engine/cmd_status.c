/*
 * dag-cli status DAG [--date D | --from A --to B] [--json]: each
 * instance's state as a task x partition grid, or as JSON with attempts,
 * counts and the reason.  The answer itself comes from the status module
 * (status.c), which the web API and plan share; this file only chooses
 * the range and prints.  Without a range it shows the partitions the
 * state database has seen, since "everything since start" would be
 * years of dashes.  A state database that exists but cannot be read is
 * an error (exit 2), never an empty grid that looks like "nothing ran".
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dag.h"
#include "graph.h"
#include "range.h"
#include "state.h"
#include "status.h"
#include "util.h"

static void
status_json(const struct status *s)
{
	const struct graph *g = s->g;
	json_t *root = json_object(), *list = json_array();
	size_t i;
	char *text;

	json_object_set_new(root, "dag", json_string(g->dag->name));
	for (i = 0; i < g->n_inst; i++)
		if (g->inst[i].requested)
			json_array_append_new(list, status_inst_json(s, i, 0));
	json_object_set_new(root, "instances", list);
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2) |
		JSON_REAL_PRECISION(6));
	printf("%s\n", text);
	free(text);
	json_decref(root);
}

/* ANSI colour of each state on a terminal. */
static const char *const colour[INST__COUNT] = {
	[INST_DONE] = "\033[32m",
	[INST_TODO] = "",
	[INST_WAITING] = "\033[33m",
	[INST_BLOCKED] = "\033[33m",
	[INST_RUNNING] = "\033[36m",
	[INST_FAILED] = "\033[31m",
	[INST_UPSTREAM_FAILED] = "\033[35m",
	[INST_STALE] = "\033[34m",
};

static void
status_grid(const struct status *s, int tty)
{
	const struct graph *g = s->g;
	const struct dag *dag = g->dag;
	size_t i, k, t, w = 15;
	int *col = xcalloc(dag->n_tasks + 1, sizeof(*col));
	/* One row's cells, by task index: a DAG may have any number. */
	const char **cell = xcalloc(dag->n_tasks + 1, sizeof(*cell));
	uint8_t *cs = xcalloc(dag->n_tasks + 1, sizeof(*cs));

	printf("%-13s", "partition");
	for (t = 0; t < dag->n_tasks; t++) {
		size_t len = strlen(dag->tasks[dag->topo[t]].name);

		col[dag->topo[t]] = (int)(len > w ? len : w);
		/* The last column is not padded: no trailing blanks. */
		printf(" %-*s", t + 1 < dag->n_tasks ? col[dag->topo[t]] : 0,
			dag->tasks[dag->topo[t]].name);
	}
	printf("\n");
	for (i = 0; i < g->n_parts; i++) {
		int any = 0;

		for (t = 0; t < dag->n_tasks; t++)
			cell[t] = NULL;
		for (k = s->part_first[i]; k < g->n_inst && g->inst[k].part == i;
		    k++) {
			if (!g->inst[k].requested)
				continue;
			cs[g->inst[k].task] = s->inst[k].state;
			cell[g->inst[k].task] = inst_state_name(s->inst[k].state);
			any = 1;
		}
		if (!any)
			continue;
		printf("%-13s", g->parts[i].id);
		for (t = 0; t < dag->n_tasks; t++) {
			size_t x = dag->topo[t];
			int wd = t + 1 < dag->n_tasks ? col[x] : 0;

			if (tty && cell[x])
				printf(" %s%-*s\033[0m", colour[cs[x]], wd,
					cell[x]);
			else
				printf(" %-*s", wd, cell[x] ? cell[x] : "-");
		}
		printf("\n");
	}
	free(cs);
	free(cell);
	free(col);
}

static void
status_help(void)
{
	cli_usage("status", stdout);
	printf("\nPrints each instance's state: done (target exists), "
		"failed, missing,\nwaiting (external input), running (leased "
		"by a live run), upstream_failed,\nstale (done, but a need was "
		"made again or an input changed since).\nWithout a range: the "
		"partitions the state database has seen.\n");
}

/*
 * Open the state database read-only.  1 opened, 0 there is none yet
 * (nothing has run: every instance is simply missing), negative when it
 * exists but cannot be read (e filled): damaged, or from a newer dag-cli.
 */
static int
open_history(struct state *st, const char *path, struct err *e)
{
	int rc = state_open(st, path, 1, e);

	if (rc == -ENOENT) {
		err_clear(e);
		return 0;
	}
	return rc < 0 ? rc : 1;
}

/*
 * A history that cannot be read because a page of the database is
 * damaged: say so and go on with the targets alone (they are the truth;
 * the next run moves the file aside).  1 when that is the case, with the
 * database closed.  A file that is not a database at all stays an error.
 */
static int
history_damaged(struct state *st, const char *path, const struct err *e)
{
	if (state_damaged(st) != STATE_DAMAGED)
		return 0;
	fprintf(stderr, "dag-cli status: warning: state database '%s' is "
		"damaged (%s); showing the targets only, without history (the "
		"next run moves it aside)\n", path, e->msg);
	state_release(st);
	return 1;
}

/* A history that cannot be read is a usage-level error: exit 2. */
static int
history_error(const char *path, const struct err *e)
{
	fprintf(stderr, "dag-cli status: cannot read the state database "
		"'%s': ", path);
	err_print(e, stderr);
	return EXIT_USAGE;
}

int
cmd_status(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct partition *parts = NULL;
	struct graph *g = NULL;
	struct graph_options gopt = { 0 };
	struct state st;
	struct status s;
	struct err e;
	char *first = NULL, *last = NULL;
	const char *from, *to, *path;
	size_t n = 0;
	int rc = EXIT_USAGE, have_state = 0;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	memset(&s, 0, sizeof(s));
	if (cli_opts_parse("status", argc, argv, &o) < 0)
		goto out;
	if (o.help) {
		status_help();
		rc = EXIT_OK;
		goto out;
	}
	if (o.n_args != 1 || (!o.from != !o.to) || (o.date && o.from)) {
		fprintf(stderr, "dag-cli status: give one DAG, and --date D or "
			"--from A --to B or neither\n");
		cli_usage("status", stderr);
		goto out;
	}
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	gopt.now = cli_now();
	path = cli_state_path(o.state);
	have_state = open_history(&st, path, &e);
	if (have_state < 0 && history_damaged(&st, path, &e)) {
		have_state = 0;
		err_clear(&e);
	}
	if (have_state < 0) {
		rc = history_error(path, &e);
		goto out;
	}
	from = o.date ? o.date : o.from;
	to = o.date ? o.date : o.to;
	if (!from) {
		if (have_state && state_partition_span(&st, dag->name, &first,
		    &last, &e) == 0) {
			from = first;
			to = last;
		} else if (have_state && e.code && e.code != -ENOENT &&
		    !history_damaged(&st, path, &e)) {
			rc = history_error(path, &e);
			goto out;
		} else {
			if (have_state && e.code && e.code != -ENOENT)
				have_state = 0;
			from = to = "today";
		}
		err_clear(&e);
	}
	if (dag_partitions(dag, from, to, gopt.now, &parts, &n, &e) < 0 ||
	    graph_build(dag, parts, n, &gopt, &g, &e) < 0)
		goto fail;
	if (status_build(&s, g, have_state ? &st : NULL, gopt.now * 1000,
	    &e) < 0) {
		if (!have_state || !history_damaged(&st, path, &e)) {
			rc = history_error(path, &e);
			goto out;
		}
		status_release(&s);
		memset(&s, 0, sizeof(s));
		err_clear(&e);
		if (status_build(&s, g, NULL, gopt.now * 1000, &e) < 0)
			goto fail;
	}
	if (o.json)
		status_json(&s);
	else
		status_grid(&s, isatty(1));
	rc = EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "dag-cli status: ");
	err_print(&e, stderr);
	rc = e.code == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
out:
	status_release(&s);
	state_release(&st);
	free(first);
	free(last);
	graph_free(g);
	free(parts);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}
