/*
 * The scheduler: runs an instance graph on the process pool, one libuv
 * loop, recording every attempt in the state database.  (Named
 * scheduler.h: a sched.h on the include path would hide the system header
 * that pthread.h and uv.h include.)  Ready instances
 * start the moment a slot frees (from the pool's exit callbacks); each is
 * leased in the state database first, so two schedulers never run one
 * instance at the same time.
 */
#ifndef DAG_SCHEDULER_H
#define DAG_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct dag;
struct graph;
struct state;
struct node;
struct task_kind;
struct task_run;
struct pool_report;

struct sched_options {
	int jobs;		/* worker slots (-j); 0: the number of CPUs */
	int reverse;		/* newest partition first */
	int json;		/* print the results as JSON */
	int progress;		/* a progress line on stderr (a terminal) */
	int fsync;		/* fsync command outputs before the rename */
	int quiet;		/* no summary */
	int64_t kill_grace_ms;	/* SIGTERM to SIGKILL; 0: POOL_KILL_GRACE_MS */
	int64_t recheck_ms;	/* re-look at instances leased elsewhere; 0: 500 */
	const char *args;	/* the command line, for the history */
};

/*
 * Run every runnable instance of g (built by graph_build for dag) and
 * print the summary.  Returns the exit status (dag-cli(1), EXIT STATUS:
 * 0 every requested target exists, 1 an instance failed, 3 external
 * inputs still missing,
 * 130/143 interrupted by SIGINT/SIGTERM), or a negative errno with e
 * filled when the run could not be carried out at all.
 */
int sched_run(const struct dag *dag, struct graph *g, struct state *st,
	const struct sched_options *o, struct err *e);

/*
 * Run a built-in kind on a resolved instance in this process: prepare,
 * run, release; the outcome goes into rep.  Both the forked worker and
 * "dag-cli __run-instance" come through here.  Returns the process exit
 * status for the worker (0 or 1).
 */
int sched_exec_builtin(const struct task_kind *kind, const struct node *def,
	void *prepared, struct task_run *run, struct pool_report *rep);

/*
 * The resolved instance (task at partition id) as JSON, the input of
 * "dag-cli __run-instance".  Caller frees.  NULL with e filled on error.
 */
char *sched_instance_json(const struct dag *dag, struct graph *g,
	size_t inst, struct err *e);
/* Run one instance given as JSON (see above); returns the exit status. */
int sched_run_instance_json(const char *text, struct err *e);

#endif
