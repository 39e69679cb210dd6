/*
 * The status of a DAG over a range, for the web API: the instance graph
 * from the targets (the truth of completeness) joined with the state
 * database's records, exactly as `dag-cli status` computes it, kept per
 * instance so the grid can send runs of equal state.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "graph.h"
#include "web_priv.h"

const char *const web_state_names[WS__COUNT] = {
	"done", "failed", "missing", "waiting", "running", "upstream_failed",
	"stale",
};

static long
find_part(const struct graph *g, const char *id)
{
	size_t lo = 0, hi = g->n_parts;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(g->parts[mid].id, id);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void
join_records(struct web_status *s)
{
	const struct graph *g = s->g;
	size_t *first = xcalloc(g->n_parts + 1, sizeof(*first));
	size_t i, k;

	for (i = 0; i <= g->n_parts; i++)
		first[i] = g->n_inst;
	for (i = g->n_inst; i-- > 0;)
		first[g->inst[i].part] = i;
	for (i = 0; i < s->n_recs; i++) {
		long p = find_part(g, s->recs[i].partition);
		int t = dag_task_index(g->dag, s->recs[i].task);

		if (p < 0 || t < 0)
			continue;
		for (k = first[p]; k < g->n_inst && g->inst[k].part == (uint32_t)p;
		    k++)
			if (g->inst[k].task == (uint32_t)t)
				s->rec[k] = &s->recs[i];
	}
	free(first);
}

static void
derive_states(struct web_status *s)
{
	const struct graph *g = s->g;
	size_t i, k;

	for (i = 0; i < g->n_inst; i++) {
		const struct instance *in = &g->inst[i];
		const struct inst_rec *r = s->rec[i];
		uint8_t st = WS_MISSING;

		if (r && r->running)
			st = WS_RUNNING;
		else if (in->state == INST_DONE)
			st = WS_DONE;
		else if (in->state == INST_WAITING || in->state == INST_BLOCKED)
			st = WS_WAITING;
		else if (r && (!strcmp(r->state, "failed") ||
		    !strcmp(r->state, "timeout")))
			st = WS_FAILED;
		else
			for (k = 0; k < in->n_deps; k++) {
				uint8_t d = s->state[g->deps[in->dep_off + k]];

				if (d == WS_FAILED || d == WS_UPSTREAM)
					st = WS_UPSTREAM;
			}
		s->state[i] = st;
	}
}

int
web_status_build(struct state *st, const struct dag *dag, const char *from,
	const char *to, int64_t now, struct web_status *s, struct err *e)
{
	struct graph_options gopt = { 0 };
	char *first = NULL, *last = NULL;
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
	if (rc == 0 && st)
		rc = state_instances(st, dag->name, NULL, NULL, now * 1000,
			&s->recs, &s->n_recs, e);
	free(first);
	free(last);
	if (rc < 0)
		return rc;
	s->rec = xcalloc(s->g->n_inst + 1, sizeof(*s->rec));
	s->state = xcalloc(s->g->n_inst + 1, 1);
	join_records(s);
	derive_states(s);
	return 0;
}

void
web_status_release(struct web_status *s)
{
	graph_free(s->g);
	free(s->parts);
	state_inst_recs_free(s->recs, s->n_recs);
	free(s->rec);
	free(s->state);
	memset(s, 0, sizeof(*s));
}
