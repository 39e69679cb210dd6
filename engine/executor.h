/*
 * The executor interface: how the scheduler has an instance run, without
 * knowing where.  An executor is a small const table of functions (like
 * struct task_kind) over one libuv loop: start an attempt, cancel it,
 * cancel all, close.  Whatever ran comes back as one message, struct
 * exec_result, delivered through the executor's on_result callback from
 * the loop, for command and built-in instances alike.
 *
 * The local process pool (engine/exec_local.c) is the first
 * implementation.  Others (a Slurm executor that submits
 * "dag-cli __run-instance FILE.json", persistent worker processes fed
 * over a pipe) need the request as data: exec_request_json gives the
 * resolved instance as JSON (engine/instance.h), and a command's
 * temporary target is published on the executing side with
 * publish_target (engine/publish.h), the result then saying published.
 * exec_result_to_json / exec_result_from_json carry a result back as a
 * small JSON document (a result file, a line on a pipe).
 */
#ifndef DAG_EXECUTOR_H
#define DAG_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "util.h"

struct dag;
struct graph;
struct executor;

/* One leased attempt of one instance to run.  Everything is borrowed. */
struct exec_request {
	const struct dag *dag;
	struct graph *g;	/* the run's graph; outlives every attempt */
	uint32_t inst;		/* index in g->inst */
	int attempt;		/* attempt number in the state database */
	int64_t now;		/* the run's clock (unix seconds), for resolution */
	const char *log_path;	/* the attempt's log */
	int log_fd;		/* open on log_path; valid until start returns */
	/*
	 * Command kinds: the resolved shell command (run with /bin/sh -c);
	 * NULL for a built-in kind, which the executing side resolves and
	 * runs itself (instance_run).
	 */
	const char *command;
	const char *target;	/* the instance's target path, or NULL */
	/*
	 * Where the command writes ({target}): published onto target when it
	 * exits 0.  NULL when it writes its target in place (or has none).
	 */
	const char *tmp_target;
	int target_dir;		/* the target is a directory (gets _SUCCESS) */
	int fsync;		/* publication fsyncs file and directory */
	int64_t timeout_ms;	/* 0: none; then SIGTERM, SIGKILL after grace */
	void *token;		/* the scheduler's; handed back in the result */
	/*
	 * Out, when not NULL: the process group a command runs in, set by
	 * executors that start it on this host (0: none), for the lease.
	 */
	long *pgid;
};

/* What became of one attempt. */
struct exec_result {
	void *token;		/* the request's */
	int exit_code;		/* -1 when killed by a signal or never run */
	int signal;		/* the signal that ended it, or 0 */
	int timed_out;		/* killed for overrunning its timeout */
	/*
	 * 0, or negative errno: the instance's own failure as the executing
	 * side saw it (a built-in's error, a failed publication); error then
	 * holds the line to record (may be empty: the exit status tells).
	 */
	int rc;
	char error[1024];
	int64_t records_in;	/* -1 where a count does not apply */
	int64_t records_out;
	int64_t records_rejected;
	int64_t started_ms;	/* unix ms */
	int64_t duration_ms;
	int64_t max_rss_kb;	/* peak resident set (KiB), -1 unknown */
	int published;		/* the temporary target was moved into place */
	/*
	 * The attempt vanished without a word (a batch job gone from the
	 * queue with no result): recorded "lost" and tried again, without
	 * counting against the task's retries.
	 */
	int lost;
};

/* An executor's functions; every implementation is one const table. */
struct exec_ops {
	const char *name;
	/*
	 * Set up on x->loop for x->slots attempts at once (x->loop, slots,
	 * kill_grace_ms, on_result and data are filled by the caller).
	 * 0, or negative errno with e filled; on failure nothing is left to
	 * close but handles on the loop (which the caller closes with uv_walk).
	 */
	int (*open)(struct executor *x, struct err *e);
	/*
	 * Start rq.  0: on_result follows exactly once, from the loop, never
	 * from within start.  Negative errno with e filled: nothing started
	 * and no result follows.
	 */
	int (*start)(struct executor *x, const struct exec_request *rq,
		struct err *e);
	/* Stop the attempt of token with sig (SIGKILL after the grace). */
	void (*cancel)(struct executor *x, void *token, int sig);
	/* Stop every running attempt with sig (SIGKILL after the grace). */
	void (*cancel_all)(struct executor *x, int sig);
	/*
	 * Release x once nothing runs; handles close through the loop, so
	 * the caller runs it once more.
	 */
	void (*close)(struct executor *x);
};

/*
 * An attempt of a run that died (kill -9) whose job the executor found
 * finished with a result when it opened (the Slurm executor's orphans):
 * what the scheduler records for that attempt instead of "interrupted".
 * Everything is borrowed for the call.
 */
struct exec_adopted {
	const char *dag, *task, *partition;
	int attempt;
	int64_t timeout_ms;	/* the task's, for the failure's wording */
	const char *log_path;	/* or NULL */
	struct exec_result r;	/* token NULL */
};

struct executor {
	const struct exec_ops *ops;
	uv_loop_t *loop;
	size_t slots;		/* attempts at once (-j) */
	int64_t kill_grace_ms;	/* SIGTERM to SIGKILL; 0: the default */
	void (*on_result)(struct executor *x, const struct exec_result *r);
	/*
	 * Called from open only, once per adopted attempt (may be NULL:
	 * then nothing is reported).
	 */
	void (*on_adopted)(struct executor *x, const struct exec_adopted *a);
	void *data;		/* the caller's */
	/*
	 * "DAG_CLI_RUN=..." naming the run, put into the environment of
	 * every command the executor starts on this host (the caller's, may
	 * be NULL), so a later run can find what they left running.
	 */
	const char *mark;
	void *arg;		/* the implementation's configuration, or NULL */
	void *priv;		/* the implementation's state */
};

/* The local process pool: vfork+exec for commands, fork for built-ins. */
extern const struct exec_ops exec_local;
/*
 * Long-lived worker processes for built-ins, the local pool for commands
 * (engine/exec_worker.c).
 */
extern const struct exec_ops exec_worker;
/*
 * The executor of a run on this machine: the workers, or the local pool
 * alone when DAG_EXECUTOR=local.  NULL with e filled for another value.
 */
const struct exec_ops *exec_default(struct err *e);
/*
 * "dag-cli __worker": serve requests on fd 3 until it reads EOF; the
 * process's exit status.
 */
int worker_main(void);

/*
 * Did the attempt succeed (exit 0, no signal, no timeout, rc 0)?
 */
int exec_result_ok(const struct exec_result *r);
/*
 * The line recorded for a failed attempt: the timeout, the executing
 * side's error, the signal or the exit status.  Caller frees.
 */
char *exec_result_failure(const struct exec_result *r, int64_t timeout_ms);
/*
 * Would the same attempt fail the same way again?  A built-in kind says
 * so with rc -EINVAL: the definition or the data is wrong (an unknown
 * column, an error in an SQL statement, a required field missing from
 * the input), which no retry and no delay changes.  Returns the reason
 * to record, or NULL when a retry may succeed.  Meaningless for a
 * command's result (its rc comes from the publication, not the command).
 */
const char *exec_result_permanent(const struct exec_result *r);
/* Clear r: no counts (-1), no rss (-1), exit_code 0. */
void exec_result_init(struct exec_result *r);
/*
 * The request as the resolved instance's JSON (instance_json plus the
 * command, target and temporary target), for executors that run it
 * elsewhere with "dag-cli __run-instance".  Caller frees; NULL with e
 * filled.
 */
char *exec_request_json(const struct exec_request *rq, struct err *e);
/*
 * A result as one line of JSON ({"exit_code": .., "signal": .., ...}),
 * and back (the token is not carried).  Caller frees; from_json returns
 * 0 or -EINVAL with e filled.
 */
char *exec_result_to_json(const struct exec_result *r);
int exec_result_from_json(const char *text, struct exec_result *r,
	struct err *e);

#endif
