/*
 * The SQLite state database.  Tuned for the scheduler's write pattern: a
 * lease claim per instance (one short BEGIN IMMEDIATE transaction, so two
 * schedulers serialise on it) and attempt results written in batches.
 * WAL with synchronous=NORMAL makes a commit an append to the WAL without
 * fsync; a power cut may lose the last commits, never consistency, and
 * the history is not what says a target is complete.  Every statement on
 * the hot path is prepared once and reused.
 *
 * A lease names the run that holds it; a run is this process (host, pid)
 * with a heartbeat.  A lease is free when its run finished, when the run's
 * process is gone (same host, kill(pid, 0) says ESRCH), or when its
 * heartbeat is older than lease_ttl_ms.
 */
#include "config.h"
#include "state.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlite_wal.h"
#include "state_priv.h"

/*
 * How long a writer waits for another process holding the database
 * (DAG_STATE_TIMEOUT seconds overrides it).
 */
#define STATE_BUSY_TIMEOUT_MS 30000

/*
 * A writer leaves the WAL in place at close (no checkpoint, so no
 * fdatasync) until it holds this many bytes; the writer that closes
 * with a larger one checkpoints it into the database and removes it.
 * The next opener reads the WAL whole to rebuild its index: 1 MiB is a
 * fraction of a millisecond of that, and a dozen no-op runs.
 */
#define STATE_WAL_KEEP_BYTES (1024 * 1024)

/*
 * The names the tables store; 'running' is also spelt in ST_INST_ADD and
 * ST_INST_BUMP.
 */
static const char *const attempt_state_names[ATTEMPT__COUNT] = {
	[ATTEMPT_RUNNING] = "running",
	[ATTEMPT_DONE] = "done",
	[ATTEMPT_FAILED] = "failed",
	[ATTEMPT_TIMEOUT] = "timeout",
	[ATTEMPT_INTERRUPTED] = "interrupted",
	[ATTEMPT_LOST] = "lost",
};

const char *
attempt_state_name(enum attempt_state s)
{
	return s >= 0 && s < ATTEMPT__COUNT ? attempt_state_names[s] : "unknown";
}

enum attempt_state
attempt_state_parse(const char *name)
{
	int i;

	for (i = 0; name && i < ATTEMPT__COUNT; i++)
		if (!strcmp(attempt_state_names[i], name))
			return (enum attempt_state)i;
	return ATTEMPT_UNKNOWN;
}

static const char *const stmt_sql[ST__COUNT] = {
	[ST_LEASE_GET] = "SELECT run_id, pgid FROM leases WHERE dag=?1 AND "
		"task=?2 AND partition=?3",
	/*
	 * A claim inserts or updates after reading the row, instead of
	 * INSERT OR REPLACE or an upsert, which need a statement journal
	 * (a 64 KiB allocation and a copy of every page they change).
	 */
	[ST_LEASE_ADD] = "INSERT INTO leases(dag, task, partition, run_id, "
		"since, pgid) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_LEASE_TAKE] = "UPDATE leases SET run_id=?4, since=?5, pgid=?6 "
		"WHERE dag=?1 AND task=?2 AND partition=?3",
	[ST_LEASE_PGID] = "UPDATE leases SET pgid=?5 WHERE dag=?1 AND task=?2 "
		"AND partition=?3 AND run_id=?4",
	[ST_LEASE_DEL] = "DELETE FROM leases WHERE dag=?1 AND task=?2 AND "
		"partition=?3 AND run_id=?4",
	[ST_RUN_GET] = "SELECT host, pid, heartbeat, finished FROM runs "
		"WHERE id=?1",
	[ST_INST_SEEN] = "SELECT updated, attempts FROM instances WHERE "
		"dag=?1 AND task=?2 AND partition=?3",
	[ST_INST_ADD] = "INSERT INTO instances(dag, task, partition, state, "
		"attempts, updated) VALUES(?1, ?2, ?3, 'running', 1, ?4)",
	[ST_INST_BUMP] = "UPDATE instances SET attempts=attempts+1, "
		"state='running', updated=?4 WHERE dag=?1 AND task=?2 AND "
		"partition=?3",
	[ST_INST_FINISH] = "UPDATE instances SET state=?4, records_in=?5, "
		"records_out=?6, records_rejected=?7, duration_s=?8, "
		"updated=?9, made=CASE WHEN ?4='done' THEN ?10 ELSE made END, "
		"def=CASE WHEN ?4='done' THEN ?11 ELSE def END "
		"WHERE dag=?1 AND task=?2 AND partition=?3",
	[ST_ATTEMPT_ADD] = "INSERT OR IGNORE INTO attempts(run_id, dag, task, "
		"partition, attempt, state, exit_code, signal, started, "
		"duration_s, max_rss_kb, records_in, records_out, "
		"records_rejected, log_path, error) VALUES(?1, ?2, ?3, ?4, ?5, "
		"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[ST_CONSUMED_ADD] = "INSERT INTO consumed(dag, task, partition, "
		"attempt, need_task, need_partition, need_attempt, input, size, "
		"mtime_ns, inode) VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
		"coalesce((SELECT made FROM instances WHERE dag=?1 AND task=?5 "
		"AND partition=?6), 0), ?7, ?8, ?9, ?10)",
	[ST_CONSUMED_TRIM] = "DELETE FROM consumed WHERE dag=?1 AND task=?2 "
		"AND partition=?3 AND attempt<?4",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

/*
 * A trigger appending the instance of row (NEW or OLD) to changes: a
 * plain insert at the end of its rowids, the cheapest write a trigger
 * can make (no index, no upsert).
 */
#define CHANGED_ON(name, event, table, row) \
	"CREATE TRIGGER IF NOT EXISTS " name " AFTER " event " ON " table \
	" BEGIN INSERT INTO changes(dag, task, partition) VALUES(" row \
	".dag, " row ".task, " row ".partition); END;"

/*
 * Schema migrations: migrations[v] brings a database from version v to
 * v + 1.  A new version appends an entry; old entries never change.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY,"
	" dag TEXT NOT NULL,"
	" args TEXT,"
	" host TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" started INTEGER NOT NULL,"	/* unix ms */
	" heartbeat INTEGER NOT NULL,"
	" finished INTEGER,"
	" status INTEGER);"
	"CREATE TABLE instances ("
	" dag TEXT NOT NULL,"
	" task TEXT NOT NULL,"
	" partition TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" records_in INTEGER, records_out INTEGER, records_rejected INTEGER,"
	" duration_s REAL,"
	" updated INTEGER,"
	" PRIMARY KEY (dag, task, partition)) WITHOUT ROWID;"
	"CREATE TABLE attempts ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL,"
	" dag TEXT NOT NULL,"
	" task TEXT NOT NULL,"
	" partition TEXT NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" state TEXT NOT NULL,"
	" exit_code INTEGER,"
	" signal INTEGER,"
	" started INTEGER,"
	" duration_s REAL,"
	" max_rss_kb INTEGER,"
	" records_in INTEGER, records_out INTEGER, records_rejected INTEGER,"
	" log_path TEXT,"
	" error TEXT,"
	" UNIQUE (dag, task, partition, attempt));"
	"CREATE TABLE leases ("
	" dag TEXT NOT NULL,"
	" task TEXT NOT NULL,"
	" partition TEXT NOT NULL,"
	" run_id INTEGER NOT NULL,"
	" since INTEGER NOT NULL,"
	" PRIMARY KEY (dag, task, partition)) WITHOUT ROWID;"
	"CREATE INDEX leases_run ON leases(run_id);",
	/*
	 * 1 -> 2: what `dag-cli scheduler` decided to start, one row per
	 * partition, written in the transaction that makes the decision.
	 */
	"CREATE TABLE schedule ("
	" dag TEXT NOT NULL,"
	" partition TEXT NOT NULL,"
	" due INTEGER NOT NULL,"		/* unix ms it fell due */
	" state TEXT NOT NULL,"		/* queued running waiting done failed gave_up */
	" tries INTEGER NOT NULL DEFAULT 0,"
	" started INTEGER,"		/* unix ms of the latest try */
	" next_try INTEGER,"		/* waiting: unix ms of the next */
	" finished INTEGER,"
	" exit_code INTEGER,"
	" pid INTEGER,"			/* of the latest try's run */
	" PRIMARY KEY (dag, partition)) WITHOUT ROWID;",
	/*
	 * 2 -> 3: staleness.  made: the attempt whose output is the
	 * target now; def: the digest of the definition it ran; consumed:
	 * what each done attempt consumed.
	 */
	"ALTER TABLE instances ADD COLUMN made INTEGER;"
	"ALTER TABLE instances ADD COLUMN def TEXT;"
	"CREATE TABLE consumed ("
	" dag TEXT NOT NULL,"
	" task TEXT NOT NULL,"
	" partition TEXT NOT NULL,"
	" attempt INTEGER NOT NULL,"	/* the consumer's */
	" need_task TEXT,"
	" need_partition TEXT,"
	" need_attempt INTEGER,"	/* the need's made when consumed */
	" input TEXT,"
	" size INTEGER,"		/* -1: the input was gone */
	" mtime_ns INTEGER,"
	" inode INTEGER);"
	"CREATE INDEX consumed_by ON consumed(dag, task, partition, attempt);",
	/*
	 * 3 -> 4: provenance.  The commit of the DAG file's git repository
	 * a run loaded it from (NULL: in none) and whether the file was
	 * dirty.
	 */
	("ALTER TABLE runs ADD COLUMN git_commit TEXT;"
	"ALTER TABLE runs ADD COLUMN git_dirty INTEGER;"),
	/*
	 * 4 -> 5: the process group of a lease's running command, so a run
	 * that takes the lease over can stop what the dead run started.
	 */
	"ALTER TABLE leases ADD COLUMN pgid INTEGER;",
	/*
	 * 5 -> 6: which instances changed, in order, so a reader that keeps
	 * the history (the web server) reads again only those.  Every
	 * write to an instance's row or its consumed rows appends the
	 * instance, whoever writes it (triggers; leases are few enough for
	 * such a reader to read whole); a committed seq is above every seq
	 * committed before it.  The oldest are dropped as 10,000 more come,
	 * so at most 60,000 are kept (a reader that finds the ones after its
	 * last gone reads everything again).
	 */
	"CREATE TABLE IF NOT EXISTS changes ("
	" seq INTEGER PRIMARY KEY,"
	" dag TEXT,"
	" task TEXT,"
	" partition TEXT);"
	CHANGED_ON("instances_ins", "INSERT", "instances", "NEW")
	CHANGED_ON("instances_upd", "UPDATE", "instances", "NEW")
	CHANGED_ON("instances_del", "DELETE", "instances", "OLD")
	CHANGED_ON("consumed_ins", "INSERT", "consumed", "NEW")
	CHANGED_ON("consumed_del", "DELETE", "consumed", "OLD")
	"CREATE TRIGGER IF NOT EXISTS changes_trim AFTER INSERT ON changes "
	"WHEN NEW.seq % 10000 = 0 BEGIN "
	"DELETE FROM changes WHERE seq <= NEW.seq - 50000; END;",
};

int
state_busy_ms(void)
{
	const char *v = getenv("DAG_STATE_TIMEOUT");
	char *end;
	double sec;

	if (!v || !*v)
		return STATE_BUSY_TIMEOUT_MS;
	errno = 0;
	sec = strtod(v, &end);
	if (errno || *end || sec < 0 || sec > 86400)
		return STATE_BUSY_TIMEOUT_MS;
	return (int)(sec * 1000);
}

/* The inode of path, or 0. */
static unsigned long
inode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (unsigned long)sb.st_ino : 0;
}

/*
 * Who holds a write lock on the database or its shared memory (SQLite's
 * locks are POSIX locks, listed in /proc/locks): "pid N (COMM)" into buf,
 * or "" when that cannot be told (not Linux, another host).
 */
static void
lock_holder(const struct state *s, char *buf, size_t len)
{
	char *shm = xasprintf("%s-shm", s->path), line[256], comm[64];
	unsigned long ino[2] = { inode_of(s->path), inode_of(shm) };
	FILE *fp = fopen("/proc/locks", "r");

	buf[0] = 0;
	free(shm);
	while (fp && fgets(line, sizeof(line), fp)) {
		char type[16], rw[16], *p;
		unsigned long i_no;
		long pid;
		FILE *cf;

		if (sscanf(line, "%*[^:]: %15s %*s %15s %ld %*x:%*x:%lu", type,
		    rw, &pid, &i_no) != 4 || strcmp(rw, "WRITE") || pid <= 0 ||
		    pid == (long)getpid() || !i_no ||
		    (i_no != ino[0] && i_no != ino[1]))
			continue;
		(void)type;
		snprintf(line, sizeof(line), "/proc/%ld/comm", pid);
		comm[0] = 0;
		if ((cf = fopen(line, "r"))) {
			if (!fgets(comm, sizeof(comm), cf))
				comm[0] = 0;
			fclose(cf);
		}
		if ((p = strchr(comm, '\n')))
			*p = 0;
		snprintf(buf, len, "pid %ld%s%s%s", pid, *comm ? " (" : "",
			comm, *comm ? ")" : "");
		break;
	}
	if (fp)
		fclose(fp);
}

/*
 * The database stayed locked by another process past the busy timeout:
 * -EBUSY with a message that says for how long and, when it can be told,
 * by whom.
 */
static int
busy_err(struct state *s, struct err *e, const char *what)
{
	char who[128];

	lock_holder(s, who, sizeof(who));
	return err_set(e, -EBUSY, "state database '%s': %s: locked by %s for "
		"more than %g s (DAG_STATE_TIMEOUT)", s->path, what,
		*who ? who : "another process",
		(double)state_busy_ms() / 1000.0);
}

int
state_db_err(struct state *s, struct err *e, const char *what)
{
	int code = sqlite3_errcode(s->db);

	if (code == SQLITE_BUSY)
		return busy_err(s, e, what);
	return err_set(e, -EIO, "state database '%s': %s: %s", s->path, what,
		sqlite3_errmsg(s->db));
}

static int
exec_sql(struct state *s, const char *sql, struct err *e)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_BUSY)
			busy_err(s, e, msg ? msg : sqlite3_errstr(rc));
		else
			err_set(e, -EIO, "state database '%s': %s", s->path,
				msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
	}
	return 0;
}

static int
user_version(struct state *s, int *v)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
migrate(struct state *s, int from, struct err *e)
{
	char buf[64];
	int v, rc;

	if (exec_sql(s, "BEGIN IMMEDIATE", e) < 0)
		return e->code;
	/* Another process may have migrated while we waited for the lock. */
	if (user_version(s, &from) != SQLITE_OK) {
		rc = state_db_err(s, e, "cannot read the schema version");
		goto fail;
	}
	for (v = from; v < STATE_SCHEMA_VERSION; v++) {
		rc = exec_sql(s, migrations[v], e);
		if (rc < 0)
			goto fail;
	}
	snprintf(buf, sizeof(buf), "PRAGMA user_version=%d",
		STATE_SCHEMA_VERSION);
	rc = exec_sql(s, buf, e);
	if (rc < 0)
		goto fail;
	return exec_sql(s, "COMMIT", e);
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * Move a damaged database aside, its WAL with it (what a look at the
 * damage may need), and forget its shared memory.
 */
static void
move_aside(const char *path)
{
	char *aside = xasprintf("%s.damaged-%ld", path, (long)time(NULL));
	char *wal = xasprintf("%s-wal", path);
	char *aside_wal = xasprintf("%s-wal", aside);
	char *shm = xasprintf("%s-shm", path);

	fprintf(stderr, "dag-cli: warning: state database '%s' is damaged; "
		"moved it to '%s' and starting a new one (the targets are "
		"the truth: only the history is lost)\n", path, aside);
	rename(path, aside);
	rename(wal, aside_wal);
	unlink(shm);
	free(aside);
	free(wal);
	free(aside_wal);
	free(shm);
}

int
state_damaged(struct state *s)
{
	sqlite3_stmt *st;
	const unsigned char *v;
	int rc, bad;

	if (!s->db)
		return STATE_WHOLE;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			v = sqlite3_column_text(st, 0);
			rc = v && !strcmp((const char *)v, "ok") ? SQLITE_OK :
				SQLITE_CORRUPT;
		}
		sqlite3_finalize(st);
	}
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		bad = STATE_NOT_A_DB;
		break;
	case SQLITE_CORRUPT:
		bad = STATE_DAMAGED;
		break;
	default:
		bad = STATE_WHOLE;
	}
	return bad;
}

/* Remember which file was opened (state_salvage compares). */
static void
note_file(struct state *s)
{
	struct stat sb;

	if (stat(s->path, &sb) == 0) {
		s->dev = (uint64_t)sb.st_dev;
		s->ino = (uint64_t)sb.st_ino;
	}
}

/* Is the file at s->path still the one s opened? */
static int
same_file(const struct state *s)
{
	struct stat sb;

	return stat(s->path, &sb) == 0 && (uint64_t)sb.st_dev == s->dev &&
		(uint64_t)sb.st_ino == s->ino;
}

/*
 * Checkpoint at close only a WAL grown past STATE_WAL_KEEP_BYTES (see
 * open_rest).  Its size on disk is the measure: a WAL restarted by an
 * automatic checkpoint keeps its length, so it is taken back here too.
 */
static void
close_checkpoint(struct state *s)
{
	char *wal;
	struct stat sb;

	if (!s->db || s->readonly)
		return;
	wal = xasprintf("%s-wal", s->path);
	if (stat(wal, &sb) == 0 && sb.st_size >= STATE_WAL_KEEP_BYTES)
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0,
			NULL);
	free(wal);
}

static void
close_db(struct state *s)
{
	size_t i;

	for (i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(s->st[i]);
		s->st[i] = NULL;
	}
	close_checkpoint(s);
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
	s->in_txn = 0;
}

static int
open_db(struct state *s, struct err *e)
{
	int flags = s->readonly ? SQLITE_OPEN_READONLY :
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc;

	rc = sqlite3_open_v2(s->path, &s->db, flags | SQLITE_OPEN_NOMUTEX,
		NULL);
	if (rc != SQLITE_OK) {
		err_set(e, rc == SQLITE_CANTOPEN ? -ENOENT : -EIO,
			"cannot open state database '%s': %s", s->path,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		return e->code;
	}
	sqlite3_busy_timeout(s->db, state_busy_ms());
	return 0;
}

static char *
logs_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup("logs");
	return xasprintf("%.*slogs", (int)(slash - path + 1), path);
}

/* Is the file at path empty (a database SQLite has just created)? */
static int
empty_file(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && sb.st_size == 0;
}

/*
 * Bring an open database up to date and prepare the statements.  0 or
 * negative errno with e filled (s->db stays open for a look at why).
 */
static int
open_rest(struct state *s, int v, struct err *e)
{
	size_t i;

	if (v > STATE_SCHEMA_VERSION)
		return err_set(e, -EPROTO, "state database '%s' has schema "
			"version %d; this dag-cli knows up to %d", s->path, v,
			STATE_SCHEMA_VERSION);
	s->version = s->readonly ? v : STATE_SCHEMA_VERSION;
	if (s->readonly) {
		/* An older schema is read as it is; what it lacks is empty. */
		if (v < 1)
			return err_set(e, -ENOENT, "state database '%s' has no "
				"history yet", s->path);
	} else {
		/*
		 * A new file is made without fsyncs: its first page goes
		 * to WAL mode through a rollback journal (three syncs and
		 * the directory's), then the schema to a new WAL (its
		 * header's sync and the directory's), all protecting a
		 * history not yet written.  A power cut can leave a file
		 * that is not a database, moved aside at the next open, or
		 * an empty one, migrated again.
		 */
		int fresh = empty_file(s->path);

		if (fresh && exec_sql(s, "PRAGMA synchronous=OFF", e) < 0)
			return e->code;
		if (sqlite_use_wal(s->db, state_busy_ms()) != SQLITE_OK)
			return state_db_err(s, e, "cannot switch to WAL mode");
		/*
		 * The last close's checkpoint would fdatasync the WAL and
		 * the database, most of a short run's end: the WAL stays
		 * until it is large (close_checkpoint).  Its commits are
		 * as durable as synchronous=NORMAL makes them either way.
		 */
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
			NULL);
		if (v < STATE_SCHEMA_VERSION && migrate(s, v, e) < 0)
			return e->code;
		if (exec_sql(s, "PRAGMA synchronous=NORMAL", e) < 0)
			return e->code;
	}
	for (i = 0; i < ST__COUNT; i++) {
		if (s->readonly && i != ST_RUN_GET)
			continue;
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
			return state_db_err(s, e, "cannot prepare a statement");
	}
	return 0;
}

int
state_open(struct state *s, const char *path, int readonly, struct err *e)
{
	int v = 0, rc, tries;

	memset(s, 0, sizeof(*s));
	s->path = xstrdup(path);
	s->logs_dir = logs_dir_of(path);
	s->readonly = readonly;
	s->lease_ttl_ms = STATE_LEASE_TTL_MS;
	if (gethostname(s->host, sizeof(s->host) - 1) < 0)
		strcpy(s->host, "localhost");
	if (!readonly) {
		rc = mkdir_parent(path);
		if (rc < 0)
			return err_set(e, rc, "cannot create the directory of "
				"'%s': %s", path, strerror(-rc));
	}
	/*
	 * A writer that finds the file damaged (not a database, truncated,
	 * or a page malformed where opening reads) moves it aside and starts
	 * a new one, once.  A damaged page further in shows on a later
	 * query: see state_salvage.
	 */
	for (tries = 0; tries < 2; tries++) {
		int unreadable = 0;

		rc = open_db(s, e);
		if (rc < 0)
			return rc;
		note_file(s);
		rc = user_version(s, &v);
		if (rc == SQLITE_OK) {
			rc = open_rest(s, v, e);
		} else if ((rc != SQLITE_NOTADB && rc != SQLITE_CORRUPT) ||
		    readonly || tries) {
			return state_db_err(s, e, "cannot read the schema version");
		} else {
			unreadable = 1;
			rc = -EIO;
		}
		if (rc == 0)
			return 0;
		if (readonly || tries || rc == -EPROTO || rc == -EBUSY ||
		    (!unreadable && !state_damaged(s)))
			return rc;
		close_db(s);
		move_aside(path);
		err_clear(e);
	}
	return rc;
}

int
state_salvage(struct state *s, struct err *e)
{
	struct state fresh;
	char *dag = s->run_dag, *args = s->run_args;
	int rc;

	if (s->readonly || !s->db)
		return e->code ? e->code : -EIO;
	if (s->in_txn)
		state_rollback(s);
	if (!state_damaged(s))
		return e->code ? e->code : -EIO;
	close_db(s);
	/* Another run may have moved it aside and started a new one. */
	if (same_file(s))
		move_aside(s->path);
	rc = state_open(&fresh, s->path, 0, e);
	if (rc == 0 && dag) {
		s->run_dag = s->run_args = NULL;
		fresh.lease_ttl_ms = s->lease_ttl_ms;
		fresh.git_commit = s->git_commit;
		fresh.git_dirty = s->git_dirty;
		rc = state_run_begin(&fresh, dag, args, s->run_started, e);
		free(dag);
		free(args);
	}
	if (rc < 0) {
		state_release(&fresh);
		return rc;
	}
	fresh.lease_ttl_ms = s->lease_ttl_ms;
	state_release(s);
	*s = fresh;
	return 0;
}

void
state_release(struct state *s)
{
	close_db(s);
	free(s->path);
	free(s->logs_dir);
	free(s->run_dag);
	free(s->run_args);
	memset(s, 0, sizeof(*s));
}

/* Run a prepared statement that returns no rows, then reset it. */
int
state_step_done(struct state *s, sqlite3_stmt *st, struct err *e,
	const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return state_db_err(s, e, what);
	return 0;
}

void
state_bind_inst(sqlite3_stmt *st, const char *dag, const char *task,
	const char *partition)
{
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, task, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, partition, -1, SQLITE_STATIC);
}

int
state_begin(struct state *s, struct err *e)
{
	int rc;

	if (s->in_txn)
		return 0;
	rc = state_step_done(s, s->st[ST_BEGIN], e, "cannot begin a transaction");
	if (rc == 0)
		s->in_txn = 1;
	return rc;
}

int
state_commit(struct state *s, struct err *e)
{
	int rc;

	if (!s->in_txn)
		return 0;
	rc = state_step_done(s, s->st[ST_COMMIT], e, "cannot commit");
	if (rc < 0) {
		state_step_done(s, s->st[ST_ROLLBACK], NULL, "rollback");
	}
	s->in_txn = 0;
	return rc;
}

void
state_rollback(struct state *s)
{
	if (!s->in_txn)
		return;
	state_step_done(s, s->st[ST_ROLLBACK], NULL, "rollback");
	s->in_txn = 0;
}

static void
bind_count(sqlite3_stmt *st, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

/* What a done attempt consumed, replacing what its earlier ones did. */
static int
consumed_add(struct state *s, const char *dag, const struct attempt_rec *a,
	struct err *e)
{
	sqlite3_stmt *st = s->st[ST_CONSUMED_TRIM];
	size_t i;
	int rc;

	state_bind_inst(st, dag, a->task, a->partition);
	sqlite3_bind_int(st, 4, a->attempt);
	rc = state_step_done(s, st, e, "cannot record what an attempt consumed");
	for (i = 0; rc == 0 && i < a->n_consumed; i++) {
		const struct consumed_rec *c = &a->consumed[i];

		st = s->st[ST_CONSUMED_ADD];
		state_bind_inst(st, dag, a->task, a->partition);
		sqlite3_bind_int(st, 4, a->attempt);
		if (c->need_task) {
			sqlite3_bind_text(st, 5, c->need_task, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, c->need_partition, -1,
				SQLITE_STATIC);
		} else {
			sqlite3_bind_text(st, 7, c->input, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 8, c->size);
			sqlite3_bind_int64(st, 9, c->mtime_ns);
			sqlite3_bind_int64(st, 10, c->inode);
		}
		rc = state_step_done(s, st, e, "cannot record what an attempt "
			"consumed");
	}
	return rc;
}

/* The attempts row of a, made by run. */
static int
attempt_add(struct state *s, int64_t run, const char *dag,
	const struct attempt_rec *a, struct err *e)
{
	sqlite3_stmt *st = s->st[ST_ATTEMPT_ADD];
	double dur = (double)a->duration_ms / 1000.0;

	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, dag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->task, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->partition, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, a->attempt);
	sqlite3_bind_text(st, 6, attempt_state_name(a->state), -1,
		SQLITE_STATIC);
	if (a->signal)
		sqlite3_bind_null(st, 7);
	else
		sqlite3_bind_int(st, 7, a->exit_code);
	if (a->signal)
		sqlite3_bind_int(st, 8, a->signal);
	sqlite3_bind_int64(st, 9, a->started_ms);
	sqlite3_bind_double(st, 10, dur);
	bind_count(st, 11, a->max_rss_kb);
	bind_count(st, 12, a->records_in);
	bind_count(st, 13, a->records_out);
	bind_count(st, 14, a->records_rejected);
	if (a->log_path)
		sqlite3_bind_text(st, 15, a->log_path, -1, SQLITE_STATIC);
	if (a->error)
		sqlite3_bind_text(st, 16, a->error, -1, SQLITE_STATIC);
	return state_step_done(s, st, e, "cannot record an attempt");
}

int
state_attempt_adopted(struct state *s, const char *dag,
	const struct attempt_rec *a, struct err *e)
{
	sqlite3_stmt *st = s->st[ST_LEASE_GET];
	int64_t holder = s->run_id;

	state_bind_inst(st, dag, a->task, a->partition);
	if (sqlite3_step(st) == SQLITE_ROW)
		holder = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return attempt_add(s, holder, dag, a, e);
}

int
state_attempt_finish(struct state *s, const char *dag,
	const struct attempt_rec *a, struct err *e)
{
	double dur = (double)a->duration_ms / 1000.0;
	sqlite3_stmt *st;
	int rc;

	rc = attempt_add(s, s->run_id, dag, a, e);
	if (rc < 0)
		return rc;
	st = s->st[ST_INST_FINISH];
	state_bind_inst(st, dag, a->task, a->partition);
	sqlite3_bind_text(st, 4, attempt_state_name(a->state), -1,
		SQLITE_STATIC);
	bind_count(st, 5, a->records_in);
	bind_count(st, 6, a->records_out);
	bind_count(st, 7, a->records_rejected);
	sqlite3_bind_double(st, 8, dur);
	sqlite3_bind_int64(st, 9, a->started_ms + a->duration_ms);
	sqlite3_bind_int(st, 10, a->attempt);
	if (a->def)
		sqlite3_bind_text(st, 11, a->def, -1, SQLITE_STATIC);
	rc = state_step_done(s, st, e, "cannot record an instance");
	if (rc == 0 && a->state == ATTEMPT_DONE)
		rc = consumed_add(s, dag, a, e);
	if (rc < 0 || !a->final)
		return rc;
	st = s->st[ST_LEASE_DEL];
	state_bind_inst(st, dag, a->task, a->partition);
	sqlite3_bind_int64(st, 4, s->run_id);
	return state_step_done(s, st, e, "cannot release a lease");
}
