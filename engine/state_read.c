/*
 * Reading the state database for status, the web and logs: the latest
 * record of each instance of a range (with who is running it), what the
 * attempts of a range consumed, the span of partitions recorded, and the
 * log of an attempt.  Writes are state.c's.
 */
#include "config.h"
#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "state_priv.h"

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return xstrdup(t ? t : "");
}

static int64_t
col_count(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return -1;
	return sqlite3_column_int64(st, i);
}

/*
 * The partition range of a query's "(?2 IS NULL OR p >= ?2) AND (?3 IS
 * NULL OR p <= ?3 || 'z')": a NULL end is no bound; 'z' takes in the
 * repeated hour of to ("2026-11-01T01b").
 */
static void
bind_range(sqlite3_stmt *st, const char *from, const char *to)
{
	if (from)
		sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	if (to)
		sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
}

int
state_instances(struct state *s, const char *dag, const char *from,
	const char *to, int64_t now, struct inst_rec **out, size_t *n,
	struct err *e)
{
	struct { struct inst_rec *v; size_t n, cap; } recs = { 0 };
	sqlite3_stmt *st;
	char *sql;
	int rc;

	*out = NULL;
	*n = 0;
	/* The run that made the target: the attempt numbered made. */
	sql = xasprintf("SELECT i.task, i.partition, i.state, "
		"i.attempts, i.records_in, i.records_out, i.records_rejected, "
		"i.duration_s, l.run_id, %s, %s FROM instances i LEFT JOIN "
		"leases l ON l.dag=i.dag AND l.task=i.task AND "
		"l.partition=i.partition %s"
		"WHERE i.dag=?1 AND (?2 IS NULL OR i.partition >= ?2) AND "
		"(?3 IS NULL OR i.partition <= ?3 || 'z') "
		"ORDER BY i.partition, i.task",
		s->version >= 3 ? "i.def" : "NULL",
		s->version >= 4 ? "r.git_commit, r.git_dirty" : "NULL, NULL",
		s->version >= 4 ? "LEFT JOIN attempts a ON a.dag=i.dag AND "
		"a.task=i.task AND a.partition=i.partition AND a.attempt=i.made "
		"LEFT JOIN runs r ON r.id=a.run_id " : "");
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read instances");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	bind_range(st, from, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct inst_rec r;

		memset(&r, 0, sizeof(r));
		r.task = col_dup(st, 0);
		r.partition = col_dup(st, 1);
		r.state = attempt_state_parse(
			(const char *)sqlite3_column_text(st, 2));
		r.attempts = sqlite3_column_int(st, 3);
		r.records_in = col_count(st, 4);
		r.records_out = col_count(st, 5);
		r.records_rejected = col_count(st, 6);
		r.duration_s = sqlite3_column_double(st, 7);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			r.running = state_run_alive(s,
				sqlite3_column_int64(st, 8), now);
		if (sqlite3_column_type(st, 9) != SQLITE_NULL)
			r.def = col_dup(st, 9);
		if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
			r.git_commit = col_dup(st, 10);
			r.git_dirty = sqlite3_column_int(st, 11);
		}
		VEC_PUSH(recs, r);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		state_inst_recs_free(recs.v, recs.n);
		return state_db_err(s, e, "cannot read instances");
	}
	*out = recs.v;
	*n = recs.n;
	return 0;
}

int
state_consumed(struct state *s, const char *dag, const char *from,
	const char *to, struct consumed_row **out, size_t *n, struct err *e)
{
	struct { struct consumed_row *v; size_t n, cap; } rows = { 0 };
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if (s->version < 3)
		return 0;
	rc = sqlite3_prepare_v2(s->db, "SELECT c.task, c.partition, "
		"c.need_task, c.need_partition, c.need_attempt, n.made, "
		/* When it was made again: read only for a need made again. */
		"CASE WHEN n.made > c.need_attempt THEN (SELECT a.started + "
		"a.duration_s * 1000 FROM attempts a WHERE a.dag=n.dag AND "
		"a.task=n.task AND a.partition=n.partition AND a.attempt=n.made) "
		"END, c.input, c.size, c.mtime_ns, c.inode "
		"FROM consumed c JOIN instances me ON me.dag=c.dag AND "
		"me.task=c.task AND me.partition=c.partition AND "
		"me.made=c.attempt LEFT JOIN instances n ON n.dag=c.dag AND "
		"n.task=c.need_task AND n.partition=c.need_partition "
		"WHERE c.dag=?1 AND (?2 IS NULL OR c.partition >= ?2) AND "
		"(?3 IS NULL OR c.partition <= ?3 || 'z') "
		"ORDER BY c.partition, c.task", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read what attempts consumed");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	bind_range(st, from, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct consumed_row r;

		memset(&r, 0, sizeof(r));
		r.task = col_dup(st, 0);
		r.partition = col_dup(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			r.need_task = col_dup(st, 2);
			r.need_partition = col_dup(st, 3);
		}
		r.need_attempt = sqlite3_column_int(st, 4);
		r.need_made = sqlite3_column_int(st, 5);
		r.need_made_ms = (int64_t)sqlite3_column_double(st, 6);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			r.input = col_dup(st, 7);
		r.size = col_count(st, 8);
		r.mtime_ns = sqlite3_column_int64(st, 9);
		r.inode = sqlite3_column_int64(st, 10);
		VEC_PUSH(rows, r);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		state_consumed_free(rows.v, rows.n);
		return state_db_err(s, e, "cannot read what attempts consumed");
	}
	*out = rows.v;
	*n = rows.n;
	return 0;
}

void
state_consumed_free(struct consumed_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].task);
		free(v[i].partition);
		free(v[i].need_task);
		free(v[i].need_partition);
		free(v[i].input);
	}
	free(v);
}

void
state_inst_recs_free(struct inst_rec *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].task);
		free(v[i].partition);
		free(v[i].def);
		free(v[i].git_commit);
	}
	free(v);
}

int
state_partition_span(struct state *s, const char *dag, char **first,
	char **last, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*first = *last = NULL;
	rc = sqlite3_prepare_v2(s->db, "SELECT min(partition), max(partition) "
		"FROM instances WHERE dag=?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read instances");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*first = col_dup(st, 0);
		*last = col_dup(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_db_err(s, e, "cannot read instances");
	return *first ? 0 : -ENOENT;
}

int
state_attempt_log(struct state *s, const char *dag, const char *task,
	const char *partition, int attempt, char **path, int *attempt_out,
	struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*path = NULL;
	rc = sqlite3_prepare_v2(s->db, "SELECT log_path, attempt FROM attempts "
		"WHERE dag=?1 AND task=?2 AND partition=?3 AND "
		"(?4 = 0 OR attempt = ?4) AND log_path IS NOT NULL "
		"ORDER BY attempt DESC LIMIT 1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read attempts");
	state_bind_inst(st, dag, task, partition);
	sqlite3_bind_int(st, 4, attempt);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*path = col_dup(st, 0);
		if (attempt_out)
			*attempt_out = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_db_err(s, e, "cannot read attempts");
	return *path ? 0 : -ENOENT;
}

char *
state_log_path(const struct state *s, const char *dag, const char *task,
	const char *partition, int attempt)
{
	return xasprintf("%s/%s/%s/%s.%d.log", s->logs_dir, dag, task,
		partition, attempt);
}
