/*
 * dag-cli scheduler: the long-running process that starts each DAG's
 * partitions when they fall due, so nothing needs cron.
 *
 * A partition falls due `delay:` after its end in the DAG's zone (a daily
 * partition ends at the next local midnight, an hourly one at the next
 * hour; both come from the loader's partitions, so DST days of 23 or 25
 * hours and a repeated hour are right by construction).  One libuv timer
 * wakes the process at the next instant anything falls due; nothing polls.
 *
 * Two decisions shape it:
 *
 * - Each due partition runs as a child `dag-cli run DAG --date P`, not in
 *   this process.  A run forks task processes, holds the state database's
 *   leases, may be killed by a timeout or crash in a task kind: in a child
 *   none of that can take the scheduler down or leak into it, and the
 *   child is exactly what a user or cron would run (same summary, same
 *   exit codes: 3 means inputs have not arrived yet, so try again later).
 *
 * - Every decision is a row of the state database's `schedule` table,
 *   written in the transaction that makes it: a partition is `queued` when
 *   it is decided, `running` in the transaction just before its child
 *   starts, then done, waiting (tried again every `recheck:` until
 *   `give_up_after:`), failed or gave_up.  The cursor (the newest decided
 *   partition) lives in the same table, so kill -9 at any moment and a
 *   restart neither skips a due partition nor decides one twice; a row
 *   left `running` is resumed, or adopted when its child outlived us.
 *
 * The child runs a snapshot of the DAG file's last valid text (kept beside
 * the state database): an edit is validated before it replaces what runs,
 * and a broken one is reported and leaves the old definition running.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "atomic.h"
#include "cli.h"
#include "dag.h"
#include "state.h"
#include "daemon_priv.h"
#include "util.h"

/* scheduler --help: what the command does, after its usage. */
static const char scheduler_about[] =
	"Runs until SIGTERM, starting each DAG of the directory "
	"when a partition\nfalls due: 'dag-cli run DAG --date P' "
	"as a child, recorded in the state\ndatabase's schedule "
	"table.  See 'man dag-cli' (SCHEDULER).\n";

extern char **environ;

static void rearm(struct daemon *d);

/* A run that exits 4 (state database locked) is tried again this soon. */
#define LOCKED_RETRY_MS 60000
static void dispatch(struct daemon *d);

int64_t
daemon_now_ms(const struct daemon *d)
{
	return wall_ms() + d->offset_ms;
}

/* "2026-01-01T00:59:57Z" for unix ms t (UTC: the log's one zone). */
static void
iso_utc(int64_t t, char *buf, size_t n)
{
	utc_stamp(t / 1000, buf, n);
}

/* One line of the scheduler's log (stdout), stamped with its clock. */
void
daemon_say(struct daemon *d, const char *fmt, ...)
{
	char ts[32];
	va_list ap;

	iso_utc(daemon_now_ms(d), ts, sizeof(ts));
	printf("%s scheduler: ", ts);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
db_warn(struct daemon *d, const char *what)
{
	daemon_say(d, "state database '%s': %s: %s", d->st.path, what,
		sqlite3_errmsg(d->st.db));
}

/* ---- the schedule table ---- */

static int
exec(struct daemon *d, const char *sql)
{
	if (sqlite3_exec(d->st.db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		db_warn(d, sql);
		return -EIO;
	}
	return 0;
}

sqlite3_stmt *
daemon_prep(struct daemon *d, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(d->st.db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_warn(d, "cannot prepare a statement");
		return NULL;
	}
	return st;
}

/*
 * daemon_prep of sql, a statement on one schedule row, with its dag (?1)
 * and partition (?2) bound.
 */
static sqlite3_stmt *
prep_row(struct daemon *d, const char *sql, const char *dag,
	const char *partition)
{
	sqlite3_stmt *st = daemon_prep(d, sql);

	if (st) {
		sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, partition, -1, SQLITE_STATIC);
	}
	return st;
}

/*
 * Run st, a write, to its end and finalize it; -EIO after saying what
 * failed.
 */
static int
step_done(struct daemon *d, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_warn(d, what);
		return -EIO;
	}
	return 0;
}

/* The due time (ms) of dag's newest decided partition, or INT64_MIN. */
static int64_t
cursor(struct daemon *d, const char *dag)
{
	sqlite3_stmt *st = daemon_prep(d, "SELECT max(due) FROM schedule WHERE dag=?1");
	int64_t c = INT64_MIN;

	if (!st)
		return INT64_MAX;	/* decide nothing on a database error */
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		c = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return c;
}

static int
queue(struct daemon *d, const char *dag, const char *partition, int64_t due)
{
	sqlite3_stmt *st = prep_row(d, "INSERT OR IGNORE INTO schedule(dag, "
		"partition, due, state) VALUES(?1, ?2, ?3, 'queued')", dag,
		partition);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 3, due);
	return step_done(d, st, "cannot queue a partition");
}

/* Record a partition's new state; next_try and exit_code only when >= 0. */
int
daemon_set_state(struct daemon *d, const char *dag, const char *partition,
	const char *state, int64_t next_try, int exit_code)
{
	sqlite3_stmt *st = prep_row(d, "UPDATE schedule SET state=?3, "
		"next_try=?4, exit_code=?5, finished=CASE WHEN ?3 IN ('done', "
		"'failed', 'gave_up', 'waiting') THEN ?6 ELSE finished END "
		"WHERE dag=?1 AND partition=?2", dag, partition);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	if (next_try >= 0)
		sqlite3_bind_int64(st, 4, next_try);
	if (exit_code >= 0)
		sqlite3_bind_int(st, 5, exit_code);
	sqlite3_bind_int64(st, 6, daemon_now_ms(d));
	return step_done(d, st, "cannot record a partition's state");
}

/* ---- deciding what is due ---- */

static int64_t
due_of(const struct dag *dag, const struct partition *p)
{
	return p->end * 1000 + dag->delay_ms;
}

/*
 * The newest partition of dag due at now, in *p; 0, or -ERANGE when none
 * is (the DAG starts later).
 */
static int
newest_due(const struct dag *dag, int64_t now, struct partition *p)
{
	struct partition cur;

	/* cur holds now - delay: not due yet; the one before it is. */
	dag_partition_at(dag, (now - dag->delay_ms) / 1000, &cur);
	return dag_partition_step(dag, &cur, -1, p);
}

const char *
daemon_catchup_name(enum catchup c)
{
	return c == CATCHUP_NONE ? "none" : c == CATCHUP_ALL ? "all" : "latest";
}

/*
 * Queue what fell due since dag's cursor, in one transaction with reading
 * the cursor.  A partition that fell due while the scheduler was down
 * (before it started) is "missed": catchup: says how many of those, the
 * newest first, are started; the older ones are reported once and left
 * (the cursor passes them, so they are never reconsidered).
 */
static void
decide(struct daemon *d, struct sdag *sd, int64_t now)
{
	const struct dag *dag = sd->dag;
	struct partition p;
	int64_t c;
	int limit, missed = 0, n = 0;

	if (newest_due(dag, now, &p) < 0)
		return;
	if (due_of(dag, &p) <= sd->skip_said)
		return;	/* reported as missed and not started already */
	if (exec(d, "BEGIN IMMEDIATE") < 0)
		return;
	c = cursor(d, dag->name);
	limit = dag->catchup == CATCHUP_NONE ? 0 :
		dag->catchup == CATCHUP_LATEST ? 1 : dag->catchup_max;
	for (;;) {
		int64_t due = due_of(dag, &p);

		if (due <= c)
			break;
		if (due < d->started_ms) {
			if (missed == limit) {
				if (due > sd->skip_said)
					daemon_say(d, "%s: %s and earlier fell due while "
						"the scheduler was not running; not "
						"started (catchup: %s%s)", dag->name,
						p.id, daemon_catchup_name(dag->catchup),
						dag->catchup == CATCHUP_ALL ?
						", catchup_max reached" : "");
				if (due > sd->skip_said)
					sd->skip_said = due;
				break;
			}
			missed++;
		}
		if (queue(d, dag->name, p.id, due) < 0)
			goto fail;
		daemon_say(d, "%s %s: due%s; queued", dag->name, p.id,
			due < d->started_ms ? " while the scheduler was not "
			"running" : "");
		n++;
		if (dag_partition_step(dag, &p, -1, &p) < 0)
			break;
	}
	if (exec(d, "COMMIT") < 0)
		goto fail;
	if (n && getenv("DAG_TEST_CRASH") &&
	    !strcmp(getenv("DAG_TEST_CRASH"), "queued"))
		raise(SIGKILL);	/* tests: die right after a decision */
	return;
fail:
	sqlite3_exec(d->st.db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- runs ---- */

struct sdag *
daemon_find_dag(struct daemon *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->dags.n; i++)
		if (d->dags.v[i]->dag && !strcmp(d->dags.v[i]->dag->name, name))
			return d->dags.v[i];
	return NULL;
}

/* The close callback of a run's one handle (proc, or poll when adopted). */
static void
on_run_closed(uv_handle_t *h)
{
	struct srun *r = h->data;

	free(r->dag);
	free(r->partition);
	free(r);
}

static void
unlink_run(struct daemon *d, struct srun *r)
{
	struct srun **pp;

	for (pp = &d->runs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

static void
maybe_finish(struct daemon *d)
{
	if (d->draining && !d->runs && !d->closing) {
		daemon_say(d, "drained; exiting");
		d->closing = 1;
		uv_stop(&d->loop);
	}
}

/*
 * A run ended with status (its exit code; 128+N when killed by signal N;
 * -1 unknown: it was adopted and left no record).  Record what that means
 * for the partition.
 */
void
daemon_run_ended(struct daemon *d, struct srun *r, int status, int signal)
{
	struct sdag *sd = daemon_find_dag(d, r->dag);
	int64_t now = daemon_now_ms(d);
	int64_t secs10 = (now - r->started) / 100;

	if (sd)
		sd->busy = 0;
	if (status == 0) {
		daemon_set_state(d, r->dag, r->partition, "done", -1, 0);
		daemon_say(d, "%s %s: done (try %d, %lld.%lld s)", r->dag, r->partition,
			r->tries, (long long)(secs10 / 10),
			(long long)(secs10 % 10));
	} else if (status == EXIT_WAITING) {
		int64_t give_up = r->due + (sd ? sd->dag->give_up_ms :
			24LL * 3600 * 1000);
		int64_t next = now + (sd ? sd->dag->recheck_ms : 300000);
		char ts[32];

		if (now >= give_up) {
			daemon_set_state(d, r->dag, r->partition, "gave_up", -1, status);
			daemon_say(d, "%s %s: gave up: external inputs still missing "
				"after try %d (give_up_after passed)", r->dag,
				r->partition, r->tries);
		} else {
			if (next > give_up)
				next = give_up;
			daemon_set_state(d, r->dag, r->partition, "waiting", next,
				status);
			iso_utc(next, ts, sizeof(ts));
			daemon_say(d, "%s %s: external inputs missing (try %d); next "
				"try at %s", r->dag, r->partition, r->tries, ts);
		}
	} else if (status == EXIT_LOCKED) {
		/*
		 * The run gave up waiting for the state database, before or
		 * after its work: nothing failed, so try the partition again.
		 * A target it published is found complete and not redone.
		 */
		int64_t next = now + (sd && sd->dag->recheck_ms < LOCKED_RETRY_MS ?
			sd->dag->recheck_ms : LOCKED_RETRY_MS);
		char ts[32];

		daemon_set_state(d, r->dag, r->partition, "waiting", next, status);
		iso_utc(next, ts, sizeof(ts));
		daemon_say(d, "%s %s: the state database stayed locked (exit 4, "
			"try %d); next try at %s", r->dag, r->partition, r->tries, ts);
	} else if (status < 0 || (d->draining && (status == 128 + SIGTERM ||
	    status == 128 + SIGINT))) {
		/*
		 * Stopped with us (systemd and a terminal signal the whole
		 * group), or unknown: the next scheduler resumes it.
		 */
		daemon_set_state(d, r->dag, r->partition, "queued", -1, -1);
		daemon_say(d, "%s %s: run stopped; queued again", r->dag, r->partition);
	} else if (signal) {
		daemon_set_state(d, r->dag, r->partition, "failed", -1, 128 + signal);
		daemon_say(d, "%s %s: failed: the run was killed by signal %d (try %d)",
			r->dag, r->partition, signal, r->tries);
	} else {
		daemon_set_state(d, r->dag, r->partition, "failed", -1, status);
		daemon_say(d, "%s %s: failed (exit %d, try %d); 'dag-cli status %s' "
			"shows what", r->dag, r->partition, status, r->tries,
			r->dag);
	}
	unlink_run(d, r);
	if (r->adopted)
		uv_close((uv_handle_t *)&r->poll, on_run_closed);
	else
		uv_close((uv_handle_t *)&r->proc, on_run_closed);
	if (d->draining) {
		maybe_finish(d);
		return;
	}
	dispatch(d);
	rearm(d);
}

static void
on_child_exit(uv_process_t *p, int64_t exit_status, int term_signal)
{
	struct srun *r = p->data;

	daemon_run_ended(r->d, r, term_signal ? 128 + term_signal : (int)exit_status,
		term_signal);
}

/* The environment of a child: ours, with DAG_NOW at our clock when faked. */
static char **
child_env(struct daemon *d, char **own)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (i = 0; i < n; i++)
		if (!d->fake_clock || strncmp(environ[i], "DAG_NOW=", 8))
			env[k++] = environ[i];
	*own = NULL;
	if (d->fake_clock) {
		*own = xasprintf("DAG_NOW=%lld", (long long)(daemon_now_ms(d) / 1000));
		env[k++] = *own;
	}
	return env;
}

/* Start partition of sd as a child `dag-cli run`; the row is 'running'. */
static int
spawn(struct daemon *d, struct sdag *sd, const char *partition, int64_t due,
	int tries)
{
	struct srun *r = xcalloc(1, sizeof(*r));
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	sqlite3_stmt *st;
	char *args[12], *own_env = NULL;
	char **env;
	int n = 0, rc;

	r->d = d;
	r->dag = xstrdup(sd->dag->name);
	r->partition = xstrdup(partition);
	r->started = daemon_now_ms(d);
	r->due = due;
	r->tries = tries;
	args[n++] = d->exe;
	args[n++] = (char *)"run";
	args[n++] = sd->snapshot;
	args[n++] = (char *)"--date";
	args[n++] = r->partition;
	args[n++] = (char *)"--state";
	args[n++] = d->st.path;
	if (d->jobs) {
		args[n++] = (char *)"--jobs";
		args[n++] = (char *)d->jobs;
	}
	args[n] = NULL;
	memset(&o, 0, sizeof(o));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_INHERIT_FD;
	stdio[0].data.fd = 0;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = 1;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	env = child_env(d, &own_env);
	o.file = d->exe;
	o.args = args;
	o.env = env;
	o.exit_cb = on_child_exit;
	o.stdio = stdio;
	o.stdio_count = 3;
	r->proc.data = r;
	fflush(stdout);
	rc = uv_spawn(&d->loop, &r->proc, &o);
	free(env);
	free(own_env);
	if (rc < 0) {
		daemon_say(d, "%s %s: cannot start '%s run': %s", r->dag, partition,
			d->exe, uv_strerror(rc));
		daemon_set_state(d, r->dag, partition, "failed", -1, 126);
		/* uv_spawn failed: the handle still needs closing. */
		uv_close((uv_handle_t *)&r->proc, on_run_closed);
		return rc;
	}
	r->pid = r->proc.pid;
	r->next = d->runs;
	d->runs = r;
	sd->busy = 1;
	st = prep_row(d, "UPDATE schedule SET pid=?3 WHERE dag=?1 AND "
		"partition=?2", r->dag, partition);
	if (st) {
		sqlite3_bind_int64(st, 3, r->pid);
		step_done(d, st, "cannot record a run's pid");
	}
	daemon_say(d, "%s %s: started 'dag-cli run' (pid %ld, try %d)", r->dag,
		partition, r->pid, tries);
	return 0;
}

/*
 * Start, for each DAG with no run in flight, its oldest partition that is
 * queued or whose next try has come: marked running (a try counted) in
 * one transaction, then spawned.
 */
static void
dispatch(struct daemon *d)
{
	int64_t now = daemon_now_ms(d);
	size_t i;

	if (d->draining)
		return;
	for (i = 0; i < d->dags.n; i++) {
		struct sdag *sd = d->dags.v[i];
		sqlite3_stmt *st;
		char *part = NULL;
		int64_t due = 0;
		int tries = 0;

		if (!sd->dag || sd->busy)
			continue;
		if (exec(d, "BEGIN IMMEDIATE") < 0)
			return;
		st = daemon_prep(d, "SELECT partition, due, tries FROM schedule WHERE "
			"dag=?1 AND (state='queued' OR (state='waiting' AND "
			"next_try<=?2)) ORDER BY due LIMIT 1");
		if (!st)
			goto rollback;
		sqlite3_bind_text(st, 1, sd->dag->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if (sqlite3_step(st) == SQLITE_ROW) {
			part = xstrdup((const char *)sqlite3_column_text(st, 0));
			due = sqlite3_column_int64(st, 1);
			tries = sqlite3_column_int(st, 2) + 1;
		}
		sqlite3_finalize(st);
		if (!part) {
			exec(d, "COMMIT");
			continue;
		}
		st = prep_row(d, "UPDATE schedule SET state='running', "
			"tries=tries+1, started=?3, next_try=NULL, pid=NULL "
			"WHERE dag=?1 AND partition=?2", sd->dag->name, part);
		if (!st)
			goto rollback;
		sqlite3_bind_int64(st, 3, now);
		if (step_done(d, st, "cannot mark a partition running") < 0 ||
		    exec(d, "COMMIT") < 0)
			goto rollback;
		if (getenv("DAG_TEST_CRASH") &&
		    !strcmp(getenv("DAG_TEST_CRASH"), "running"))
			raise(SIGKILL);	/* tests: die before the child starts */
		spawn(d, sd, part, due, tries);
		free(part);
		continue;
rollback:
		free(part);
		sqlite3_exec(d->st.db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
}

/* ---- the loop ---- */

static void
on_tick(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int64_t now = daemon_now_ms(d);
	size_t i;

	if (d->draining)
		return;
	for (i = 0; i < d->dags.n; i++)
		if (d->dags.v[i]->dag)
			decide(d, d->dags.v[i], now);
	dispatch(d);
	rearm(d);
}

/* Sleep until the next partition falls due or a waiting one is tried. */
static void
rearm(struct daemon *d)
{
	int64_t now = daemon_now_ms(d), wake = now + MAX_SLEEP_MS;
	sqlite3_stmt *st;
	size_t i;

	if (d->draining)
		return;
	for (i = 0; i < d->dags.n; i++) {
		const struct dag *dag = d->dags.v[i]->dag;
		struct partition cur;
		int64_t due;

		if (!dag)
			continue;
		dag_partition_at(dag, (now - dag->delay_ms) / 1000, &cur);
		due = due_of(dag, &cur);
		if (due <= now)	/* rounding: the next second's partition */
			due = now + 1000;
		if (due < wake)
			wake = due;
	}
	st = daemon_prep(d, "SELECT min(next_try) FROM schedule WHERE "
		"state='waiting'");
	if (st) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 0) < wake)
			wake = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (wake < now)
		wake = now;
	uv_timer_start(&d->tick, on_tick, (uint64_t)(wake - now), 0);
}

static void
on_rescan(uv_timer_t *t)
{
	struct daemon *d = t->data;

	daemon_scan(d);
	if (!d->draining)
		on_tick(&d->tick);
}

static void
on_watch(uv_fs_event_t *h, const char *file, int events, int status)
{
	struct daemon *d = h->data;

	(void)file;
	(void)events;
	(void)status;
	/* An editor writes in several steps: look once they are done. */
	uv_timer_start(&d->rescan, on_rescan, 100, d->watching ? 0 : 2000);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	struct srun *r;
	int n = 0;

	if (signum == SIGHUP) {
		daemon_say(d, "SIGHUP: looking at the DAG directory again");
		on_rescan(&d->rescan);
		return;
	}
	for (r = d->runs; r; r = r->next)
		n++;
	if (!d->draining) {
		d->draining = 1;
		uv_timer_stop(&d->tick);
		daemon_say(d, "%s: draining: %d run%s in flight, starting nothing new "
			"(again to stop them)", signum == SIGTERM ? "SIGTERM" :
			"SIGINT", n, n == 1 ? "" : "s");
		maybe_finish(d);
		return;
	}
	if (d->stopping)
		return;
	d->stopping = 1;
	daemon_say(d, "stopping %d run%s; they are resumed at the next start", n,
		n == 1 ? "" : "s");
	for (r = d->runs; r; r = r->next)
		if (r->adopted)
			kill((pid_t)r->pid, SIGTERM);
		else
			uv_process_kill(&r->proc, SIGTERM);
}

/* At start, what each DAG waits for next: the log shows it is up to date. */
static void
say_next(struct daemon *d)
{
	int64_t now = daemon_now_ms(d);
	size_t i;

	for (i = 0; i < d->dags.n; i++) {
		const struct dag *dag = d->dags.v[i]->dag;
		struct partition cur;
		char ts[32];

		if (!dag)
			continue;
		dag_partition_at(dag, (now - dag->delay_ms) / 1000, &cur);
		iso_utc(due_of(dag, &cur), ts, sizeof(ts));
		daemon_say(d, "%s: next partition %s falls due at %s", dag->name, cur.id,
			ts);
	}
}

static int
take_lock(struct daemon *d)
{
	char *path = xasprintf("%s.scheduler.lock", d->st.path);

	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->lock_fd < 0 || flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "dag-cli scheduler: another scheduler uses the "
			"state database '%s' (%s is locked)\n", d->st.path, path);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* At exit every run has ended: what is left is the daemon's own handles. */
static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int
serve(struct daemon *d)
{
	size_t i;
	int rc;

	uv_loop_init(&d->loop);
	uv_timer_init(&d->loop, &d->tick);
	uv_timer_init(&d->loop, &d->rescan);
	d->tick.data = d->rescan.data = d;
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sighup);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sighup, on_signal, SIGHUP);
	uv_fs_event_init(&d->loop, &d->watch);
	d->watch.data = d;
	rc = uv_fs_event_start(&d->watch, on_watch, d->dags_dir, 0);
	d->watching = rc == 0;
	if (rc < 0)
		daemon_say(d, "cannot watch '%s' (%s); looking every 2 s", d->dags_dir,
			uv_strerror(rc));
	daemon_scan(d);
	daemon_recover(d);
	if (!d->watching)
		uv_timer_start(&d->rescan, on_rescan, 2000, 2000);
	on_tick(&d->tick);
	say_next(d);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	uv_walk(&d->loop, close_walk, d);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&d->loop);
	for (i = 0; i < d->dags.n; i++)
		daemon_sdag_free(d->dags.v[i]);
	free(d->dags.v);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

int
cmd_scheduler(int argc, char **argv)
{
	struct daemon d;
	struct cli_opts o;
	struct err e;
	size_t len = sizeof(d.exe);
	long jobs;
	int rc = EXIT_USAGE;

	memset(&d, 0, sizeof(d));
	d.lock_fd = -1;
	if (cli_opts_start("scheduler", scheduler_about, argc, argv, &o, &rc))
		goto out;
	if (o.n_args) {
		fprintf(stderr, "dag-cli scheduler: unexpected argument '%s' (it "
			"schedules every DAG of --dags DIR)\n", o.args[0]);
		goto out;
	}
	if (o.jobs && (strspn(o.jobs, "0123456789") != strlen(o.jobs) ||
	    !*o.jobs)) {
		fprintf(stderr, "dag-cli scheduler: --jobs expects a whole "
			"number, not '%s'\n", o.jobs);
		goto out;
	}
	if (o.jobs && cli_parse_jobs("scheduler", "--jobs", o.jobs, &jobs) < 0)
		goto out;
	d.dags_dir = cli_dags_dir(o.dags);
	d.jobs = o.jobs;
	{
		struct stat st;

		if (stat(d.dags_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			char *abs = path_abs(d.dags_dir);

			fprintf(stderr, "dag-cli scheduler: no DAG directory "
				"'%s'\n", abs);
			free(abs);
			goto out;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (uv_exepath(d.exe, &len) < 0) {
		fprintf(stderr, "dag-cli scheduler: cannot find its own "
			"executable\n");
		rc = EXIT_FAILED;
		goto out;
	}
	if (state_open(&d.st, cli_state_path(o.state), 0, &e) < 0) {
		fprintf(stderr, "dag-cli scheduler: %s\n", e.msg);
		rc = EXIT_FAILED;
		goto out;
	}
	if (take_lock(&d) < 0) {
		rc = EXIT_FAILED;
		goto out;
	}
	/* Snapshots of valid DAG files live beside the state database. */
	d.snap_dir = cli_beside_state(d.st.path, "scheduler-dags");
	d.fake_clock = getenv("DAG_NOW") && *getenv("DAG_NOW");
	if (d.fake_clock)
		d.offset_ms = cli_now() * 1000 - wall_ms();
	d.started_ms = daemon_now_ms(&d);
	daemon_say(&d, "started (pid %ld): DAGs in %s, state %s", (long)getpid(),
		d.dags_dir, d.st.path);
	rc = serve(&d);
out:
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	free(d.snap_dir);
	state_release(&d.st);
	cli_opts_release(&o);
	return rc;
}
