/*
 * The commands that look at a DAG without running it: validate (check
 * files, print every error), plan (what is complete, what would run and
 * why, like make -n) and graph (the task graph as dot or JSON).  Also the
 * injectable clock every command shares: DAG_NOW pins "now" for tests.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "dag.h"
#include "graph.h"
#include "range.h"
#include "hash.h"
#include "status.h"
#include "task_kind.h"
#include "util.h"

/* validate --help: what the command does, after its usage. */
static const char validate_about[] =
	"Loads each DAG file and prints every error as "
	"file:line:column: message.\nExit 0 when all are valid, 2 "
	"otherwise.\n\n  --dags DIR   where DAG names are looked up "
	"(default ./dags)\n";

/* plan --help: what the command does, after its usage. */
static const char plan_about[] =
	"Prints every instance of the range (and the needs it "
	"pulls in from outside it)\nwith its state and the reason: "
	"done (target complete), run (target missing),\nwaiting (an "
	"external input is missing), blocked (a need is waiting),\n"
	"stale (done, but a need was made again or an input changed "
	"since; with\n--rerun-stale: run);\nthen a count per task.  "
	"Nothing is run.\n";

/* graph --help: what the command does, after its usage. */
static const char graph_about[] =
	"Prints the task graph: an edge from each need to the "
	"task that needs it,\nlabelled with its offset or range.\n";

int
cmd_validate(int argc, char **argv)
{
	struct cli_opts o;
	int i, rc = EXIT_OK;

	if (cli_opts_start("validate", validate_about, argc, argv, &o, &rc)) {
		cli_opts_release(&o);
		return rc;
	}
	if (!o.n_args) {
		cli_usage("validate", stderr);
		cli_opts_release(&o);
		return EXIT_USAGE;
	}
	for (i = 0; i < o.n_args; i++) {
		struct dag *dag = cli_load_dag(o.args[i], o.dags);

		if (!dag) {
			rc = EXIT_USAGE;
			continue;
		}
		printf("%s: ok (dag %s, %zu task%s)\n", dag->path, dag->name,
			dag->n_tasks, dag->n_tasks == 1 ? "" : "s");
		dag_free(dag);
	}
	cli_opts_release(&o);
	return rc;
}

/* ---- plan ---- */

/*
 * plan's word and reason for instance i of g.  hist, when there is a
 * history, is the status of the graph before --rerun-stale (possibly g
 * itself): a done instance it calls stale says so and why; one that
 * --rerun-stale redoes runs, "stale: " and why.
 */
static const char *
verdict(const struct graph *g, size_t i, const struct status *hist,
	struct strbuf *sb)
{
	const struct instance *in = &g->inst[i];
	long k;

	if (hist && in->redo) {
		k = status_find(hist, g->dag->tasks[in->task].name,
			g->parts[in->part].id);
		sb_adds(sb, "stale: ");
		if (k >= 0)
			status_reason(hist, (size_t)k, sb);
		return status_plan_label(in->state);
	}
	if (hist && hist->g == g && hist->inst[i].state == INST_STALE) {
		status_reason(hist, i, sb);
		return "stale";
	}
	status_graph_reason(g, i, sb);
	return status_plan_label(in->state);
}

struct counts {
	size_t n[4];	/* done, run, waiting, blocked */
};

static int
state_col(const struct instance *in)
{
	switch (in->state) {
	case INST_DONE: return 0;
	case INST_WAITING: return 2;
	case INST_BLOCKED: return 3;
	default: return 1;
	}
}

/*
 * Call each(arg, i, word, reason) for every instance i of g in order, with
 * plan's word and reason for it (verdict), and count it in c by task.
 */
static void
plan_each(const struct graph *g, const struct status *hist, struct counts *c,
	void (*each)(void *arg, size_t i, const char *word, const char *why),
	void *arg)
{
	struct strbuf sb;
	size_t i;

	sb_init(&sb);
	for (i = 0; i < g->n_inst; i++) {
		const struct instance *in = &g->inst[i];
		const char *word;

		sb_reset(&sb);
		word = verdict(g, i, hist, &sb);
		each(arg, i, word, sb.buf ? sb.buf : "");
		c[in->task].n[state_col(in)]++;
	}
	sb_release(&sb);
}

/* plan_text's columns: the widest partition and task names. */
struct text_widths {
	const struct graph *g;
	int pw, w;
};

static void
text_row(void *arg, size_t i, const char *word, const char *why)
{
	const struct text_widths *tw = arg;
	const struct instance *in = &tw->g->inst[i];

	printf("%-*s  %-*s  %-7s  %s%s\n", tw->pw, tw->g->parts[in->part].id,
		tw->w, tw->g->dag->tasks[in->task].name, word, why,
		in->requested ? "" : " (needed from outside the range)");
}

static void
plan_text(const struct graph *g, const struct status *hist, const char *from,
	const char *to)
{
	const struct dag *dag = g->dag;
	struct counts *c = xcalloc(dag->n_tasks + 1, sizeof(*c));
	struct counts total = { { 0 } };
	struct text_widths tw = { g, 10, 4 };
	size_t i, k, requested = 0;
	static const char *const heads[] = { "done", "run", "waiting", "blocked" };

	for (i = 0; i < dag->n_tasks; i++)
		if ((int)strlen(dag->tasks[i].name) > tw.w)
			tw.w = (int)strlen(dag->tasks[i].name);
	for (i = 0; i < g->n_parts; i++)
		if ((int)strlen(g->parts[i].id) > tw.pw)
			tw.pw = (int)strlen(g->parts[i].id);
	for (i = 0; i < g->n_inst; i++)
		requested += g->inst[i].requested;
	printf("plan for %s (%s, %s): %s .. %s, %zu instance%s requested, "
		"%zu in the plan\n\n", dag->name,
		dag->schedule == SCHEDULE_DAILY ? "daily" : "hourly",
		dag->timezone, from, to, requested, requested == 1 ? "" : "s",
		g->n_inst);
	plan_each(g, hist, c, text_row, &tw);
	for (i = 0; i < dag->n_tasks; i++)
		for (k = 0; k < 4; k++)
			total.n[k] += c[i].n[k];
	printf("\n%-*s  %7s  %7s  %7s  %7s\n", tw.w, "task", heads[0],
		heads[1], heads[2], heads[3]);
	for (i = 0; i < dag->n_tasks; i++) {
		size_t t = dag->topo[i];
		printf("%-*s  %7zu  %7zu  %7zu  %7zu\n", tw.w, dag->tasks[t].name,
			c[t].n[0], c[t].n[1], c[t].n[2], c[t].n[3]);
	}
	printf("%-*s  %7zu  %7zu  %7zu  %7zu\n", tw.w, "total", total.n[0],
		total.n[1], total.n[2], total.n[3]);
	free(c);
}

/*
 * Print v as an element of an array at depth 2 of plan_json's document:
 * jansson's own indented form, shifted right by four spaces.
 */
static void
put_element(json_t *v, int first)
{
	char *s = json_dumps(v, JSON_PRESERVE_ORDER | JSON_INDENT(2)), *p;

	fputs(first ? "\n    " : ",\n    ", stdout);
	/* JSON strings hold no raw line feed: each one is a line break. */
	for (p = s; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			fputs("    ", stdout);
	}
	free(s);
	json_decref(v);
}

/* A JSON string, as jansson writes it. */
static void
put_string(const char *s)
{
	json_t *v = json_string(s);
	char *d = json_dumps(v, JSON_ENCODE_ANY);

	fputs(d, stdout);
	free(d);
	json_decref(v);
}

static void
json_row(void *arg, size_t i, const char *word, const char *why)
{
	const struct graph *g = arg;
	const struct instance *in = &g->inst[i];

	put_element(json_pack("{s:s,s:s,s:s,s:b,s:o,s:s}",
		"task", g->dag->tasks[in->task].name,
		"partition", g->parts[in->part].id,
		"state", word,
		"requested", in->requested,
		"target", in->target ? json_string(in->target) : json_null(),
		"reason", why), i == 0);
}

/*
 * The plan as JSON, written as it goes: a plan of two centuries of hours
 * holds millions of instances, and a tree of them in memory before the
 * first byte would cost gigabytes.  The text is what json_dumps with an
 * indent of 2 makes of the whole document.
 */
static void
plan_json(const struct graph *g, const struct status *hist, const char *from,
	const char *to)
{
	const struct dag *dag = g->dag;
	struct counts *c = xcalloc(dag->n_tasks + 1, sizeof(*c));
	size_t i;

	fputs("{\n  \"dag\": ", stdout);
	put_string(dag->name);
	fputs(",\n  \"from\": ", stdout);
	put_string(from);
	fputs(",\n  \"to\": ", stdout);
	put_string(to);
	fputs(",\n  \"instances\": [", stdout);
	plan_each(g, hist, c, json_row, (void *)g);
	fputs(g->n_inst ? "\n  ],\n  \"summary\": [" : "],\n  \"summary\": [",
		stdout);
	for (i = 0; i < dag->n_tasks; i++) {
		size_t t = dag->topo[i];

		put_element(json_pack("{s:s,s:I,s:I,s:I,s:I}",
			"task", dag->tasks[t].name,
			"done", (json_int_t)c[t].n[0], "run", (json_int_t)c[t].n[1],
			"waiting", (json_int_t)c[t].n[2],
			"blocked", (json_int_t)c[t].n[3]), i == 0);
	}
	fputs(dag->n_tasks ? "\n  ]\n}\n" : "]\n}\n", stdout);
	free(c);
}

int
cmd_plan(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct partition *parts = NULL;
	struct graph *g = NULL, *g2 = NULL;
	struct status hist;
	struct hash redo;
	int stale;
	struct graph_options gopt = { 0 };
	struct err e;
	size_t n = 0;
	const char *from, *to;
	int rc = EXIT_USAGE;

	memset(&hist, 0, sizeof(hist));
	hash_init(&redo, NULL);
	err_clear(&e);
	if (cli_opts_start("plan", plan_about, argc, argv, &o, &rc))
		goto out;
	dag = cli_opts_range_dag("plan", &o, 1, &from, &to,
		"give one DAG and --date D, or --from A --to B");
	if (!dag)
		goto out;
	gopt.now = cli_now();
	if (dag_partitions(dag, from, to, gopt.now, &parts, &n, &e) < 0 ||
	    graph_build(dag, parts, n, &gopt, &g, &e) < 0) {
		fprintf(stderr, "dag-cli plan: ");
		err_print(&e, stderr);
		goto out;
	}
	if (cli_check_collisions("plan", g) < 0)
		goto out;
	/* The history says which done instances are stale. */
	stale = cli_stale_redo(g, cli_state_path(o.state), &redo, &hist, &e);
	if (stale < 0) {
		fprintf(stderr, "dag-cli plan: ");
		err_print(&e, stderr);
		goto out;
	}
	if (o.rerun_stale && stale > 0) {
		gopt.redo = &redo;
		if (graph_build(dag, parts, n, &gopt, &g2, &e) < 0) {
			fprintf(stderr, "dag-cli plan: ");
			err_print(&e, stderr);
			goto out;
		}
	}
	/* Show the range as partitions: "yesterday" becomes a date. */
	from = parts[0].id;
	to = parts[n - 1].id;
	if (o.json)
		plan_json(g2 ? g2 : g, hist.g ? &hist : NULL, from, to);
	else
		plan_text(g2 ? g2 : g, hist.g ? &hist : NULL, from, to);
	rc = EXIT_OK;
out:
	status_release(&hist);
	hash_release(&redo);
	graph_free(g2);
	graph_free(g);
	free(parts);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}

/* ---- graph ---- */

static void
offset_text(const struct dag *dag, int k, struct strbuf *sb)
{
	if (dag->schedule == SCHEDULE_DAILY)
		sb_addf(sb, "%+dd", k);
	else if (k % 24 == 0)
		sb_addf(sb, "%+dd", k / 24);
	else
		sb_addf(sb, "%+dh", k);
}

static void
need_label(const struct dag *dag, const struct need *nd, struct strbuf *sb)
{
	sb_reset(sb);
	if (nd->lo == 0 && nd->hi == 0)
		return;
	offset_text(dag, nd->lo, sb);
	if (nd->hi != nd->lo) {
		sb_adds(sb, "..");
		offset_text(dag, nd->hi, sb);
	}
}

static void
graph_dot(const struct dag *dag)
{
	struct strbuf sb;
	size_t i, k;

	sb_init(&sb);
	printf("digraph \"%s\" {\n\trankdir=LR;\n\tnode [shape=box];\n",
		dag->name);
	for (i = 0; i < dag->n_tasks; i++) {
		size_t t = dag->topo[i];
		printf("\t\"%s\" [label=\"%s\\n%s\"];\n", dag->tasks[t].name,
			dag->tasks[t].name, dag->tasks[t].kind->name);
	}
	for (i = 0; i < dag->n_tasks; i++) {
		size_t t = dag->topo[i];
		for (k = 0; k < dag->tasks[t].n_needs; k++) {
			const struct need *nd = &dag->tasks[t].needs[k];
			need_label(dag, nd, &sb);
			printf("\t\"%s\" -> \"%s\"", dag->tasks[nd->task].name,
				dag->tasks[t].name);
			if (sb.len)
				printf(" [label=\"%s\"]", sb.buf);
			printf(";\n");
		}
	}
	printf("}\n");
	sb_release(&sb);
}

char *
cmd_graph_json(const struct dag *dag)
{
	json_t *root = json_object(), *tasks = json_array();
	size_t i, k;
	char *s;

	for (i = 0; i < dag->n_tasks; i++) {
		const struct task *t = &dag->tasks[dag->topo[i]];
		json_t *o = json_object(), *needs = json_array(), *tg;

		for (k = 0; k < t->n_needs; k++)
			json_array_append_new(needs, json_pack("{s:s,s:i,s:i}",
				"task", dag->tasks[t->needs[k].task].name,
				"lo", t->needs[k].lo, "hi", t->needs[k].hi));
		if (t->target_type == TARGET_TABLE)
			tg = json_pack("{s:s}", "table", t->table);
		else if (t->target)
			tg = json_string(node_get_str(t->def, "target") ?
				node_get_str(t->def, "target") :
				node_get_str(t->def, t->kind->target_field));
		else
			tg = json_null();
		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "kind", json_string(t->kind->name));
		json_object_set_new(o, "description", t->description ?
			json_string(t->description) : json_null());
		json_object_set_new(o, "target", tg ? tg : json_null());
		json_object_set_new(o, "needs", needs);
		json_array_append_new(tasks, o);
	}
	json_object_set_new(root, "dag", json_string(dag->name));
	json_object_set_new(root, "schedule", json_string(
		dag->schedule == SCHEDULE_DAILY ? "daily" : "hourly"));
	json_object_set_new(root, "timezone", json_string(dag->timezone));
	json_object_set_new(root, "start", json_string(dag->start));
	json_object_set_new(root, "tasks", tasks);
	s = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(root);
	return s;
}

int
cmd_graph(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	int rc = EXIT_USAGE;

	if (cli_opts_start("graph", graph_about, argc, argv, &o, &rc))
		goto out;
	if (o.n_args != 1) {
		cli_usage("graph", stderr);
		goto out;
	}
	if (o.format && strcmp(o.format, "dot") && strcmp(o.format, "json") &&
	    strcmp(o.format, "svg")) {
		fprintf(stderr, "dag-cli graph: unknown format '%s'; expected dot, "
			"json or svg\n", o.format);
		goto out;
	}
	if (o.date && (!o.format || strcmp(o.format, "svg"))) {
		fprintf(stderr, "dag-cli graph: --date goes with --format svg\n");
		goto out;
	}
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	if (o.format && !strcmp(o.format, "svg")) {
		rc = cmd_graph_svg(dag, &o);
		goto out;
	}
	if (o.format && !strcmp(o.format, "json")) {
		char *s = cmd_graph_json(dag);

		printf("%s\n", s);
		free(s);
	} else {
		graph_dot(dag);
	}
	rc = EXIT_OK;
out:
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}
