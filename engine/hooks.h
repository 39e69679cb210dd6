/*
 * Task hooks: the on_success, on_retry and on_failure commands of a task
 * (or of defaults:), run once per event with the instance described in
 * their environment.  A hook tells someone; it never changes an outcome.
 */
#ifndef DAG_HOOKS_H
#define DAG_HOOKS_H

/* One event of one instance. */
struct hook_event {
	const char *field;	/* "on_success", "on_retry" or "on_failure" */
	const char *dag;
	const char *task;
	const char *partition;
	int attempt;		/* 1-based, the attempt that just ended */
	const char *state;	/* done, failed, timeout */
	const char *error;	/* the error line, or NULL */
	const char *log;	/* the attempt's log, or NULL */
};

/*
 * Start cmd with /bin/sh -c, detached: the caller does not wait for it
 * (a slow webhook must not hold up a run) and never reaps it.  It gets
 * DAG_NAME, DAG_TASK, DAG_PARTITION, DAG_ATTEMPT, DAG_STATE, DAG_ERROR,
 * DAG_LOG and DAG_HOOK in its environment; its output, and a line saying
 * so when it fails, are appended to the attempt's log.  0, or -errno when
 * it could not even be started.
 */
int hook_run(const char *cmd, const struct hook_event *ev);

#endif
