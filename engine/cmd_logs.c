/*
 * dag-cli logs DAG TASK --date D [--attempt N]: print the log of an
 * instance's latest attempt (or attempt N).  The log is a file the
 * scheduler wrote beside the state database, so this only asks the
 * database where it is and copies it out: a log is readable while its
 * attempt still runs, and a lost database row says so instead of guessing
 * a path.
 *
 * An instance with no attempt has no log, but it has a reason, and that
 * is what the user came for: logs then asks status (engine/status.c)
 * why it did not run, and for an upstream_failed one names the need that
 * failed and where that need's log is.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dag.h"
#include "graph.h"
#include "range.h"
#include "state.h"
#include "status.h"
#include "util.h"

/* logs --help: what the command does, after its usage. */
static const char logs_about[] =
	"Prints the log of an instance's latest attempt (or "
	"attempt N): the command's\nstdout and stderr between "
	"time-stamped lines saying when it started and\nhow it "
	"ended.  An instance that has not run says why: an "
	"upstream_failed\none names the need that failed and its "
	"log.\n";

/*
 * For upstream_failed instance i of s: the failed need it traces back
 * to and that need's latest log, as two lines of text into sb.
 */
static void
failed_need(const struct status *s, size_t i, struct state *st,
	struct strbuf *sb)
{
	const struct graph *g = s->g;
	const struct instance *c;
	const char *task, *part;
	char *path = NULL;
	int at = 0;
	struct err e;

	if (s->inst[i].cause == STATUS_NO_CAUSE)
		return;
	c = &g->inst[s->inst[i].cause];
	task = g->dag->tasks[c->task].name;
	part = g->parts[c->part].id;
	err_clear(&e);
	if (st && state_attempt_log(st, g->dag->name, task, part, 0, &path,
	    &at, &e) == 0)
		sb_addf(sb, "\n%s %s failed (attempt %d); its log: %s\n"
			"(dag-cli logs %s %s --date %s)", task, part, at, path,
			g->dag->name, task, part);
	free(path);
}

/*
 * No attempt of (task, p) is recorded: say what it is and why (its
 * state and reason, per status).  st may be NULL (no state database yet).
 */
static void
explain_no_attempt(const struct dag *dag, const char *task,
	const struct partition *p, struct state *st)
{
	struct graph *g = NULL;
	struct graph_options gopt = { 0 };
	struct status s;
	struct strbuf sb;
	struct err e;
	long i;

	err_clear(&e);
	memset(&s, 0, sizeof(s));
	sb_init(&sb);
	gopt.now = cli_now();
	if (graph_build_range(dag, p->id, p->id, &gopt, &g, &e) < 0 ||
	    status_build(&s, g, st, gopt.now * 1000, &e) < 0 ||
	    (i = status_find(&s, task, p->id)) < 0) {
		fprintf(stderr, "dag-cli logs: no attempt of %s %s is "
			"recorded\n", task, p->id);
		goto out;
	}
	status_reason(&s, (size_t)i, &sb);
	if (s.inst[i].state == INST_UPSTREAM_FAILED)
		failed_need(&s, (size_t)i, st, &sb);
	sb_addc(&sb, '\0');
	fprintf(stderr, "dag-cli logs: no attempt of %s %s is recorded, so "
		"there is no log; it is %s: %s\n", task, p->id,
		inst_state_name(s.inst[i].state), sb.buf);
out:
	sb_release(&sb);
	status_release(&s);
	graph_free(g);
}

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
	int rc = EXIT_USAGE, at = 0, opened;
	size_t got;
	FILE *fp;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	if (cli_opts_start("logs", logs_about, argc, argv, &o, &rc))
		goto out;
	if (o.n_args != 2 || !o.date) {
		cli_usage_error("logs", "give a DAG, a TASK and --date D");
		goto out;
	}
	if (o.attempt && cli_parse_count("logs", "--attempt", o.attempt, 1,
	    &attempt) < 0)
		goto out;
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	if (cli_task_index("logs", dag, o.args[1]) < 0)
		goto out;
	if (cli_one_partition("logs", dag, o.date, &p) < 0)
		goto out;
	rc = EXIT_FAILED;
	opened = state_open(&st, cli_state_path(o.state), 1, &e);
	if (opened == 0)
		e.code = state_attempt_log(&st, dag->name, o.args[1], p.id,
			(int)attempt, &path, &at, &e);
	if (opened < 0 && opened != -ENOENT) {
		err_print(&e, stderr);
		goto out;
	}
	if (opened == -ENOENT || e.code == -ENOENT) {
		if (attempt)
			fprintf(stderr, "dag-cli logs: no such attempt of %s %s "
				"is recorded\n", o.args[1], p.id);
		else
			explain_no_attempt(dag, o.args[1], &p,
				opened == 0 ? &st : NULL);
		goto out;
	}
	if (e.code < 0) {
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
