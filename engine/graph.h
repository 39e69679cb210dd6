/*
 * The instance graph: task x partition for a requested range, the needs
 * between instances, and what is already complete.  plan prints it; the
 * scheduler runs it.  Built by walking from the requested instances: a
 * complete instance stops the walk (its needs are not examined: dag-cli(1),
 * DEPENDENCIES);
 * an incomplete one pulls in its needs, even from outside the range, and a
 * need before the DAG's start is satisfied.  An external check whose input
 * is missing is complete too when it has dependants and all of them are
 * complete (the input was consumed, e.g. moved away by an archive).
 * --force applies to the requested instances only.
 */
#ifndef DAG_GRAPH_H
#define DAG_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include "dag.h"

struct target_cache;
struct hash;

enum inst_state {
	INST_DONE,		/* target exists */
	INST_TODO,		/* target missing; will run when its needs are done */
	INST_WAITING,		/* external input missing (external-check) */
	INST_BLOCKED,		/* a need is waiting (so this cannot run yet) */
	INST_RUNNING,
	INST_FAILED,
	INST_UPSTREAM_FAILED,	/* a need failed (status: or its need did) */
	INST_STALE,		/* status: done, but what it consumed was made
				   again or changed since (engine/status) */
	INST__COUNT
};

/*
 * Name of a state as status and status --json spell it ("done",
 * "missing", "failed", ...); plan names its verdicts itself.
 */
const char *inst_state_name(enum inst_state s);

struct instance {
	uint32_t task;		/* index into dag->tasks */
	uint32_t part;		/* index into graph->parts */
	uint8_t state;		/* enum inst_state */
	uint8_t requested;	/* in the requested range (not pulled in) */
	uint8_t forced;		/* --force, requested only: runs though complete */
	uint8_t redo;		/* forced by graph_options.redo (stale) */
	uint8_t consumed;	/* external check done by its consumers, input gone */
	uint32_t dep_off;	/* its needs: graph->deps[dep_off .. +n_deps] */
	uint32_t n_deps;
	char *target;		/* resolved target path, or NULL (tables, patterns) */
	struct node *inputs;	/* external-check: the files found, or NULL */
};

struct graph {
	const struct dag *dag;
	struct partition *parts;	/* sorted by start */
	size_t n_parts;
	struct instance *inst;	/* sorted by partition, then topological task order */
	size_t n_inst;
	uint32_t *deps;		/* instance indexes */
	size_t n_deps;
	struct target_cache *cache;
	int64_t built_ms;	/* wall clock (unix ms) when its targets were looked at */
};

struct graph_options {
	int64_t now;		/* unix seconds */
	const char *const *force;	/* task names to rerun though complete */
	size_t n_force;
	/*
	 * Instances to rerun though complete, wherever the walk reaches them
	 * (--rerun-stale): keys are int64_t[2] { task, partition start }.
	 * NULL: none.
	 */
	const struct hash *redo;
};

/*
 * Build the graph of dag over the requested partitions.  Checks every
 * reached target (through a shared cache) and probes external checks.
 * Returns 0 or a negative errno with e filled; the caller frees *out.
 */
int graph_build(const struct dag *dag, const struct partition *parts,
	size_t n_parts, const struct graph_options *opt, struct graph **out,
	struct err *e);

/*
 * graph_build over dag's partitions from .. to (dag_partitions, "today"
 * read at opt->now): the graph of a range as the commands name it.
 */
int graph_build_range(const struct dag *dag, const char *from, const char *to,
	const struct graph_options *opt, struct graph **out, struct err *e);
void graph_free(struct graph *g);

/* The resolve_env that answers {needs.X.target} and {needs.X.files} from g. */
void graph_resolve_env(struct graph *g, struct resolve_env *env);

#endif
