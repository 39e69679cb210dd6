/*
 * The state database: schema creation and its version, leases between
 * runs (a live holder keeps it, a finished or dead one loses it), attempt
 * numbering across runs, batched attempt records, log paths, and a
 * damaged file moved aside.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlite_wal.h"
#include "state.h"
#include "unit.h"

static char dir[64];

static char *
db_path(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-state-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	return xasprintf("%s/st/state.db", dir);
}

static void
cleanup(char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	CHECK_INT(system(cmd), ==, 0);
	free(cmd);
	free(path);
}

static int
count(struct state *s, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	CHECK_INT(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), ==, SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* path opens, and sql (a count) finds nothing. */
static void
check_empty_after_open(const char *path, const char *sql)
{
	struct state s;
	struct err e;

	CHECK_INT(state_open(&s, path, 0, &e), ==, 0);
	CHECK_INT(count(&s, sql), ==, 0);
	state_release(&s);
}

UNIT_TEST(creates_schema_in_wal_mode)
{
	char *path = db_path();
	struct state s;
	struct err e;
	sqlite3_stmt *st;

	CHECK_INT(state_open(&s, path, 0, &e), ==, 0);
	CHECK_INT(count(&s, "PRAGMA user_version"), ==, STATE_SCHEMA_VERSION);
	CHECK_INT(sqlite3_prepare_v2(s.db, "PRAGMA journal_mode", -1, &st,
		NULL), ==, SQLITE_OK);
	CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	CHECK(strstr(s.logs_dir, "/st/logs") != NULL);
	state_release(&s);
	/* Reopening keeps the schema and does not migrate again. */
	check_empty_after_open(path, "SELECT count(*) FROM runs");
	cleanup(path);
}

UNIT_TEST(a_newer_schema_is_refused)
{
	char *path = db_path();
	struct state s;
	struct err e;
	char want[96];

	CHECK_INT(state_open(&s, path, 0, &e), ==, 0);
	CHECK_INT(sqlite3_exec(s.db, "PRAGMA user_version=99", NULL, NULL,
		NULL), ==, SQLITE_OK);
	state_release(&s);
	CHECK_INT(state_open(&s, path, 0, &e), ==, -EPROTO);
	snprintf(want, sizeof(want), "has schema version 99; this dag-cli "
		"knows up to %d", STATE_SCHEMA_VERSION);
	CHECK(strstr(e.msg, want) != NULL);
	state_release(&s);
	cleanup(path);
}

UNIT_TEST(a_damaged_file_is_moved_aside)
{
	char *path = db_path();
	FILE *fp;

	CHECK_INT(mkdir_parent(path), ==, 0);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	fputs("this is not a database, but it is long enough to have a "
		"header that sqlite reads and rejects as not a database....\n",
		fp);
	fclose(fp);
	check_empty_after_open(path, "SELECT count(*) FROM attempts");
	cleanup(path);
}

UNIT_TEST(leases_exclude_a_live_run)
{
	char *path = db_path();
	struct state a, b;
	struct lease_claim c;
	struct err e;

	CHECK_INT(state_open(&a, path, 0, &e), ==, 0);
	CHECK_INT(state_open(&b, path, 0, &e), ==, 0);
	CHECK_INT(state_run_begin(&a, "d", "backfill", 1000, &e), ==, 0);
	CHECK_INT(state_run_begin(&b, "d", "backfill", 1000, &e), ==, 0);
	/* Both runs are this process: pretend b is another live host. */
	CHECK_INT(sqlite3_exec(b.db, "UPDATE runs SET host='elsewhere' WHERE "
		"id=1", NULL, NULL, NULL), ==, SQLITE_OK);
	CHECK_INT(state_lease_claim(&a, "d", "t", "2026-01-01", 2000, &c, &e),
		==, 1);
	CHECK_INT(c.attempt, ==, 1);
	CHECK_INT(c.took_over, ==, 0);
	/* Never recorded before this claim. */
	CHECK_INT(c.last_update, ==, 0);
	CHECK_INT(state_lease_claim(&b, "d", "t", "2026-01-01", 2000, &c, &e),
		==, 0);
	/* Its heartbeat expires: taken over, and the attempt is counted. */
	CHECK_INT(state_lease_claim(&b, "d", "t", "2026-01-01",
		2000 + STATE_LEASE_TTL_MS, &c, &e), ==, 1);
	CHECK_INT(c.took_over, ==, 1);
	CHECK_INT(c.prev_run, ==, a.run_id);
	CHECK_INT(c.attempt, ==, 2);
	/* a's claim at 2000 is the last record of it. */
	CHECK_INT(c.last_update, ==, 2000);
	CHECK_INT(count(&b, "SELECT count(*) FROM attempts WHERE "
		"state='interrupted' AND attempt=1"), ==, 1);
	state_release(&a);
	state_release(&b);
	cleanup(path);
}

UNIT_TEST(a_dead_owner_loses_its_lease)
{
	char *path = db_path();
	struct state a, b;
	struct lease_claim c;
	struct err e;
	pid_t pid;
	char *sql;

	CHECK_INT(state_open(&a, path, 0, &e), ==, 0);
	CHECK_INT(state_run_begin(&a, "d", "run", 1000, &e), ==, 0);
	CHECK_INT(state_lease_claim(&a, "d", "t", "2026-01-01", 1000, &c, &e),
		==, 1);
	/* Give the run the pid of a process that has exited. */
	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	sql = xasprintf("UPDATE runs SET pid=%ld", (long)pid);
	CHECK_INT(sqlite3_exec(a.db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	free(sql);
	CHECK_INT(state_open(&b, path, 0, &e), ==, 0);
	CHECK_INT(state_run_begin(&b, "d", "run", 1000, &e), ==, 0);
	CHECK_INT(state_lease_claim(&b, "d", "t", "2026-01-01", 1001, &c, &e),
		==, 1);
	CHECK_INT(c.took_over, ==, 1);
	CHECK_INT(c.prev_pid, ==, pid);
	state_release(&a);
	state_release(&b);
	cleanup(path);
}

UNIT_TEST(attempts_are_recorded_in_batches)
{
	char *path = db_path();
	struct state s;
	struct lease_claim c;
	struct attempt_rec a;
	struct inst_rec *recs;
	size_t n;
	char *log, *first, *last;
	int at;
	struct err e;

	CHECK_INT(state_open(&s, path, 0, &e), ==, 0);
	CHECK_INT(state_run_begin(&s, "d", "run", 1000, &e), ==, 0);
	CHECK_INT(state_lease_claim(&s, "d", "t", "2026-01-02", 1000, &c, &e),
		==, 1);
	memset(&a, 0, sizeof(a));
	a.task = "t";
	a.partition = "2026-01-02";
	a.attempt = c.attempt;
	a.state = ATTEMPT_FAILED;
	a.exit_code = 1;
	a.duration_ms = 1500;
	a.records_in = a.records_out = a.records_rejected = -1;
	a.max_rss_kb = 100;
	a.log_path = "logs/d/t/2026-01-02.1.log";
	CHECK_INT(state_begin(&s, &e), ==, 0);
	CHECK_INT(state_attempt_finish(&s, "d", &a, &e), ==, 0);
	CHECK_INT(state_commit(&s, &e), ==, 0);
	/* Not final: the lease stays for the retry, which is attempt 2. */
	CHECK_INT(count(&s, "SELECT count(*) FROM leases"), ==, 1);
	CHECK_INT(state_lease_claim(&s, "d", "t", "2026-01-02", 2000, &c, &e),
		==, 1);
	CHECK_INT(c.attempt, ==, 2);
	a.attempt = 2;
	a.state = ATTEMPT_DONE;
	a.exit_code = 0;
	a.records_out = 7;
	a.final = 1;
	a.log_path = "logs/d/t/2026-01-02.2.log";
	CHECK_INT(state_attempt_finish(&s, "d", &a, &e), ==, 0);
	CHECK_INT(count(&s, "SELECT count(*) FROM leases"), ==, 0);
	CHECK_INT(state_instances(&s, "d", NULL, NULL, 3000, &recs, &n, &e),
		==, 0);
	CHECK_INT(n, ==, 1);
	CHECK_INT(recs[0].state, ==, ATTEMPT_DONE);
	CHECK_INT(recs[0].attempts, ==, 2);
	CHECK_INT(recs[0].records_out, ==, 7);
	CHECK_INT(recs[0].records_in, ==, -1);
	CHECK_INT(recs[0].running, ==, 0);
	state_inst_recs_free(recs, n);
	CHECK_INT(state_attempt_log(&s, "d", "t", "2026-01-02", 0, &log, &at,
		&e), ==, 0);
	CHECK_STR(log, "logs/d/t/2026-01-02.2.log");
	CHECK_INT(at, ==, 2);
	free(log);
	CHECK_INT(state_attempt_log(&s, "d", "t", "2026-01-02", 1, &log, &at,
		&e), ==, 0);
	CHECK_STR(log, "logs/d/t/2026-01-02.1.log");
	free(log);
	CHECK_INT(state_attempt_log(&s, "d", "t", "2026-01-02", 3, &log, &at,
		&e), ==, -ENOENT);
	CHECK_INT(state_partition_span(&s, "d", &first, &last, &e), ==, 0);
	CHECK_STR(first, "2026-01-02");
	CHECK_STR(last, "2026-01-02");
	free(first);
	free(last);
	CHECK_INT(state_run_end(&s, 0, 4000), ==, 0);
	CHECK_INT(count(&s, "SELECT count(*) FROM runs WHERE finished=4000 AND "
		"status=0"), ==, 1);
	log = state_log_path(&s, "d", "t", "2026-01-02", 3);
	CHECK(strstr(log, "/st/logs/d/t/2026-01-02.3.log") != NULL);
	free(log);
	state_release(&s);
	cleanup(path);
}

UNIT_TEST(run_end_drops_its_leases)
{
	char *path = db_path();
	struct state s;
	struct lease_claim c;
	struct err e;

	CHECK_INT(state_open(&s, path, 0, &e), ==, 0);
	CHECK_INT(state_run_begin(&s, "d", "run", 1000, &e), ==, 0);
	CHECK_INT(state_lease_claim(&s, "d", "a", "2026-01-01", 1000, &c, &e),
		==, 1);
	CHECK_INT(state_lease_claim(&s, "d", "b", "2026-01-01", 1000, &c, &e),
		==, 1);
	CHECK_INT(state_lease_release(&s, "d", "a", "2026-01-01"), ==, 0);
	CHECK_INT(count(&s, "SELECT count(*) FROM leases"), ==, 1);
	CHECK_INT(state_run_end(&s, 1, 2000), ==, 0);
	CHECK_INT(count(&s, "SELECT count(*) FROM leases"), ==, 0);
	state_release(&s);
	cleanup(path);
}

/* A child holds a rollback-mode write lock on path until told to let go. */
static pid_t
hold_write_lock(const char *path, int *release_fd)
{
	int locked[2], release[2];
	char c;
	pid_t pid;

	CHECK_INT(pipe(locked), ==, 0);
	CHECK_INT(pipe(release), ==, 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		sqlite3 *db;
		int ok;

		close(locked[0]);
		close(release[1]);
		ok = sqlite3_open(path, &db) == SQLITE_OK &&
			sqlite3_exec(db, "BEGIN IMMEDIATE; CREATE TABLE t(x); "
			"INSERT INTO t VALUES (1)", NULL, NULL, NULL) == SQLITE_OK;
		c = ok ? 'y' : 'n';
		if (write(locked[1], &c, 1) != 1 || !ok)
			_exit(1);
		if (read(release[0], &c, 1) != 1)
			_exit(1);
		/* Let the parent start waiting before the lock goes. */
		usleep(200 * 1000);
		_exit(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) ==
			SQLITE_OK ? 0 : 1);
	}
	close(locked[1]);
	close(release[0]);
	CHECK_INT(read(locked[0], &c, 1), ==, 1);
	CHECK_INT(c, ==, 'y');
	close(locked[0]);
	*release_fd = release[1];
	return pid;
}

UNIT_TEST(wal_switch_waits_for_a_writer)
{
	char *path = db_path();
	char *file = xasprintf("%s/wal.db", dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	int release_fd, status;
	pid_t pid = hold_write_lock(file, &release_fd);

	CHECK_INT(sqlite3_open(file, &db), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	/* What SQLite does by itself: fail at once, busy timeout or not. */
	CHECK_INT(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL,
		NULL) & 0xff, ==, SQLITE_BUSY);
	/* Out of time while the writer holds on: busy, not a wrong answer. */
	CHECK_INT(sqlite_use_wal(db, 20) & 0xff, ==, SQLITE_BUSY);
	/* With time to wait, the switch happens once the writer commits. */
	CHECK_INT(write(release_fd, "x", 1), ==, 1);
	CHECK_INT(sqlite_use_wal(db, 10000), ==, SQLITE_OK);
	CHECK_INT(waitpid(pid, &status, 0), ==, pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL),
		==, SQLITE_OK);
	CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* Already WAL: nothing to wait for. */
	CHECK_INT(sqlite_use_wal(db, 0), ==, SQLITE_OK);
	sqlite3_close(db);
	close(release_fd);
	free(file);
	cleanup(path);
}

UNIT_MAIN(creates_schema_in_wal_mode, a_newer_schema_is_refused,
	a_damaged_file_is_moved_aside, leases_exclude_a_live_run,
	a_dead_owner_loses_its_lease, attempts_are_recorded_in_batches,
	run_end_drops_its_leases, wal_switch_waits_for_a_writer)
