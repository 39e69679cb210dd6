/*
 * Runs and leases in the state database: a run's row and heartbeat, and
 * the lease on each instance it works on (claimed in one transaction, so
 * two runs never do the same work; taken over only from a run that is
 * gone, its attempt recorded as interrupted).
 */
#include "config.h"
#include "state.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state_priv.h"

int
state_run_begin(struct state *s, const char *dag, const char *args,
	int64_t now, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "INSERT INTO runs(dag, args, host, pid, "
		"started, heartbeat, git_commit, git_dirty) VALUES(?1, ?2, ?3, "
		"?4, ?5, ?5, ?6, ?7)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot record the run");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, args, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)getpid());
	sqlite3_bind_int64(st, 5, now);
	if (s->git_commit) {
		sqlite3_bind_text(st, 6, s->git_commit, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 7, s->git_dirty);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return state_db_err(s, e, "cannot record the run");
	s->run_id = sqlite3_last_insert_rowid(s->db);
	if (s->run_dag != dag) {
		free(s->run_dag);
		s->run_dag = xstrdup(dag);
	}
	if (s->run_args != args) {
		free(s->run_args);
		s->run_args = xstrdup(args);
	}
	s->run_started = now;
	return 0;
}

int
state_run_provenance(struct state *s, const char *commit, int dirty)
{
	sqlite3_stmt *st;
	int rc;

	s->git_commit = commit;
	s->git_dirty = dirty;
	if (!s->run_id)
		return 0;
	rc = sqlite3_prepare_v2(s->db, "UPDATE runs SET git_commit = ?2, "
		"git_dirty = ?3 WHERE id = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, s->run_id);
	sqlite3_bind_text(st, 2, commit, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, dirty);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int
exec_run_update(struct state *s, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st;
	int rc;

	if (!s->run_id)
		return 0;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, s->run_id);
	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
state_run_heartbeat(struct state *s, int64_t now)
{
	return exec_run_update(s, "UPDATE runs SET heartbeat=?2 WHERE id=?1",
		now, 0);
}

int
state_run_end(struct state *s, int status, int64_t now)
{
	int rc;

	rc = exec_run_update(s, "UPDATE runs SET heartbeat=?2, finished=?2, "
		"status=?3 WHERE id=?1", now, status);
	if (rc == 0)
		rc = exec_run_update(s, "DELETE FROM leases WHERE run_id=?1",
			0, 0);
	return rc;
}

/*
 * Is run id alive?  1 alive, 0 dead, with its pid in *pid and whether it
 * ran on this host in *here.  A run of this very process that is not
 * s->run_id is an earlier run in the same process (tests): dead.
 */
static int
run_alive(struct state *s, int64_t id, int64_t now, long *pid, int *here)
{
	sqlite3_stmt *st = s->st[ST_RUN_GET];
	int alive = 0;

	*pid = 0;
	*here = 0;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *host = (const char *)sqlite3_column_text(st, 0);
		long p = (long)sqlite3_column_int64(st, 1);
		int64_t beat = sqlite3_column_int64(st, 2);
		int same_host = host && !strcmp(host, s->host);

		*pid = p;
		*here = same_host;
		alive = 1;
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			alive = 0;
		else if (same_host && p == (long)getpid())
			alive = id == s->run_id;
		else if (same_host && kill((pid_t)p, 0) < 0 && errno == ESRCH)
			alive = 0;
		else if (now - beat > s->lease_ttl_ms)
			alive = 0;
	}
	sqlite3_reset(st);
	return alive;
}

int
state_run_alive(struct state *s, int64_t run, int64_t now)
{
	long pid;
	int here;

	return run_alive(s, run, now, &pid, &here);
}

static int
interrupted_attempt(struct state *s, const char *dag, const char *task,
	const char *partition, int attempt, int64_t run, struct err *e)
{
	sqlite3_stmt *st = s->st[ST_ATTEMPT_ADD];

	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, dag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, task, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, partition, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, attempt);
	sqlite3_bind_text(st, 6, attempt_state_name(ATTEMPT_INTERRUPTED), -1,
		SQLITE_STATIC);
	sqlite3_bind_text(st, 16, "its scheduler died", -1, SQLITE_STATIC);
	return state_step_done(s, st, e, "cannot record an interrupted attempt");
}

int
state_lease_check(struct state *s, const char *dag, const char *task,
	const char *partition, int64_t now, struct lease_claim *c,
	struct err *e)
{
	sqlite3_stmt *st;
	int64_t holder = 0, pgid = 0;
	int rc, have_inst;

	memset(c, 0, sizeof(*c));
	c->now = now;
	st = s->st[ST_LEASE_GET];
	state_bind_inst(st, dag, task, partition);
	rc = sqlite3_step(st);
	c->have_row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		holder = sqlite3_column_int64(st, 0);
		pgid = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_db_err(s, e, "cannot read a lease");
	if (holder && holder != s->run_id) {
		if (run_alive(s, holder, now, &c->prev_pid, &c->prev_here))
			return 0;
		c->took_over = 1;
		c->prev_run = holder;
		c->prev_pgid = (long)pgid;
	}
	st = s->st[ST_INST_SEEN];
	state_bind_inst(st, dag, task, partition);
	rc = sqlite3_step(st);
	have_inst = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		c->last_update = sqlite3_column_int64(st, 0);
		c->attempt = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_db_err(s, e, "cannot read an instance");
	st = s->st[have_inst ? ST_INST_BUMP : ST_INST_ADD];
	state_bind_inst(st, dag, task, partition);
	sqlite3_bind_int64(st, 4, now);
	rc = state_step_done(s, st, e, "cannot count an attempt");
	if (rc < 0)
		return rc;
	c->attempt++;
	if (c->took_over && c->attempt > 1) {
		rc = interrupted_attempt(s, dag, task, partition,
			c->attempt - 1, c->prev_run, e);
		if (rc < 0)
			return rc;
	}
	return 1;
}

int
state_lease_put(struct state *s, const char *dag, const char *task,
	const char *partition, const struct lease_claim *c, long pgid,
	struct err *e)
{
	sqlite3_stmt *st = s->st[c->have_row ? ST_LEASE_TAKE : ST_LEASE_ADD];

	state_bind_inst(st, dag, task, partition);
	sqlite3_bind_int64(st, 4, s->run_id);
	sqlite3_bind_int64(st, 5, c->now);
	if (pgid > 0)
		sqlite3_bind_int64(st, 6, (sqlite3_int64)pgid);
	return state_step_done(s, st, e, "cannot write a lease");
}

int
state_lease_claim(struct state *s, const char *dag, const char *task,
	const char *partition, int64_t now, struct lease_claim *c,
	struct err *e)
{
	int own_txn = !s->in_txn, rc, got;

	if (own_txn && (rc = state_begin(s, e)) < 0) {
		memset(c, 0, sizeof(*c));
		return rc;
	}
	rc = got = state_lease_check(s, dag, task, partition, now, c, e);
	if (got == 1)
		rc = state_lease_put(s, dag, task, partition, c, 0, e);
	if (rc < 0) {
		if (own_txn)
			state_rollback(s);
		return rc;
	}
	if (own_txn && (rc = state_commit(s, e)) < 0)
		return rc;
	return got;
}

int
state_lease_pgid(struct state *s, const char *dag, const char *task,
	const char *partition, long pgid)
{
	sqlite3_stmt *st = s->st[ST_LEASE_PGID];

	state_bind_inst(st, dag, task, partition);
	sqlite3_bind_int64(st, 4, s->run_id);
	sqlite3_bind_int64(st, 5, pgid);
	return state_step_done(s, st, NULL, "cannot record a process group");
}

int
state_lease_release(struct state *s, const char *dag, const char *task,
	const char *partition)
{
	sqlite3_stmt *st = s->st[ST_LEASE_DEL];

	state_bind_inst(st, dag, task, partition);
	sqlite3_bind_int64(st, 4, s->run_id);
	return state_step_done(s, st, NULL, "cannot release a lease");
}

int
state_lease_abandon(struct state *s, const char *dag, const char *task,
	const char *partition, enum attempt_state state)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "UPDATE instances SET attempts="
		"max(attempts-1, 0), state=?4 WHERE dag=?1 AND task=?2 AND "
		"partition=?3", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	state_bind_inst(st, dag, task, partition);
	sqlite3_bind_text(st, 4, attempt_state_name(state), -1, SQLITE_STATIC);
	rc = state_step_done(s, st, NULL, "cannot record an instance");
	sqlite3_finalize(st);
	if (rc < 0)
		return rc;
	return state_lease_release(s, dag, task, partition);
}
