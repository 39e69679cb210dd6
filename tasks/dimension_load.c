/*
 * dimension-load: upsert input into a SQLite dimension table keyed by
 * natural_key, each row version with a stable integer surrogate_key.
 *
 * The whole load is one transaction (with the marker row of its table
 * target).  The table's current versions are read once into a hash from
 * the canonical natural key to the surrogate key and the canonical form
 * of the row's values, so each input record costs one hash probe, and a
 * write only when its values changed.  A version this load makes keeps
 * its surrogate key only (the entry's num): a key repeated in the input
 * rewrites it whatever its values, which leaves the same row and spares
 * a copy of every new member's values (megabytes on a first load).  With history: scd2 a change closes
 * the current version (valid_to, current = 0) and opens a new one valid
 * from the partition's start; a key repeated in the input updates the
 * version this load made, in place.  Versions are stamped in UTC
 * ("2026-11-01T00:00:00Z") so their text order is time order.
 *
 * Versions rest on each other in time order, so loading partition P
 * first undoes what P and every later partition did to the table
 * (their versions are deleted, the versions they closed are current
 * again) and removes the later partitions' marker rows, all in the
 * load's transaction: the table is then exactly as the loads before P
 * left it, P loads as it would have the first time, and the later
 * partitions are missing and load again, in order, through the task's
 * need on its own previous partition.  A rerun, a correction (clear,
 * --force, a stale input) and a fresh load thus give the same rows and
 * the same surrogate keys: keys are assigned in load order from the
 * largest one left, so the undone versions' keys are given again.
 */
#include "config.h"
#include "task_kind.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "load_common.h"
#include "target.h"
#include "warehouse.h"

static const struct field_spec dim_fields[] = {
	LOAD_INPUT_FIELDS,
	{ "table", FIELD_STRING, FIELD_REQUIRED,
		"the dimension table; the target is {table: NAME}" },
	{ "natural_key", FIELD_LIST, FIELD_REQUIRED,
		"the column(s) identifying a member" },
	{ "surrogate_key", FIELD_STRING, FIELD_REQUIRED,
		"the integer key column, one value per row version" },
	{ "columns", FIELD_MAP, FIELD_REQUIRED,
		"{name: text|integer|real|date|timestamp} to load" },
	{ "history", FIELD_STRING, 0,
		"scd1 (default: overwrite) or scd2 (keep versions)" },
	{ "rejects", FIELD_STRING, FIELD_TEMPLATE,
		"rejects file (default <database>.<table>.<partition>.rejects.csv)" },
	{ "max_reject_ratio", FIELD_NUMBER, 0,
		"fail when rejects exceed this share of records (default 0.01)" },
	{ NULL, 0, 0, NULL },
};

struct dim_load {
	struct task_run *run;
	const char *table, *sk;
	int scd2;
	struct load_column *cols; /* natural key columns first, then the rest */
	size_t ncols, nnk;
	sqlite3 *db;
	sqlite3_stmt *upd, *close_st;
	struct strbuf ins;	/* the INSERT of the load's rows (load_insert_rows) */
	struct hash cur;	/* canonical natural key -> current version */
	int compare;		/* cur holds versions from before the load */
	struct hash_entry *held; /* the version of the record held */
	int64_t row_sk;		/* the surrogate key of the row being inserted */
	int64_t next_sk;
	char stamp[32];		/* the partition's start, UTC */
	struct strbuf key, val;	/* scratch: canonical key and values */
};

/*
 * One current version from before this load: its surrogate key and
 * canonical values.  A version this load made has none (the entry's ptr
 * is NULL, its num the surrogate key).
 */
struct dim_ver {
	int64_t sk;
	size_t len;
	char vals[];
};

/* Natural keys to their current version, which the table owns. */
static const struct hash_type current_versions = {
	.name = "natural keys",
	.val_free = free,
};

static int
scd2_of(const char *history)
{
	return history && !strcmp(history, "scd2");
}

/*
 * The table's columns: natural key columns first (typed from columns:,
 * text when not declared there), then the other declared columns.
 */
static void
plan_columns(struct dim_load *d)
{
	const struct node *nk = node_get(d->run->fields, "natural_key");
	const struct node *cols = node_get(d->run->fields, "columns");
	size_t i, j, n = nk->type == NODE_SEQ ? nk->n : 1;

	for (i = 0; i < n; i++) {
		const char *name = nk->type == NODE_SEQ ? nk->items[i]->str
			: nk->str;
		enum wh_type t = WH_TEXT;
		const char *ts = node_get_str(cols, name);

		if (ts)
			wh_type_parse(ts, &t);
		load_add_column(&d->cols, &d->ncols, name, t, -1);
	}
	d->nnk = d->ncols;
	for (j = 0; j < cols->n; j++) {
		enum wh_type t = WH_TEXT;

		for (i = 0; i < d->nnk; i++)
			if (!strcmp(d->cols[i].name, cols->keys[j]->str))
				break;
		if (i < d->nnk)
			continue;
		wh_type_parse(cols->items[j]->str, &t);
		load_add_column(&d->cols, &d->ncols, cols->keys[j]->str, t,
			-1);
	}
}

static int
map_input(struct dim_load *d, struct rec_reader *r, struct err *e)
{
	size_t i;

	for (i = 0; i < d->ncols; i++) {
		d->cols[i].in = rec_reader_column(r, d->cols[i].name);
		if (d->cols[i].in < 0)
			return err_set(e, -EINVAL, "task '%s': the input has no "
				"column '%s' (named in %s)", d->run->task,
				d->cols[i].name, i < d->nnk ? "natural_key"
				: "columns");
	}
	return 0;
}

static int
create_table(struct dim_load *d, struct err *e)
{
	struct strbuf sql;
	int rc;

	sb_init(&sql);
	load_sql_create(&sql, d->table, d->sk, "INTEGER PRIMARY KEY", d->cols,
		d->ncols);
	if (d->scd2)
		sb_adds(&sql, ", valid_from TEXT NOT NULL, valid_to TEXT,"
			" current INTEGER NOT NULL");
	sb_adds(&sql, ")");
	rc = wh_exec(d->db, sql.buf, e);
	sb_release(&sql);
	return rc;
}

/*
 * The natural key's index, made once the rows of a table this load
 * created are in: one sort instead of a b-tree insert per row (a fifth
 * of a 50,000-row first load).  The load itself never reads it (the
 * current versions are in d->cur), and the map also keeps the keys of
 * an scd1 table unique, so the UNIQUE index cannot fail here.
 */
static int
create_index(struct dim_load *d, struct err *e)
{
	struct strbuf sql;
	size_t i;
	int rc;

	sb_init(&sql);
	sb_adds(&sql, "CREATE ");
	/* One current version per key: scd1 keeps one row, scd2 indexes (key, current). */
	if (!d->scd2)
		sb_adds(&sql, "UNIQUE ");
	sb_adds(&sql, "INDEX \"");
	sb_adds(&sql, d->table);
	load_sql_add(&sql, "_natural_key\" ON %I (", d->table);
	for (i = 0; i < d->nnk; i++)
		load_sql_add(&sql, i ? ", %I" : "%I", d->cols[i].name);
	sb_adds(&sql, d->scd2 ? ", current)" : ")");
	rc = wh_exec(d->db, sql.buf, e);
	sb_release(&sql);
	return rc;
}

/* An existing table must hold every column this load writes. */
static int
check_table(struct dim_load *d, struct err *e)
{
	char **names = NULL, **types = NULL;
	static const char *const scd2_cols[] = { "valid_from", "valid_to",
		"current" };
	int pk, rc;
	size_t i;

	rc = wh_table_columns(d->db, d->table, &names, &types, &pk, e);
	if (rc < 0)
		return rc;
	if (pk < 0 || strcmp(names[pk], d->sk)) {
		rc = err_set(e, -EINVAL, "task '%s': table '%s' exists but "
			"'%s' is not its integer primary key", d->run->task,
			d->table, d->sk);
		goto out;
	}
	rc = load_require_columns(d->run, names, d->table, d->cols, d->ncols,
		e);
	if (rc < 0)
		goto out;
	for (i = 0; d->scd2 && i < ARRAY_LEN(scd2_cols); i++)
		if (wh_strv_find(names, scd2_cols[i]) < 0) {
			rc = err_set(e, -EINVAL, "task '%s': table '%s' exists "
				"but has no column '%s' (history: scd2 needs "
				"valid_from, valid_to and current)", d->run->task,
				d->table, scd2_cols[i]);
			goto out;
		}
out:
	wh_strv_free(names);
	wh_strv_free(types);
	return rc;
}

static void
put_version(struct dim_load *d, struct hash_entry *s, int64_t sk)
{
	struct dim_ver *v = s->ptr;

	if (!v || v->len < d->val.len) {
		free(v);
		v = xmalloc(sizeof(*v) + d->val.len + 1);
	}
	v->sk = sk;
	v->len = d->val.len;
	memcpy(v->vals, d->val.buf ? d->val.buf : "", d->val.len);
	s->ptr = v;
}

/* Read the current versions into d->cur, and the next surrogate key. */
static int
load_current(struct dim_load *d, struct err *e)
{
	struct strbuf sql;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc, added;

	sb_init(&sql);
	load_sql_add(&sql, "SELECT %I", d->sk);
	load_sql_names(&sql, d->cols, d->ncols);
	/* Surrogate key 0 is the unknown member fact-load may add. */
	load_sql_add(&sql, " FROM %I WHERE %I <> 0", d->table, d->sk);
	if (d->scd2)
		sb_adds(&sql, " AND current = 1");
	rc = wh_prepare(d->db, sql.buf, &st, e);
	sb_release(&sql);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hash_entry *s;

		sb_reset(&d->key);
		sb_reset(&d->val);
		for (i = 0; i < d->ncols; i++)
			wh_canon_column(i < d->nnk ? &d->key : &d->val, st,
				(int)i + 1);
		s = hash_add(&d->cur, d->key.buf ? d->key.buf : "",
			d->key.len, &added);
		if (!s) {
			rc = wh_too_many_keys(e, d->run->task, &d->cur);
			break;
		}
		put_version(d, s, sqlite3_column_int64(st, 0));
	}
	sqlite3_finalize(st);
	if (rc < 0)
		return rc;
	if (rc != SQLITE_DONE)
		return err_set(e, -EIO, "task '%s': cannot read '%s': %s",
			d->run->task, d->table, sqlite3_errmsg(d->db));
	d->compare = d->cur.n > 0;
	sb_init(&sql);
	load_sql_add(&sql, "SELECT coalesce(max(%I), 0) FROM %I", d->sk,
		d->table);
	rc = wh_prepare(d->db, sql.buf, &st, e);
	sb_release(&sql);
	if (rc < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		d->next_sk = sqlite3_column_int64(st, 0) + 1;
	sqlite3_finalize(st);
	return 0;
}

/*
 * Step sql with ?1 and ?2 bound to the texts a and b (b may be NULL when
 * sql has no ?2); the rows it changed, or -EIO with e filled.
 */
static int
exec_undo(struct dim_load *d, const char *sql, const char *a, const char *b,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = wh_prepare(d->db, sql, &st, e);

	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(d->db) :
		err_set(e, -EIO, "task '%s': cannot undo the versions of '%s' "
		"from %s on: %s", d->run->task, d->table, d->stamp,
		sqlite3_errmsg(d->db));
	sqlite3_finalize(st);
	return rc;
}

/* The marker rows of the target table's partitions after this one. */
static int
later_loads(struct dim_load *d, const char *table, char *first, char *last,
	size_t n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, count = 0;

	rc = wh_prepare(d->db, "SELECT count(*), min(partition), "
		"max(partition) FROM " TARGET_MARKER_TABLE " WHERE table_name = "
		"?1 AND partition > ?2", &st, e);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->run->partition, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && (count =
	    sqlite3_column_int(st, 0)) > 0) {
		snprintf(first, n, "%s", sqlite3_column_text(st, 1));
		snprintf(last, n, "%s", sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return count;
}

/*
 * Undo what this partition and every later one did to an scd2 table, as
 * if they were undone one by one, newest first: the versions valid from
 * this partition's start or later go, the versions they closed are
 * current again, and the later partitions' markers go (they load again).
 * Run inside the load's transaction.  0 or -EIO with e filled.
 */
static int
undo_from_here(struct dim_load *d, struct err *e)
{
	const char *target = wh_target_table(d->run);
	struct strbuf del, reopen;
	char first[24] = "", last[24] = "";
	int later, gone, back, rc;

	sb_init(&del);
	load_sql_add(&del, "DELETE FROM %I WHERE %I <> 0 AND valid_from >= ?1",
		d->table, d->sk);
	sb_init(&reopen);
	load_sql_add(&reopen, "UPDATE %I SET valid_to = NULL, current = 1 "
		"WHERE %I <> 0 AND valid_to >= ?1", d->table, d->sk);
	rc = later = later_loads(d, target, first, last, sizeof(first), e);
	if (rc >= 0)
		rc = gone = exec_undo(d, del.buf, d->stamp, NULL, e);
	if (rc >= 0)
		rc = back = exec_undo(d, reopen.buf, d->stamp, NULL, e);
	if (rc >= 0 && later > 0)
		rc = exec_undo(d, "DELETE FROM " TARGET_MARKER_TABLE " WHERE "
			"table_name = ?1 AND partition > ?2", target,
			d->run->partition, e);
	sb_release(&del);
	sb_release(&reopen);
	if (rc < 0)
		return rc;
	if (!d->run->log || !(gone || back || later))
		return 0;
	fprintf(d->run->log, "dimension-load: undid %d version%s valid from "
		"%s on, %d made current again", gone, gone == 1 ? "" : "s",
		d->stamp, back);
	if (later == 1)
		fprintf(d->run->log, "; the later load %s is to do again", first);
	else if (later > 1)
		fprintf(d->run->log, "; the %d later loads %s .. %s are to do "
			"again", later, first, last);
	fputc('\n', d->run->log);
	return 0;
}

/*
 * The rows of the load go in through one INSERT ... SELECT (see
 * load_insert_rows: its cursors stay open, where a statement per row
 * opened and closed them, 4,900 instructions a row of a 50,000-row first
 * load); a changed member is updated (or closed) by a statement of its
 * own, between two runs of it.  OR FAIL: a failed row fails the load and
 * its transaction, so the INSERT needs no statement journal.
 */
static int
prepare_statements(struct dim_load *d, struct err *e)
{
	struct strbuf sql;
	size_t i;
	int rc;

	load_sql_add(&d->ins, "INSERT OR FAIL INTO %I (%I", d->table, d->sk);
	load_sql_names(&d->ins, d->cols, d->ncols);
	if (d->scd2)
		sb_adds(&d->ins, ", valid_from, valid_to, current");
	sb_adds(&d->ins, ")");
	load_sql_select_rows(&d->ins, "", d->ncols + 1, d->scd2 ?
		"?1, NULL, 1" : "");

	/* Natural key columns never change for a surrogate key. */
	sb_init(&sql);
	load_sql_add(&sql, "UPDATE %I SET ", d->table);
	for (i = d->nnk; i < d->ncols; i++) {
		load_sql_add(&sql, i > d->nnk ? ", %I" : "%I", d->cols[i].name);
		sb_addf(&sql, " = ?%zu", i + 2);
	}
	if (d->nnk == d->ncols)
		load_sql_add(&sql, "%I = ?1", d->sk);
	load_sql_add(&sql, " WHERE %I = ?1", d->sk);
	rc = wh_prepare(d->db, sql.buf, &d->upd, e);
	if (rc == 0 && d->scd2) {
		sb_reset(&sql);
		load_sql_add(&sql, "UPDATE %I SET valid_to = ?2, current = 0 "
			"WHERE %I = ?1", d->table, d->sk);
		rc = wh_prepare(d->db, sql.buf, &d->close_st, e);
	}
	sb_release(&sql);
	return rc;
}

static int
step(struct dim_load *d, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return err_set(e, -EIO, "task '%s': cannot write '%s': %s",
		d->run->task, d->table, sqlite3_errmsg(d->db));
}

/* Bind the record's non-key values (?2..) and sk (?1) to st. */
static void
bind_values(struct dim_load *d, sqlite3_stmt *st, const struct record *rec,
	int64_t sk)
{
	size_t i;

	sqlite3_bind_int64(st, 1, sk);
	for (i = d->nnk; i < d->ncols; i++) {
		int in = d->cols[i].in;

		wh_bind(st, (int)i + 2, d->cols[i].type, rec->fields[in],
			rec->lens[in], 0);
	}
}

/*
 * Check one record against the declared types and build its canonical
 * key, and its canonical values when there are versions from before the
 * load to compare them with (a version the load makes keeps none).
 * Returns 0, or 1 with *why set when it is a reject.
 */
static int
check_record(void *ctx, const struct record *rec, char **why)
{
	struct dim_load *d = ctx;
	size_t i, empty = 0;

	sb_reset(&d->key);
	sb_reset(&d->val);
	for (i = 0; i < d->ncols; i++) {
		int in = d->cols[i].in;

		if (i < d->nnk && rec->lens[in] == 0)
			empty++;
		if (i >= d->nnk && !d->compare) {
			if (!wh_value_fits(d->cols[i].type, rec->fields[in],
			    rec->lens[in])) {
				*why = load_type_mismatch(&d->cols[i],
					rec->fields[in], rec->lens[in]);
				return 1;
			}
			continue;
		}
		if (wh_canon_text(i < d->nnk ? &d->key : &d->val,
		    d->cols[i].type, rec->fields[in], rec->lens[in]) < 0) {
			*why = load_type_mismatch(&d->cols[i],
				rec->fields[in], rec->lens[in]);
			return 1;
		}
	}
	if (empty == d->nnk) {
		*why = xstrdup("empty natural key");
		return 1;
	}
	return 0;
}

/*
 * What the record check_record accepted needs (load_rows.route): a new
 * member is a row of the INSERT, with the next surrogate key; an
 * unchanged one nothing; a changed one, or a key the load already gave a
 * version, its own statements (held_record).
 */
static int
route_record(void *ctx, const struct record *rec, struct err *e)
{
	struct dim_load *d = ctx;
	struct hash_entry *s;
	struct dim_ver *v;
	int added;

	(void)rec;
	s = hash_add(&d->cur, d->key.buf ? d->key.buf : "", d->key.len,
		&added);
	if (!s)
		return wh_too_many_keys(e, d->run->task, &d->cur);
	if (added) {
		s->ptr = NULL;
		s->num = d->row_sk = d->next_sk++;
		return LOAD_ROW;
	}
	v = s->ptr;
	if (v && v->len == d->val.len &&
	    !memcmp(v->vals, d->val.buf ? d->val.buf : "", v->len))
		return LOAD_SKIP;	/* unchanged */
	d->held = s;
	return LOAD_HOLD;
}

static int
held_record(void *ctx, const struct record *rec, struct err *e)
{
	struct dim_load *d = ctx;
	struct hash_entry *s = d->held;
	struct dim_ver *v = s->ptr;
	int rc;

	if (!v) {
		/* A version this load made: rewritten in place. */
		bind_values(d, d->upd, rec, s->num);
		return step(d, d->upd, e);
	}
	if (!d->scd2) {
		bind_values(d, d->upd, rec, v->sk);
		rc = step(d, d->upd, e);
		if (rc == 0)
			put_version(d, s, v->sk);
		return rc;
	}
	/* The current version is closed; the new one is the next row. */
	sqlite3_bind_int64(d->close_st, 1, v->sk);
	sqlite3_bind_text(d->close_st, 2, d->stamp, -1, SQLITE_STATIC);
	rc = step(d, d->close_st, e);
	if (rc < 0)
		return rc;
	free(s->ptr);
	s->ptr = NULL;
	s->num = d->row_sk = d->next_sk++;
	return LOAD_ROW;
}

/* Column i of the row: the surrogate key, then the columns' values. */
static void
row_column(void *ctx, const struct record *rec, size_t i, sqlite3_context *c)
{
	struct dim_load *d = ctx;
	const struct load_column *col;

	if (i == 0) {
		sqlite3_result_int64(c, d->row_sk);
		return;
	}
	col = &d->cols[i - 1];
	wh_result(c, col->type, rec->fields[col->in], rec->lens[col->in]);
}

static void
dim_release(struct dim_load *d)
{
	hash_release(&d->cur);
	sb_release(&d->ins);
	sqlite3_finalize(d->upd);
	sqlite3_finalize(d->close_st);
	wh_rollback(d->db);
	wh_close(d->db, 1);
	sb_release(&d->key);
	sb_release(&d->val);
	free(d->cols);
}

static int
dim_run(struct task_run *run, struct err *e)
{
	struct dim_load d;
	struct load_io io = { 0 };
	int rc, created = 0;

	static const char *const required[] = { "input", "database", "table",
		"natural_key", "surrogate_key", "columns", NULL };

	rc = wh_require(run, required, e);
	if (rc < 0)
		return rc;
	if (node_get(run->fields, "columns")->type != NODE_MAP)
		return err_set(e, -EINVAL, "task '%s': columns must be a map",
			run->task);
	memset(&d, 0, sizeof(d));
	d.run = run;
	d.table = task_run_str(run, "table");
	d.sk = task_run_str(run, "surrogate_key");
	d.scd2 = scd2_of(task_run_str(run, "history"));
	hash_init(&d.cur, &current_versions);
	sb_init(&d.key);
	sb_init(&d.val);
	sb_init(&d.ins);
	/* valid_from and valid_to are UTC text: text order is time order. */
	utc_stamp(run->start, d.stamp, sizeof(d.stamp));
	plan_columns(&d);

	rc = load_io_open(run, &io, e);
	if (rc == 0)
		rc = map_input(&d, io.r, e);
	if (rc < 0)
		goto out;
	rc = load_begin(run, d.table, &io, &d.db, e);
	if (rc == 0)
		rc = wh_table_exists(d.db, d.table, e);
	if (rc == 0) {
		rc = create_table(&d, e);
		created = rc == 0;
	} else if (rc == 1)
		rc = check_table(&d, e);
	if (rc == 0 && d.scd2)
		rc = undo_from_here(&d, e);
	if (rc == 0)
		rc = load_current(&d, e);
	if (rc == 0)
		rc = prepare_statements(&d, e);
	if (rc == 0) {
		struct load_rows rows = { d.ncols + 1, check_record,
			route_record, held_record, row_column, &d };

		rc = load_insert_rows(run, &io, d.db, d.table, d.ins.buf,
			d.scd2 ? d.stamp : NULL, &rows, e);
	}
	if (rc == 0 && created)
		rc = create_index(&d, e);
	if (rc == 0)
		rc = load_finish(d.db, run, io.rj_path, e);
out:
	rc = load_io_close(&io, run, rc, e);
	dim_release(&d);
	return rc;
}

/* The surrogate key and the scd2 columns are the loader's, not the input's. */
static int
check_reserved(const char *file, const struct node *task, struct errs *errs)
{
	const struct node *cols = node_get(task, "columns");
	const char *sk = node_get_str(task, "surrogate_key");
	int scd2 = scd2_of(node_get_str(task, "history"));
	size_t i;
	int bad = 0;

	if (!cols || cols->type != NODE_MAP)
		return 0;
	for (i = 0; i < cols->n; i++) {
		const struct node *k = cols->keys[i];

		if (sk && !strcmp(k->str, sk)) {
			errs_addf(errs, -EINVAL, file, k->line, k->column,
				"column '%s' is the surrogate_key: the loader "
				"assigns it, leave it out of columns", k->str);
			bad++;
		} else if (scd2 && (!strcmp(k->str, "valid_from") ||
		    !strcmp(k->str, "valid_to") || !strcmp(k->str, "current"))) {
			errs_addf(errs, -EINVAL, file, k->line, k->column,
				"column '%s' is kept by history: scd2, leave it "
				"out of columns", k->str);
			bad++;
		}
	}
	return bad;
}

static int
dim_validate(const char *file, const struct node *task, struct errs *errs)
{
	const struct node *h = node_get(task, "history");
	int bad = 0;

	bad += wh_check_ident_field(file, task, "table", errs);
	bad += wh_check_ident_field(file, task, "surrogate_key", errs);
	bad += wh_check_ratio(file, task, errs);
	bad += wh_check_columns(file, node_get(task, "columns"), errs);
	bad += wh_check_ident_list(file, node_get(task, "natural_key"),
		"natural_key", errs);
	bad += check_reserved(file, task, errs);
	if (h && (h->type != NODE_SCALAR || (strcmp(h->str, "scd1") &&
	    strcmp(h->str, "scd2")))) {
		errs_addf(errs, -EINVAL, file, h->line, h->column,
			"unknown history '%s' (expected scd1 or scd2)",
			h->type == NODE_SCALAR ? h->str : node_type_name(h));
		bad++;
	}
	return bad ? -EINVAL : 0;
}

static int
dim_in_order(const struct node *task)
{
	return scd2_of(node_get_str(task, "history"));
}

const struct task_kind task_kind_dimension_load = {
	.name = "dimension-load",
	.summary = "upsert a dimension table (SCD1 or SCD2) by natural key",
	.fields = dim_fields,
	.table_target = 1,
	.validate = dim_validate,
	.in_order = dim_in_order,
	.run = dim_run,
};
