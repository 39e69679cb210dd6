/*
 * The status of a DAG over a range, for the web API: the partitions of
 * the range, the instance graph from the targets and engine/status's
 * answer for each instance (exactly what `dag-cli status` prints), with
 * each state as an index into web_state_names, the list the grid sends.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "graph.h"
#include "status.h"
#include "web_priv.h"

const char *const web_state_names[WS__COUNT] = {
	"done", "failed", "missing", "waiting", "running", "upstream_failed",
	"stale",
};

uint8_t
web_state_index(uint8_t st)
{
	switch (st) {
	case INST_DONE: return WS_DONE;
	case INST_WAITING: case INST_BLOCKED: return WS_WAITING;
	case INST_RUNNING: return WS_RUNNING;
	case INST_FAILED: return WS_FAILED;
	case INST_UPSTREAM_FAILED: return WS_UPSTREAM;
	case INST_STALE: return WS_STALE;
	default: return WS_MISSING;
	}
}

int
web_status_build(struct state *st, const struct dag *dag, const char *from,
	const char *to, int64_t now, struct web_status *s, struct err *e)
{
	return web_status_rebuild(st, dag, from, to, now, NULL, NULL, s, e);
}

/* Do two records say the same (those fields status reads)? */
static int
same_rec(const struct inst_rec *a, const struct inst_rec *b)
{
	if (!a || !b)
		return a == b;
	return a->state == b->state && a->attempts == b->attempts &&
		a->records_in == b->records_in &&
		a->records_out == b->records_out &&
		a->records_rejected == b->records_rejected &&
		a->duration_s == b->duration_s && a->running == b->running &&
		!strcmp(a->def ? a->def : "", b->def ? b->def : "") &&
		!!a->def == !!b->def &&
		!strcmp(a->git_commit ? a->git_commit : "",
		b->git_commit ? b->git_commit : "") &&
		!!a->git_commit == !!b->git_commit &&
		a->git_dirty == b->git_dirty;
}

/*
 * DAG_WEB_CHECK_HISTORY set (the tests): the status the kept history gave
 * must be what the database gives, read in the same transaction; say on
 * stderr where it is not.
 */
static void
check_history(struct state *st, const struct web_status *s, int64_t now)
{
	const struct graph *g = s->g;
	struct status db;
	struct err e;
	size_t i;

	err_clear(&e);
	if (status_build(&db, g, st, now * 1000, &e) < 0) {
		fprintf(stderr, "dag-cli serve: history check: %s\n", e.msg);
		status_release(&db);
		return;
	}
	for (i = 0; i < g->n_inst; i++) {
		const struct status_inst *a = &s->st.inst[i], *b = &db.inst[i];

		if (a->state == b->state && a->cause == b->cause &&
		    !strcmp(a->why ? a->why : "", b->why ? b->why : "") &&
		    same_rec(a->rec, b->rec))
			continue;
		fprintf(stderr, "dag-cli serve: the kept history of %s %s %s "
			"says %s (%s), the database %s (%s)\n", g->dag->name,
			g->dag->tasks[g->inst[i].task].name,
			g->parts[g->inst[i].part].id,
			inst_state_name(a->state), a->why ? a->why : "",
			inst_state_name(b->state), b->why ? b->why : "");
	}
	status_release(&db);
}

/*
 * Build s->st from the history hist keeps, brought up to date: 1, or 0
 * when the database does not record its changes (build from it), or a
 * negative errno.
 */
static int
from_history(struct state *st, struct web_hist *hist, const struct dag *dag,
	int64_t now, const struct web_status *prev, struct web_status *s,
	struct err *e)
{
	static const char *check = NULL;
	const char *lo = NULL, *hi = NULL;
	struct status_history h;
	int rc, began = 0;
	size_t i;

	if (!check)
		check = getenv("DAG_WEB_CHECK_HISTORY") ? "1" : "";
	if (*check && st && (began = state_snapshot_begin(st, e)) < 0)
		return began;
	rc = web_hist_refresh(hist, st, dag, now * 1000, e);
	if (rc == 1) {
		/* The graph's partitions, needs included, as status reads. */
		for (i = 0; i < s->g->n_parts; i++) {
			if (!lo || strcmp(s->g->parts[i].id, lo) < 0)
				lo = s->g->parts[i].id;
			if (!hi || strcmp(s->g->parts[i].id, hi) > 0)
				hi = s->g->parts[i].id;
		}
		memset(&h, 0, sizeof(h));
		if (lo)
			web_hist_view(hist, st, lo, hi, &h);
		s->have_status = 1;
		status_build_from(&s->st, s->g, &h,
			prev && prev->have_status ? &prev->st : NULL);
		if (*check)
			check_history(st, s, now);
	}
	if (*check && st)
		state_snapshot_end(st, began);
	return rc;
}

int
web_status_rebuild(struct state *st, const struct dag *dag, const char *from,
	const char *to, int64_t now, const struct web_status *prev,
	struct web_hist *hist, struct web_status *s, struct err *e)
{
	struct graph_options gopt = { 0 };
	char *first = NULL, *last = NULL;
	size_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	gopt.now = now;
	if (!from || !to) {
		struct err ignore;

		err_clear(&ignore);
		if (st && state_partition_span(st, dag->name, &first, &last,
		    &ignore) == 0) {
			from = first;
			to = last;
		} else {
			from = to = "today";
		}
	}
	snprintf(s->from, sizeof(s->from), "%s", from);
	snprintf(s->to, sizeof(s->to), "%s", to);
	rc = dag_partitions(dag, from, to, now, &s->parts, &s->n_parts, e);
	if (rc == 0)
		rc = graph_build(dag, s->parts, s->n_parts, &gopt, &s->g, e);
	if (rc == 0 && hist)
		rc = from_history(st, hist, dag, now, prev, s, e);
	if (rc == 0) {
		s->have_status = 1;
		rc = status_rebuild(&s->st, s->g, st, now * 1000,
			prev && prev->have_status ? &prev->st : NULL, e);
	}
	free(first);
	free(last);
	if (rc < 0)
		return rc;
	s->state = xcalloc(s->g->n_inst + 1, 1);
	for (i = 0; i < s->g->n_inst; i++)
		s->state[i] = web_state_index(s->st.inst[i].state);
	return 0;
}

void
web_status_release(struct web_status *s)
{
	if (s->have_status)
		status_release(&s->st);
	graph_free(s->g);
	free(s->parts);
	free(s->state);
	memset(s, 0, sizeof(*s));
}
