/*
 * The scheduler: runs an instance graph through an executor (the local
 * process pool unless told otherwise, engine/executor.h) on one libuv
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

struct gitrepo_job;

struct dag;
struct graph;
struct state;
struct node;
struct exec_ops;

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
	/*
	 * The clock, an input like the loop: now() is the calendar's "now"
	 * (unix seconds: 'today' in templates), read once when the run
	 * starts; wall_ms() stamps the history and the leases (unix ms).
	 * NULL: the system clock.  clock_arg is handed to both.
	 */
	int64_t (*now)(void *clock_arg);
	int64_t (*wall_ms)(void *clock_arg);
	void *clock_arg;
	/* Where instances run: NULL for exec_local; executor_arg its setup. */
	const struct exec_ops *executor;
	void *executor_arg;
	/*
	 * The DAG file's git provenance being worked out in another thread
	 * (gitrepo_job_start), or NULL: in the run's row from its start
	 * when known by then, else written there once known, at the run's
	 * end at the latest.
	 */
	struct gitrepo_job *prov;
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

#endif
