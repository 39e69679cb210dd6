/*
 * The process pool: a fixed number of job slots on one libuv loop.  Each
 * job is a child process in its own process group that dies with the
 * scheduler (PR_SET_PDEATHSIG).  Shell commands are started with vfork +
 * exec of /bin/sh -c; built-in task kinds with a plain fork that calls a
 * function and _exits, so no dynamic loading happens per instance.
 *
 * Children are reaped by a SIGCHLD uv_signal handler that calls wait4 on
 * the pool's own pids only (never waitpid(-1)), so it coexists with any
 * other child-spawning code.  Whatever is left in a job's process group
 * when the job ends (a command's background program) is killed.  A job's exit callback runs from the loop and
 * may start the next job in the slot it frees.
 */
#ifndef DAG_POOL_H
#define DAG_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include "util.h"

/* Grace between SIGTERM and SIGKILL when a job times out or is stopped. */
#define POOL_KILL_GRACE_MS 5000

/*
 * What a forked built-in child reports to its parent.  Lives in memory
 * shared with the children (one per slot), so reporting costs no syscall.
 */
struct pool_report {
	int filled;		/* the child wrote this report */
	int rc;			/* 0, or negative errno */
	int64_t records_in;	/* -1 where a count does not apply */
	int64_t records_out;
	int64_t records_rejected;
	char msg[1024];		/* error message, when rc < 0 */
};

struct pool_job;
typedef void (*pool_exit_cb)(struct pool_job *job);
/*
 * The body of a forked job: runs in the child with stdout and stderr on
 * the job's log; fills rep and returns the exit status.
 */
typedef int (*pool_child_fn)(void *arg, struct pool_report *rep);

struct pool_job {
	struct pool *pool;
	size_t slot;		/* index in pool->jobs */
	pid_t pid;		/* 0 when the slot is free */
	uv_timer_t timer;	/* timeout, then kill grace */
	int64_t started_ms;	/* monotonic */
	int64_t timeout_ms;	/* 0: none */
	int stage;		/* 0 running, 1 SIGTERM sent, 2 SIGKILL sent */
	void *data;		/* the caller's */
	/* Filled when the job has ended, before the exit callback. */
	int exit_code;		/* -1 when killed by a signal */
	int signal;		/* 0 when it exited */
	int timed_out;		/* the pool killed it for its timeout */
	int64_t duration_ms;
	int64_t max_rss_kb;	/* peak resident set (KiB) */
	struct pool_report *report;	/* forked jobs: the child's report */
};

struct pool {
	uv_loop_t *loop;
	uv_signal_t sigchld;
	struct pool_job *jobs;	/* n_slots slots */
	size_t n_slots;
	size_t *free_slots;	/* a stack of free slot indexes */
	size_t n_free;
	size_t running;
	struct pool_report *reports;	/* shared with children, n_slots */
	int devnull;		/* stdin for every job */
	char **env;		/* commands' environment (pool_set_mark), or
				   NULL: the process's own */
	int64_t kill_grace_ms;
	pool_exit_cb on_exit;
	void *data;		/* the caller's */
	size_t closing;		/* handles still closing */
	void (*on_closed)(struct pool *p);
};

/*
 * Set up n_slots job slots on loop; on_exit is called once for every job
 * that ends.  0 or negative errno with e filled (then nothing is left
 * allocated, and no handle but a closing one on the loop).  Close with
 * pool_close.
 */
int pool_init(struct pool *p, uv_loop_t *loop, size_t n_slots,
	pool_exit_cb on_exit, struct err *e);
/*
 * Close the pool's handles; on_closed (may be NULL) runs from the loop
 * once they are closed.  Running jobs must have ended first.
 */
void pool_close(struct pool *p, void (*on_closed)(struct pool *p));

/*
 * Put entry ("NAME=VALUE", copied) into the environment of every command
 * started from now on, in place of any NAME there, so whatever a command
 * starts carries it (see pool_group_kill_stale).
 */
void pool_set_mark(struct pool *p, const char *entry);
/*
 * Kill what a dead scheduler's command left running: every process in
 * process group pgid whose environment holds mark ("NAME=VALUE", the dead
 * run's pool_set_mark), checked so that a group id reused since is left
 * alone.  Waits until none of them runs, up to wait_ms.  0 when none is
 * left (or the system has no /proc to look in), -EBUSY when some still
 * run.
 */
int pool_group_kill_stale(long pgid, const char *mark, int64_t wait_ms);

/* A free job slot, or NULL when all are busy.  The job is not started yet. */
struct pool_job *pool_job_get(struct pool *p);
/* Give back a slot taken with pool_job_get that was not started. */
void pool_job_put(struct pool_job *job);

/*
 * Start /bin/sh -c cmd in job with stdout and stderr on log_fd (borrowed;
 * the caller may close it once this returns).  timeout_ms 0 means none.
 * On failure e is filled and the slot is still the caller's: give it
 * back with pool_job_put.
 */
int pool_job_spawn_shell(struct pool_job *job, const char *cmd, int log_fd,
	int64_t timeout_ms, struct err *e);
/*
 * Fork a child that runs fn(arg, report) with stdout and stderr on log_fd
 * and _exits with its return value.  The child must not touch the loop or
 * any database connection of the parent.
 */
int pool_job_fork(struct pool_job *job, pool_child_fn fn, void *arg,
	int log_fd, int64_t timeout_ms, struct err *e);

/*
 * Stop one running job: sig to its process group now, SIGKILL after the
 * grace period (nothing when it is already being stopped).
 */
void pool_job_stop(struct pool_job *job, int sig);
/*
 * Stop every running job: sig to each process group now, SIGKILL after
 * the grace period.  Exit callbacks follow as the children die.
 */
void pool_stop_all(struct pool *p, int sig);

#endif
