/*
 * The state database: the history of every run, attempt, exit status,
 * duration, record count and log path, and the leases that keep two
 * dag-cli processes from running one instance at the same time.  SQLite
 * in WAL mode with synchronous=NORMAL: a commit is a write to the WAL, not
 * an fsync, so the scheduler can record thousands of attempts a second.
 * Targets stay the truth of completeness; this is only the history.
 *
 * Only the scheduler writes it.  Readers (status, logs, the web UI) open it
 * read-only and never block the writer.
 */
#ifndef DAG_STATE_H
#define DAG_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct sqlite3;
struct sqlite3_stmt;

/* The schema version this build writes (PRAGMA user_version). */
#define STATE_SCHEMA_VERSION 6

/* A lease whose owner has not beaten for this long is taken over (ms). */
#define STATE_LEASE_TTL_MS 60000
/* How often a running scheduler refreshes its heartbeat (ms). */
#define STATE_HEARTBEAT_MS 10000

/*
 * What an attempt came to, as the attempts and instances tables record
 * it.  The database stores the names (status_state_name spells them),
 * so the numbers are free to change; a name this build does not know
 * reads as ATTEMPT_UNKNOWN.
 */
enum attempt_state {
	ATTEMPT_UNKNOWN = -1,	/* a name from a newer build */
	ATTEMPT_RUNNING,	/* instances only: the latest attempt started */
	ATTEMPT_DONE,
	ATTEMPT_FAILED,		/* exited non-zero, was killed, or could not start */
	ATTEMPT_TIMEOUT,	/* killed for running past its timeout */
	ATTEMPT_INTERRUPTED,	/* its scheduler was stopped or died */
	ATTEMPT_LOST,		/* its batch job vanished without a result */
	ATTEMPT__COUNT
};

/* "running", "done", "failed", "timeout", "interrupted", "lost" ("unknown"). */
const char *attempt_state_name(enum attempt_state s);
/* The state name spells; ATTEMPT_UNKNOWN for any other string or NULL. */
enum attempt_state attempt_state_parse(const char *name);

enum state_stmt {
	ST_LEASE_GET,
	ST_LEASE_ADD,
	ST_LEASE_TAKE,
	ST_LEASE_PGID,
	ST_LEASE_DEL,
	ST_RUN_GET,
	ST_INST_SEEN,
	ST_INST_ADD,
	ST_INST_BUMP,
	ST_INST_FINISH,
	ST_ATTEMPT_ADD,
	ST_CONSUMED_ADD,
	ST_CONSUMED_TRIM,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST__COUNT,
};

struct state {
	struct sqlite3 *db;
	char *path;		/* the database file */
	char *logs_dir;		/* "logs" beside the database */
	int64_t run_id;		/* this process's row in runs, or 0 */
	char host[256];
	int readonly;
	int version;		/* the schema version as opened (a reader may
				   open an older one: what it lacks is empty) */
	int in_txn;		/* a batch transaction is open */
	int64_t lease_ttl_ms;	/* STATE_LEASE_TTL_MS unless a test says */
	/*
	 * Set by the caller before state_run_begin, which records them
	 * with the run: the commit of the DAG file's git repository (NULL
	 * when it is in none; "" before the first commit) and whether the
	 * file differed from it.
	 */
	const char *git_commit;
	int git_dirty;
	uint64_t dev, ino;	/* the file opened, to tell when it was
				   replaced since */
	char *run_dag, *run_args;	/* state_run_begin's, for state_salvage */
	int64_t run_started;	/* unix ms */
	struct sqlite3_stmt *st[ST__COUNT];	/* prepared once, reused */
};

/*
 * Open (creating it and its directory unless readonly) the database at
 * path and bring its schema up to STATE_SCHEMA_VERSION.  A file that is
 * not a database, or a damaged one, is moved aside with a warning and a
 * new one made.  A newer schema than this build knows is an error.  0 or a
 * negative errno with e filled.  Release with state_release either way.
 */
int state_open(struct state *s, const char *path, int readonly, struct err *e);
/*
 * How long (ms) a writer waits for another process holding the database
 * before giving up with -EBUSY: DAG_STATE_TIMEOUT seconds, else 30 s.
 */
int state_busy_ms(void);

/* What state_damaged found. */
enum {
	STATE_WHOLE,		/* no damage (or the check could not tell) */
	STATE_DAMAGED,		/* a database with a malformed page */
	STATE_NOT_A_DB,		/* not a database at all */
};

/*
 * Is the open database damaged?  Runs PRAGMA quick_check (it reads every
 * page: for after an error) and answers STATE_WHOLE, STATE_DAMAGED or
 * STATE_NOT_A_DB.
 */
int state_damaged(struct state *s);

/*
 * After an error of a writer: when state_damaged says so, move the damaged
 * file aside (unless another process already replaced it), warn on
 * stderr, open a new database at the same path and record this run in
 * it again.  The leases this run held are gone with the old file: the
 * caller claims those of the instances still running again.  0 when s
 * is usable again; negative errno with e filled when the database is not
 * damaged (the error stands) or a new one cannot be made.
 */
int state_salvage(struct state *s, struct err *e);

/* Finalize statements and close the database (accepts a zeroed struct). */
void state_release(struct state *s);

/*
 * Record the start of a run of dag by this process (host + pid) at now
 * (unix ms); sets s->run_id.  args is the command line, for the history.
 */
int state_run_begin(struct state *s, const char *dag, const char *args,
	int64_t now, struct err *e);
/* Refresh this run's heartbeat, so its leases stay its own. */
int state_run_heartbeat(struct state *s, int64_t now);
/* Mark the run finished with its exit status and drop its leases. */
int state_run_end(struct state *s, int status, int64_t now);

/*
 * The git provenance of the run begun, known only after state_run_begin
 * (worked out in another thread): written into its row, and kept in
 * s->git_commit (commit must outlive that use) for a run begun again by
 * state_salvage.  0 or -EIO.
 */
int state_run_provenance(struct state *s, const char *commit, int dirty);

/*
 * Is run (an id of the runs table) alive at now (unix ms): not finished,
 * its process there (same host) and its heartbeat fresh?
 */
int state_run_alive(struct state *s, int64_t run, int64_t now);

/*
 * Open / commit a batch transaction (no-ops when one is already open,
 * resp. none is).  A commit that fails rolls back.
 */
int state_begin(struct state *s, struct err *e);
int state_commit(struct state *s, struct err *e);
/* Roll back the open transaction, if any. */
void state_rollback(struct state *s);

/* What state_lease_claim found. */
struct lease_claim {
	int attempt;		/* the attempt number this run will make (1-based) */
	int took_over;		/* the lease belonged to a dead or silent run */
	int64_t prev_run;	/* that run's id, when took_over */
	long prev_pid;		/* and its pid (its temporary files carry it) */
	int prev_here;		/* that run ran on this host */
	long prev_pgid;		/* the process group of its command, or 0 */
	int64_t last_update;	/* when any run last recorded the instance
				   (unix ms), 0 never: before this claim */
	int have_row;		/* the lease has a row (state_lease_put) */
	int64_t now;		/* the claim's time (unix ms) */
};

/*
 * Lease instance (task, partition) of dag for this run, in one
 * transaction (or inside the open batch).  Returns 1 when this run holds
 * it now (c filled: the next attempt number, and whether a dead owner's
 * lease was taken over, whose attempt is then recorded as interrupted), 0
 * when another live run holds it, negative errno on a database error.
 */
int state_lease_claim(struct state *s, const char *dag, const char *task,
	const char *partition, int64_t now, struct lease_claim *c,
	struct err *e);
/*
 * The first half of state_lease_claim, inside a transaction the caller
 * opened (state_begin): everything but writing the lease itself, which
 * state_lease_put then does, with the process group of a command started
 * in between, before the caller commits.  Same returns; on an error the
 * caller rolls back.
 */
int state_lease_check(struct state *s, const char *dag, const char *task,
	const char *partition, int64_t now, struct lease_claim *c,
	struct err *e);
/* Write the lease c was checked for, with process group pgid (0: none). */
int state_lease_put(struct state *s, const char *dag, const char *task,
	const char *partition, const struct lease_claim *c, long pgid,
	struct err *e);
/*
 * Record with this run's lease of the instance the process group its
 * command runs in, for a run that may take the lease over after a crash
 * (inside the transaction of the claim, when one is open).
 */
int state_lease_pgid(struct state *s, const char *dag, const char *task,
	const char *partition, long pgid);
/* Give a lease back without an attempt (a run that stops before it starts). */
int state_lease_release(struct state *s, const char *dag, const char *task,
	const char *partition);
/*
 * Give back a lease just claimed without making the attempt it counted
 * (the target turned out to exist): the attempt count goes back and the
 * instance is recorded as state.
 */
int state_lease_abandon(struct state *s, const char *dag, const char *task,
	const char *partition, enum attempt_state state);

/*
 * One thing a done attempt consumed: a need (the history records which
 * attempt had made it), or an external input file as it was when the
 * attempt finished (size -1: gone, e.g. moved away by its consumer).
 */
struct consumed_rec {
	const char *need_task;		/* an upstream instance, or NULL */
	const char *need_partition;
	char *input;			/* or an input file's path (owned) */
	int64_t size, mtime_ns, inode;
};

/* One finished attempt. */
struct attempt_rec {
	const char *task;
	const char *partition;
	int attempt;		/* 1-based */
	enum attempt_state state;	/* done, failed, timeout, interrupted */
	int exit_code;		/* -1 when killed by a signal */
	int signal;		/* 0 when it exited */
	int64_t started_ms;	/* unix ms */
	int64_t duration_ms;
	int64_t max_rss_kb;	/* peak resident set, KiB; -1 unknown */
	int64_t records_in;	/* -1 where a count does not apply */
	int64_t records_out;
	int64_t records_rejected;
	const char *log_path;
	const char *error;	/* a message, or NULL */
	int final;		/* no retry follows: release the lease */
	struct consumed_rec *consumed;	/* a done attempt's inputs (the
					   caller's), recorded with it */
	const char *def;	/* a done attempt's definition digest
				   (status_def_digest), or NULL */
	size_t n_consumed;
};

/*
 * Record a finished attempt and the instance's latest state; when final,
 * release the lease.  Call inside a batch (state_begin/commit) to write
 * many at once.  0 or negative errno with e filled.
 */
int state_attempt_finish(struct state *s, const char *dag,
	const struct attempt_rec *a, struct err *e);
/*
 * Record the attempts row alone of an attempt a dead run started and an
 * executor saw finish (exec_adopted), under the run that holds its lease
 * (this one when none does).  The instance is left as it is: the run
 * that takes the lease over finds its target, and the row recorded here
 * stands in for the "interrupted" one the takeover would add.
 */
int state_attempt_adopted(struct state *s, const char *dag,
	const struct attempt_rec *a, struct err *e);

/*
 * What the attempt that made an instance's target consumed, against the
 * history now: one row per need or input of every done instance of dag.
 */
struct consumed_row {
	char *task, *partition;		/* the consumer */
	char *need_task, *need_partition;	/* or NULL for an input */
	int need_attempt;		/* the need's attempt it consumed (0:
					   made outside dag-cli's history) */
	int need_made;			/* the attempt that made it since (0) */
	int attempt;			/* the consumer's attempt that consumed */
	int64_t need_made_ms;		/* when that attempt finished, unix ms */
	char *input;			/* an input file, or NULL */
	int64_t size, mtime_ns, inode;	/* as consumed; size -1: was gone */
};

/*
 * The consumed_rows of dag's instances from..to (NULL: no bound; to also
 * takes its repeated hour, to + "b"); none from a database older than
 * schema 3.  *out is the caller's, freed with state_consumed_free.
 */
int state_consumed(struct state *s, const char *dag, const char *from,
	const char *to, struct consumed_row **out, size_t *n, struct err *e);
void state_consumed_free(struct consumed_row *v, size_t n);
/* Free what one consumed_row holds (not the struct). */
void state_consumed_row_release(struct consumed_row *r);

/* The latest record of one instance, for status. */
struct inst_rec {
	char *task;
	char *partition;
	enum attempt_state state;	/* as last recorded */
	int attempts;
	int64_t records_in, records_out, records_rejected;
	double duration_s;	/* of the last attempt */
	int running;		/* a live run holds its lease now */
	char *def;		/* the digest of the definition that made its
				   target (status_def_digest), or NULL */
	char *git_commit;	/* the git commit of the run that made its
				   target, or NULL (see struct state) */
	int git_dirty;		/* whether that run's DAG file was dirty */
	int made;		/* the attempt that made its target (0: none) */
	int64_t lease_run;	/* the run holding its lease, or 0 */
};

/*
 * Every instance record of dag (with partition between from and to
 * inclusive when both are given).  *out is the caller's to free with
 * state_inst_recs_free.
 */
int state_instances(struct state *s, const char *dag, const char *from,
	const char *to, int64_t now, struct inst_rec **out, size_t *n,
	struct err *e);
void state_inst_recs_free(struct inst_rec *v, size_t n);
/* Free what one inst_rec holds (not the struct). */
void state_inst_rec_release(struct inst_rec *r);

/*
 * For a reader that keeps a DAG's history and reads again only what
 * changed (the web server): every write to an instance's row or its
 * consumed rows appends the instance to a list of changes, numbered
 * (schema 6).
 */
struct inst_key {
	char *task, *partition;
	int64_t run;		/* state_leases: the run holding it */
};
/*
 * The instances of dag changed after change number since, into *keys
 * (the caller frees them with state_inst_keys_free), and the highest
 * change number recorded (any DAG's) into *top.  -ENOTSUP when the
 * database records no changes (an older schema); -ESTALE when some after
 * since were dropped (read everything again).  Read it and what it
 * names between state_snapshot_begin and _end, so nothing is missed.
 */
int state_changes(struct state *s, const char *dag, int64_t since,
	struct inst_key **keys, size_t *n, int64_t *top, struct err *e);
void state_inst_keys_free(struct inst_key *v, size_t n);
/* Every lease on dag's instances, with its run. */
int state_leases(struct state *s, const char *dag, struct inst_key **keys,
	size_t *n, struct err *e);
/*
 * One read transaction: every read in it sees the same commits.  1 when
 * it began one, 0 when one was open already (the caller's), or a negative
 * errno; pass that to state_snapshot_end.
 */
int state_snapshot_begin(struct state *s, struct err *e);
void state_snapshot_end(struct state *s, int began);
/*
 * The record of one instance as state_instances reads it: 1 into *out,
 * 0 when it has none, or a negative errno.
 */
int state_instance_get(struct state *s, const char *dag, const char *task,
	const char *partition, int64_t now, struct inst_rec *out,
	struct err *e);
/*
 * Every consumed row of one instance of dag (task NULL: of all its
 * instances), any attempt's (attempt says which), unjoined: need_made
 * and need_made_ms are 0.  Ordered by partition, task and insertion, as
 * state_consumed orders its rows.
 */
int state_consumed_rows(struct state *s, const char *dag, const char *task,
	const char *partition, struct consumed_row **out, size_t *n,
	struct err *e);
/*
 * When attempt of an instance finished (unix ms, as state_consumed's
 * need_made_ms), 0 when it has no record.
 */
int64_t state_attempt_end_ms(struct state *s, const char *dag,
	const char *task, const char *partition, int attempt);
/* The first and last partition dag has records for; 0, or -ENOENT. */
int state_partition_span(struct state *s, const char *dag, char **first,
	char **last, struct err *e);

/*
 * The log path of attempt (0: the latest) of an instance; -ENOENT when
 * there is no such attempt.  *path is the caller's to free.
 */
int state_attempt_log(struct state *s, const char *dag, const char *task,
	const char *partition, int attempt, char **path, int *attempt_out,
	struct err *e);

/*
 * The log file of an attempt: LOGS/DAG/TASK/PARTITION.ATTEMPT.log under
 * s->logs_dir.  Caller frees.
 */
char *state_log_path(const struct state *s, const char *dag, const char *task,
	const char *partition, int attempt);

#endif
