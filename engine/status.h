/*
 * What is the state of these instances, and why?  One answer for every
 * reader: `status` (grid and --json), `plan` (its reasons), and the web
 * API (per-instance detail, and a task x partition grid sent as runs of
 * equal state).  It joins the two sources of truth: the instance graph,
 * which looked at the targets (done, missing, waiting), and the state
 * database's history (failed, attempts, counts, running under a live
 * lease).
 */
#ifndef DAG_STATUS_H
#define DAG_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "graph.h"

struct state;
struct dag;
struct partition;
struct inst_rec;
struct consumed_row;
struct strbuf;
struct err;

/* No instance: status_inst.cause of an instance that has none. */
#define STATUS_NO_CAUSE UINT32_MAX

/* One instance's answer (parallel to graph->inst). */
struct status_inst {
	const struct inst_rec *rec;	/* its latest history, or NULL
					   (owned by struct status) */
	uint32_t cause;		/* upstream_failed: the failed instance it
				   traces back to (graph->inst index);
				   waiting: the waiting need; stale: the
				   stale need it traces back to; else
				   STATUS_NO_CAUSE */
	uint8_t state;		/* enum inst_state: INST_DONE, INST_TODO
				   (shown as missing), INST_WAITING,
				   INST_BLOCKED (waiting on a need),
				   INST_RUNNING, INST_FAILED,
				   INST_UPSTREAM_FAILED, INST_STALE */
	char *why;		/* stale: the reason (owned), else NULL */
};

struct status {
	const struct graph *g;		/* borrowed: outlives the status */
	struct status_inst *inst;	/* g->n_inst of them */
	struct inst_rec *recs;		/* the history read (owned) */
	size_t n_recs;
	size_t count[INST__COUNT];	/* requested instances in each state */
	size_t *part_first;		/* private: first instance of each partition */
	char **digest;			/* private: per instance, its definition's
					   digest now (status_def_digest), once
					   worked out; else NULL */
	size_t hint;			/* private: the partition last found */
};

/*
 * Answer for every instance of g: read dag's history from db (NULL: no
 * history, so nothing is failed or running) as of now (unix ms, for
 * lease liveness).  0, or a negative errno with e filled (a database
 * that cannot be read is an error, never an empty answer).  Release
 * with status_release either way.
 */
int status_build(struct status *s, const struct graph *g, struct state *db,
	int64_t now_ms, struct err *e);
/*
 * status_build, taking from prev (an earlier status of the same loaded
 * DAG, over any graph; NULL: none) what does not depend on the history
 * or the targets: the digest of each instance's definition, the
 * costliest part of a build.  prev's graph must still be alive.
 */
int status_rebuild(struct status *s, const struct graph *g, struct state *db,
	int64_t now_ms, const struct status *prev, struct err *e);
void status_release(struct status *s);

/*
 * What status_build reads from the state database, given by a reader
 * that keeps it (the web server): the records, borrowed (they must
 * outlive the status), any order, outside g too; and the consumed rows
 * of the attempts that made the targets, joined with their needs' made
 * and in state_consumed's order (their order picks the reasons).
 */
struct status_history {
	const struct inst_rec *const *recs;
	size_t n_recs;
	const struct consumed_row *rows;
	size_t n_rows;
};

/*
 * status_rebuild from h (NULL: no history) instead of the database: the
 * same answer state_instances and state_consumed would have given.
 */
void status_build_from(struct status *s, const struct graph *g,
	const struct status_history *h, const struct status *prev);

/*
 * The digest of task's definition at p, for code staleness: a compact
 * JSON object from each field that shapes the output (its kind, and the
 * fields after template expansion, but not description, needs, retries,
 * timeouts, pools, priority or poll) to a hash of its canonical JSON
 * (keys sorted), so key order, comments and whitespace in the file do
 * not count and a change names its field.  NULL when the fields cannot
 * be resolved outside a run ({needs.X.files}, an unset {env.X}).
 * Caller frees.
 */
char *status_def_digest(const struct dag *dag, size_t task,
	const struct partition *p);

/* The graph index of (task, partition id), or -1 when not in the graph. */
long status_find(const struct status *s, const char *task,
	const char *partition);

/*
 * Why instance i of s is in its state, one line into sb: "complete:
 * PATH", "attempt 3 timed out", "needs clean 2026-01-02, which failed".
 */
void status_reason(const struct status *s, size_t i, struct strbuf *sb);

/*
 * Why the graph alone (no history) says what it says about instance i:
 * the reasons plan prints ("target missing: PATH", "blocked by a need:
 * ...").
 */
void status_graph_reason(const struct graph *g, size_t i, struct strbuf *sb);

/*
 * The word plan uses for a graph verdict: done, run, waiting, blocked
 * (others as inst_state_name spells them).
 */
const char *status_plan_label(enum inst_state st);

/* status_inst_json flags. */
#define STATUS_JSON_REASON 1u	/* add "reason": status_reason's text */

/*
 * Instance i as a JSON object: task, partition, state, attempts, the
 * record counts (null where none), duration_s (null before a finished
 * attempt) -- the fields status --json prints -- and, with
 * STATUS_JSON_REASON or when the instance is stale, reason.  A new
 * reference.
 */
json_t *status_inst_json(const struct status *s, size_t i, unsigned flags);

/*
 * A run of one task's requested instances in equal state, over
 * partitions first..last (graph->parts indexes, inclusive).  Partitions
 * where the task has no requested instance do not break a run; count is
 * how many instances it covers.
 */
struct status_run {
	uint32_t task;		/* dag->tasks index */
	uint32_t first, last;	/* graph->parts indexes, inclusive */
	uint32_t count;
	uint8_t state;		/* enum inst_state */
};

/*
 * The runs of task over the partitions from part_from, at most max_parts
 * of them (a page; 0: all), into *out (the caller frees).  Returns the
 * number of runs; *next_part is where the next page starts
 * (graph->n_parts when this was the last).
 */
size_t status_runs(const struct status *s, size_t task, size_t part_from,
	size_t max_parts, struct status_run **out, size_t *next_part);

#endif
