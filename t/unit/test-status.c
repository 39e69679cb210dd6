/*
 * The status module on its own: a two-task DAG over six days, targets
 * made by hand and history written through the state API, then the
 * answer per instance (states, the failed need behind upstream_failed,
 * a live lease as running), the per-state counts, and the grid as runs
 * of equal state with paging.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dag.h"
#include "graph.h"
#include "state.h"
#include "status.h"
#include "unit.h"

static char dir[64];

static void
touch(const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	FILE *fp = fopen(p, "w");

	CHECK(fp != NULL);
	fclose(fp);
	free(p);
}

static void
finish(struct state *st, const char *task, const char *part,
	enum attempt_state as, int final)
{
	struct lease_claim c;
	struct attempt_rec a;
	struct err e;

	CHECK_INT(state_lease_claim(st, "s", task, part, 1000, &c, &e), ==, 1);
	if (!final)
		return;		/* leave it running under this run's lease */
	memset(&a, 0, sizeof(a));
	a.task = task;
	a.partition = part;
	a.attempt = c.attempt;
	a.state = as;
	a.exit_code = as == ATTEMPT_DONE ? 0 : 1;
	a.records_in = a.records_out = a.records_rejected = -1;
	a.max_rss_kb = -1;
	a.final = 1;
	CHECK_INT(state_attempt_finish(st, "s", &a, &e), ==, 0);
}

static const char *
name_at(const struct status *s, const char *task, const char *part)
{
	long i = status_find(s, task, part);

	CHECK(i >= 0);
	return inst_state_name(s->inst[i].state);
}

UNIT_TEST(states_reasons_and_runs)
{
	char *y, *dbp, *cmd;
	struct errs errs = { 0 };
	struct dag *dag = NULL;
	struct graph *g = NULL;
	struct graph_options go = { 0 };
	struct state st;
	struct status s;
	struct status_run *runs = NULL;
	struct strbuf sb;
	struct err e;
	size_t nr, next;
	long i;

	snprintf(dir, sizeof(dir), "/tmp/test-status-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	y = xasprintf("dag: s\nstart: 2026-01-01\ntasks:\n"
		"  a: {kind: command, run: \"true\", target: \"%s/a-{date}\"}\n"
		"  b: {kind: command, needs: [a], run: \"true\", "
		"target: \"%s/b-{date}\"}\n", dir, dir);
	CHECK_INT(dag_load_string(y, strlen(y), "s.yaml", &dag, &errs), ==, 0);
	touch("a-2026-01-01");
	touch("a-2026-01-02");
	touch("a-2026-01-03");
	dbp = xasprintf("%s/state.db", dir);
	CHECK_INT(state_open(&st, dbp, 0, &e), ==, 0);
	CHECK_INT(state_run_begin(&st, "s", "test", 1000, &e), ==, 0);
	finish(&st, "a", "2026-01-04", ATTEMPT_TIMEOUT, 1);
	finish(&st, "a", "2026-01-05", ATTEMPT_RUNNING, 0);

	CHECK_INT(graph_build_range(dag, "2026-01-01", "2026-01-06", &go, &g,
		&e), ==, 0);
	CHECK_INT(status_build(&s, g, &st, 2000, &e), ==, 0);

	CHECK_STR(name_at(&s, "a", "2026-01-01"), "done");
	CHECK_STR(name_at(&s, "a", "2026-01-04"), "failed");
	CHECK_STR(name_at(&s, "a", "2026-01-05"), "running");
	CHECK_STR(name_at(&s, "a", "2026-01-06"), "missing");
	CHECK_STR(name_at(&s, "b", "2026-01-01"), "missing");
	CHECK_STR(name_at(&s, "b", "2026-01-04"), "upstream_failed");
	CHECK_INT(status_find(&s, "a", "2027-01-01"), ==, -1);
	CHECK_INT(status_find(&s, "c", "2026-01-01"), ==, -1);
	CHECK_INT(s.count[INST_DONE], ==, 3);
	CHECK_INT(s.count[INST_FAILED], ==, 1);
	CHECK_INT(s.count[INST_RUNNING], ==, 1);
	CHECK_INT(s.count[INST_UPSTREAM_FAILED], ==, 1);
	CHECK_INT(s.count[INST_TODO], ==, 6);

	/* upstream_failed names the need that failed, and why it did. */
	i = status_find(&s, "b", "2026-01-04");
	CHECK_INT(s.inst[i].cause, ==, status_find(&s, "a", "2026-01-04"));
	sb_init(&sb);
	status_reason(&s, (size_t)i, &sb);
	CHECK_STR(sb.buf, "needs a 2026-01-04, which failed");
	sb_reset(&sb);
	status_reason(&s, (size_t)status_find(&s, "a", "2026-01-04"), &sb);
	CHECK_STR(sb.buf, "attempt 1 timed out");
	sb_release(&sb);

	/* a's row: done x3, failed, running, missing. */
	nr = status_runs(&s, 0, 0, 0, &runs, &next);
	CHECK_INT(nr, ==, 4);
	CHECK_INT(next, ==, 6);
	CHECK_INT(runs[0].state, ==, INST_DONE);
	CHECK_INT(runs[0].first, ==, 0);
	CHECK_INT(runs[0].last, ==, 2);
	CHECK_INT(runs[0].count, ==, 3);
	CHECK_INT(runs[1].state, ==, INST_FAILED);
	CHECK_INT(runs[1].first, ==, 3);
	CHECK_INT(runs[3].state, ==, INST_TODO);
	CHECK_INT(runs[3].last, ==, 5);
	free(runs);
	/* A page of two partitions from the second. */
	nr = status_runs(&s, 0, 1, 2, &runs, &next);
	CHECK_INT(nr, ==, 1);
	CHECK_INT(next, ==, 3);
	CHECK_INT(runs[0].first, ==, 1);
	CHECK_INT(runs[0].last, ==, 2);
	CHECK_INT(runs[0].count, ==, 2);
	free(runs);
	/* Past the end: nothing, and the page says so. */
	nr = status_runs(&s, 1, 9, 2, &runs, &next);
	CHECK_INT(nr, ==, 0);
	CHECK_INT(next, ==, 6);
	free(runs);

	status_release(&s);
	/* Without history nothing is failed or running. */
	CHECK_INT(status_build(&s, g, NULL, 2000, &e), ==, 0);
	CHECK_STR(name_at(&s, "a", "2026-01-04"), "missing");
	CHECK_STR(name_at(&s, "b", "2026-01-04"), "missing");
	status_release(&s);

	state_release(&st);
	graph_free(g);
	dag_free(dag);
	free(y);
	free(dbp);
	cmd = xasprintf("rm -rf '%s'", dir);
	CHECK_INT(system(cmd), ==, 0);
	free(cmd);
}

UNIT_MAIN(states_reasons_and_runs)
