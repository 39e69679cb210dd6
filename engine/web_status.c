/*
 * The status of a DAG over a range, for the web API: the partitions of
 * the range, the instance graph from the targets and engine/status's
 * answer for each instance (exactly what `dag-cli status` prints), with
 * each state as an index into web_state_names, the list the grid sends.
 */
#include "config.h"

#include <errno.h>
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
	return web_status_rebuild(st, dag, from, to, now, NULL, s, e);
}

int
web_status_rebuild(struct state *st, const struct dag *dag, const char *from,
	const char *to, int64_t now, const struct web_status *prev,
	struct web_status *s, struct err *e)
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
