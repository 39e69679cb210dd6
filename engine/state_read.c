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

/*
 * The SELECT of instance records, with where (after i.dag=?1) and order:
 * the run that made the target is the attempt numbered made.
 */
static char *
instances_sql(const struct state *s, const char *where, const char *order)
{
	return xasprintf("SELECT i.task, i.partition, i.state, "
		"i.attempts, i.records_in, i.records_out, i.records_rejected, "
		"i.duration_s, l.run_id, %s, %s, %s FROM instances i LEFT JOIN "
		"leases l ON l.dag=i.dag AND l.task=i.task AND "
		"l.partition=i.partition %s"
		"WHERE i.dag=?1 AND %s %s",
		s->version >= 3 ? "i.def" : "NULL",
		s->version >= 4 ? "r.git_commit, r.git_dirty" : "NULL, NULL",
		s->version >= 3 ? "i.made" : "NULL",
		s->version >= 4 ? "LEFT JOIN attempts a ON a.dag=i.dag AND "
		"a.task=i.task AND a.partition=i.partition AND a.attempt=i.made "
		"LEFT JOIN runs r ON r.id=a.run_id " : "", where, order);
}

/* The record in st's current row (instances_sql's columns). */
static void
inst_row(struct state *s, sqlite3_stmt *st, int64_t now, struct inst_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->task = col_dup(st, 0);
	r->partition = col_dup(st, 1);
	r->state = attempt_state_parse(
		(const char *)sqlite3_column_text(st, 2));
	r->attempts = sqlite3_column_int(st, 3);
	r->records_in = col_count(st, 4);
	r->records_out = col_count(st, 5);
	r->records_rejected = col_count(st, 6);
	r->duration_s = sqlite3_column_double(st, 7);
	if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
		r->lease_run = sqlite3_column_int64(st, 8);
		r->running = state_run_alive(s, r->lease_run, now);
	}
	if (sqlite3_column_type(st, 9) != SQLITE_NULL)
		r->def = col_dup(st, 9);
	if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
		r->git_commit = col_dup(st, 10);
		r->git_dirty = sqlite3_column_int(st, 11);
	}
	r->made = sqlite3_column_int(st, 12);
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
	sql = instances_sql(s, "(?2 IS NULL OR i.partition >= ?2) AND "
		"(?3 IS NULL OR i.partition <= ?3 || 'z')",
		"ORDER BY i.partition, i.task");
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read instances");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	bind_range(st, from, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct inst_rec r;

		inst_row(s, st, now, &r);
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
state_instance_get(struct state *s, const char *dag, const char *task,
	const char *partition, int64_t now, struct inst_rec *out,
	struct err *e)
{
	sqlite3_stmt *st;
	char *sql;
	int rc;

	memset(out, 0, sizeof(*out));
	sql = instances_sql(s, "i.task=?2 AND i.partition=?3", "");
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read instances");
	state_bind_inst(st, dag, task, partition);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		inst_row(s, st, now, out);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_db_err(s, e, "cannot read instances");
	return rc == SQLITE_ROW;
}

/* The columns of a consumed row (made and made_ms: the need's). */
#define CONSUMED_COLS(made, made_ms) "c.task, c.partition, c.need_task, " \
	"c.need_partition, c.need_attempt, " made ", " made_ms ", c.input, " \
	"c.size, c.mtime_ns, c.inode, c.attempt "

/* Run st (CONSUMED_COLS) into *out and *n; 0 or a negative errno. */
static int
consumed_read(struct state *s, sqlite3_stmt *st, struct consumed_row **out,
	size_t *n, struct err *e)
{
	struct { struct consumed_row *v; size_t n, cap; } rows = { 0 };
	int rc;

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
		r.attempt = sqlite3_column_int(st, 11);
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

int
state_consumed(struct state *s, const char *dag, const char *from,
	const char *to, struct consumed_row **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if (s->version < 3)
		return 0;
	rc = sqlite3_prepare_v2(s->db, "SELECT " CONSUMED_COLS("n.made",
		/* When it was made again: read only for a need made again. */
		"CASE WHEN n.made > c.need_attempt THEN (SELECT a.started + "
		"a.duration_s * 1000 FROM attempts a WHERE a.dag=n.dag AND "
		"a.task=n.task AND a.partition=n.partition AND a.attempt=n.made) "
		"END")
		"FROM consumed c JOIN instances me ON me.dag=c.dag AND "
		"me.task=c.task AND me.partition=c.partition AND "
		"me.made=c.attempt LEFT JOIN instances n ON n.dag=c.dag AND "
		"n.task=c.need_task AND n.partition=c.need_partition "
		"WHERE c.dag=?1 AND (?2 IS NULL OR c.partition >= ?2) AND "
		"(?3 IS NULL OR c.partition <= ?3 || 'z') "
		"ORDER BY c.partition, c.task, c.rowid", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read what attempts consumed");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	bind_range(st, from, to);
	return consumed_read(s, st, out, n, e);
}

int
state_consumed_rows(struct state *s, const char *dag, const char *task,
	const char *partition, struct consumed_row **out, size_t *n,
	struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if (s->version < 3)
		return 0;
	rc = sqlite3_prepare_v2(s->db, "SELECT " CONSUMED_COLS("0", "0")
		"FROM consumed c WHERE c.dag=?1 AND (?2 IS NULL OR "
		"(c.task=?2 AND c.partition=?3)) "
		"ORDER BY c.partition, c.task, c.rowid", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read what attempts consumed");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	if (task) {
		sqlite3_bind_text(st, 2, task, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, partition, -1, SQLITE_STATIC);
	}
	return consumed_read(s, st, out, n, e);
}

int64_t
state_attempt_end_ms(struct state *s, const char *dag, const char *task,
	const char *partition, int attempt)
{
	sqlite3_stmt *st;
	int64_t ms = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT started + duration_s * 1000 "
	    "FROM attempts WHERE dag=?1 AND task=?2 AND partition=?3 AND "
	    "attempt=?4", -1, &st, NULL) != SQLITE_OK)
		return 0;
	state_bind_inst(st, dag, task, partition);
	sqlite3_bind_int(st, 4, attempt);
	if (sqlite3_step(st) == SQLITE_ROW)
		ms = (int64_t)sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return ms;
}

/*
 * Run st (task, partition and, when it has a third column, a run) into
 * *keys and *n; 0, or a negative errno with e saying what failed.
 */
static int
keys_read(struct state *s, sqlite3_stmt *st, struct inst_key **keys,
	size_t *n, struct err *e, const char *what)
{
	struct { struct inst_key *v; size_t n, cap; } ks = { 0 };
	int rc, with_run = sqlite3_column_count(st) > 2;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct inst_key k;

		k.task = col_dup(st, 0);
		k.partition = col_dup(st, 1);
		k.run = with_run ? sqlite3_column_int64(st, 2) : 0;
		VEC_PUSH(ks, k);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		state_inst_keys_free(ks.v, ks.n);
		return state_db_err(s, e, what);
	}
	*keys = ks.v;
	*n = ks.n;
	return 0;
}

int
state_changes(struct state *s, const char *dag, int64_t since,
	struct inst_key **keys, size_t *n, int64_t *top, struct err *e)
{
	sqlite3_stmt *st;
	int64_t first = 0;
	int rc;

	*keys = NULL;
	*n = 0;
	*top = 0;
	/* An older schema, or a writer migrated since this connection read it. */
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(seq), 0), "
	    "coalesce(min(seq), 0) FROM changes", -1, &st, NULL) != SQLITE_OK)
		return -ENOTSUP;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*top = sqlite3_column_int64(st, 0);
		first = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return state_db_err(s, e, "cannot read the changes");
	if (*top <= since)
		return 0;
	/* Seqs have no holes but where the oldest were dropped. */
	if (first > since + 1)
		return -ESTALE;
	rc = sqlite3_prepare_v2(s->db, "SELECT DISTINCT task, partition FROM "
		"changes WHERE seq > ?2 AND dag=?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return state_db_err(s, e, "cannot read the changes");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	return keys_read(s, st, keys, n, e, "cannot read the changes");
}

int
state_leases(struct state *s, const char *dag, struct inst_key **keys,
	size_t *n, struct err *e)
{
	sqlite3_stmt *st;

	*keys = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT task, partition, run_id FROM "
	    "leases WHERE dag=?1", -1, &st, NULL) != SQLITE_OK)
		return state_db_err(s, e, "cannot read leases");
	sqlite3_bind_text(st, 1, dag, -1, SQLITE_STATIC);
	return keys_read(s, st, keys, n, e, "cannot read leases");
}

void
state_inst_keys_free(struct inst_key *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].task);
		free(v[i].partition);
	}
	free(v);
}

int
state_snapshot_begin(struct state *s, struct err *e)
{
	if (!sqlite3_get_autocommit(s->db))
		return 0;	/* in one already: it is the snapshot */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return state_db_err(s, e, "cannot begin a read");
	return 1;
}

void
state_snapshot_end(struct state *s, int began)
{
	if (began)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

void
state_consumed_row_release(struct consumed_row *r)
{
	free(r->task);
	free(r->partition);
	free(r->need_task);
	free(r->need_partition);
	free(r->input);
}

void
state_consumed_free(struct consumed_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		state_consumed_row_release(&v[i]);
	free(v);
}

void
state_inst_rec_release(struct inst_rec *r)
{
	free(r->task);
	free(r->partition);
	free(r->def);
	free(r->git_commit);
}

void
state_inst_recs_free(struct inst_rec *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		state_inst_rec_release(&v[i]);
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
