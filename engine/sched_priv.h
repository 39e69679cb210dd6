/*
 * The scheduler's private state, shared by the files of the scheduler
 * (engine/scheduler.c runs the loop, engine/sched_summary.c prints the
 * run's summary).  Not for other modules: they see engine/scheduler.h.
 */
#ifndef DAG_SCHED_PRIV_H
#define DAG_SCHED_PRIV_H

#include <stdint.h>
#include <uv.h>

#include "dag.h"
#include "executor.h"
#include "git.h"
#include "graph.h"
#include "scheduler.h"
#include "state.h"

/* Per-instance scheduling data, parallel to g->inst. */
struct sinst {
	uint32_t unmet;		/* needs not done yet */
	uint16_t attempt;	/* attempt number in the state database */
	uint8_t tries;		/* attempts made by this run */
	uint8_t touched;	/* this run did something with it */
	uint8_t held;		/* leased by another run when last tried */
	uint8_t tmp_failed;	/* in tmp_failed */
	uint8_t queued;		/* in the ready heap or a pool's queue */
	uint8_t lost;		/* attempts lost by the executor (retried) */
};

/* Lost attempts of one instance tried again before it counts as failed. */
#define LOST_RETRIES 3

struct heap {
	uint32_t *v;
	size_t n, cap;
};

struct retry {
	uv_timer_t timer;
	struct sched *s;
	uint32_t inst;
	struct retry *next;
};

struct sched {
	const struct dag *dag;
	struct graph *g;
	struct state *st;
	const struct sched_options *o;
	uv_loop_t loop;
	struct executor x;
	int x_open;		/* x was opened: close it */
	char *mark;		/* x.mark: this run's DAG_CLI_RUN (run_mark) */
	struct sinst *si;
	uint32_t *roff;		/* reverse edges: dependants of i are */
	uint32_t *rdeps;	/* rdeps[roff[i] .. roff[i+1]] */
	struct heap ready;
	struct heap *pool_q;	/* per pool limit: ready but over the limit */
	int *pool_used;
	char **last_dir;	/* per task: the last target directory made */
	uint64_t tmp_seq;
	int64_t now;		/* the calendar's now (unix s), from the options */
	/* Attempts waiting to be written. */
	struct { struct attempt_rec *v; size_t n, cap; } pending;
	/*
	 * The instance of each pending attempt whose definition digest is
	 * still to be worked out (UINT32_MAX: none), parallel to pending:
	 * the digest resolves the definition again, so it is made when the
	 * batch is written, while the next instance runs, not between the
	 * end of one instance and the start of the next.
	 */
	struct { uint32_t *v; size_t n, cap; } pending_def;
	uv_timer_t flush_timer, heartbeat, progress, recheck;
	uv_signal_t sigint, sigterm;
	struct retry *retries;	/* pending retry timers */
	size_t n_retries;
	struct { uint32_t *v; size_t n, cap; } held;
	/* Failed attempts' instances, whose side files' temporaries go at the end. */
	struct { uint32_t *v; size_t n, cap; } tmp_failed;
	struct { uint32_t *v; size_t n, cap; } polls;
	uv_timer_t poll_timer;
	uv_async_t prov_async;	/* the provenance job is done (o->prov) */
	int prov_watch;		/* prov_async is set up */
	int prov_done;		/* the job's result is taken */
	struct gitrepo_prov prov;	/* its result, st->git_commit's text */
	int64_t poll_start_ms;
	int interrupted;	/* the signal that stops the run, or 0 */
	int failed_db;		/* a state write failed: stop starting */
	struct err db_err;
	/* Counts for progress and the summary. */
	size_t n_todo, n_done, n_failed, n_running, n_upstream;
	/*
	 * For the summary, filled by sched_record: each instance's final
	 * failure (its error line, owned; NULL none), allocated with the
	 * first one; and the record counts the done attempts reported
	 * (any_records: at least one did).
	 */
	char **fail_msg;
	int64_t rec_in, rec_out, rec_rejected;
	int any_records;
	int64_t t0_ms;
	int progress_shown;
};

/* The task and partition id of instance i. */
static inline const struct task *
sched_task_of(const struct sched *s, uint32_t i)
{
	return &s->dag->tasks[s->g->inst[i].task];
}

static inline const char *
sched_part_of(const struct sched *s, uint32_t i)
{
	return s->g->parts[s->g->inst[i].part].id;
}

/* The log path of instance i's current attempt.  Caller frees. */
static inline char *
sched_log_path(const struct sched *s, uint32_t i)
{
	return state_log_path(s->st, s->dag->name, sched_task_of(s, i)->name,
		sched_part_of(s, i), s->si[i].attempt);
}

/* unix ms from the run's clock (sched_options.wall_ms). */
int64_t sched_now_ms(const struct sched *s);
/* Instance i is done: release the dependants whose last need it was. */
void sched_done_inst(struct sched *s, uint32_t i);
/* Start ready instances while the executor has room. */
void sched_fill(struct sched *s);

/*
 * Queue a finished attempt for the state database (engine/sched_history.c);
 * res is NULL for one that never started.  Takes ownership of error.
 */
void sched_record(struct sched *s, uint32_t i, const struct exec_result *res,
	int64_t started_ms, enum attempt_state state, char *error, int final);
/* What a's row says of res (exit, signal, time, counts); res may be NULL. */
void sched_rec_result(struct attempt_rec *a, const struct exec_result *res);
/*
 * After a state error: when the database is damaged, replace it
 * (state_salvage) and lease what is running again in the new one.  0
 * when the state is usable again, else the error with e.
 */
int sched_salvage(struct sched *s, struct err *e);

/* Write the queued attempts in one transaction now. */
void sched_flush(struct sched *s);

/*
 * Start polling the external checks in s->polls (engine/sched_poll.c);
 * after the loop, sched_block_waiting marks the dependants of the
 * instances that stayed waiting as blocked.
 */
void sched_poll_start(struct sched *s);
void sched_block_waiting(struct sched *s);

/* The progress line on stderr; last clears it (engine/sched_summary.c). */
void sched_progress(struct sched *s, int last);
void sched_on_progress(uv_timer_t *t);

/*
 * Print the run's summary on stdout (--json: one object written with
 * jansson; else the failed and waiting instances and a count line,
 * nothing with --quiet).  status is the run's exit status.
 */
void sched_summary(struct sched *s, int status);

/* sched_ready.c: the ready heaps. */
void sched_heap_push(struct sched *s, struct heap *h, uint32_t v);
uint32_t sched_heap_pop(struct sched *s, struct heap *h);

/* sched_attempt.c: an attempt's log and a command's request. */
int sched_open_log(struct sched *s, uint32_t i, struct err *e);
void sched_log_say(struct sched *s, int fd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sched_command_request(struct sched *s, uint32_t i,
	struct exec_request *rq, char **cmd, char **tmp, struct err *e);

#endif
