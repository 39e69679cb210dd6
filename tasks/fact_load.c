/*
 * fact-load: load input into a fact table, replacing the partition's rows.
 *
 * One transaction deletes the rows whose partition_column holds this
 * partition's id, inserts the new ones (each stamped with that id) and
 * writes the marker row of the {table: NAME} target, so a rerun replaces
 * rather than duplicates and a crash leaves the previous state.
 *
 * lookups: swap natural keys for a dimension's surrogate keys.  Each
 * dimension's keys are read once into a hash (canonical natural key ->
 * surrogate key) before the first row; for an scd2 dimension only the
 * versions valid at the partition's start are read.  A key the hash lacks
 * is a reject, or surrogate key 0 with on_missing: unknown (the dimension
 * then gets an "unknown" member row with key 0, made once).
 */
#include "config.h"
#include "task_kind.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "load_common.h"
#include "warehouse.h"

static const struct field_spec fact_fields[] = {
	LOAD_INPUT_FIELDS,
	{ "table", FIELD_STRING, FIELD_REQUIRED,
		"the fact table; the target is {table: NAME}" },
	{ "partition_column", FIELD_STRING, 0,
		"column holding the partition id (default partition)" },
	{ "columns", FIELD_MAP, 0,
		"{name: text|integer|real|date|timestamp} to load (default: "
		"every input column as text)" },
	{ "lookups", FIELD_ANY, 0,
		"[{column, dimension, natural_key, into, on_missing}] natural "
		"key to surrogate key" },
	{ "on_missing", FIELD_STRING, 0,
		"a key with no dimension member: reject (default) or unknown "
		"(surrogate key 0)" },
	{ "rejects", FIELD_STRING, FIELD_TEMPLATE,
		"rejects file (default <database>.<table>.<partition>.rejects.csv)" },
	{ "max_reject_ratio", FIELD_NUMBER, 0,
		"fail when rejects exceed this share of records (default 0.01)" },
	{ NULL, 0, 0, NULL },
};

struct lookup {
	const char *dim;	/* dimension table */
	const char *into;	/* fact column receiving the surrogate key */
	const char *sk;		/* surrogate_key: given, or NULL (the primary key) */
	const char **cols;	/* input columns holding the natural key */
	const char **nk;	/* the dimension's natural key columns */
	size_t n;		/* columns in the natural key */
	int *in;		/* input index of each of cols */
	enum wh_type *types;	/* how the dimension declares each nk column */
	int unknown;		/* on_missing: unknown */
	int scd2;
	struct hash keys;	/* canonical natural key -> surrogate key */
	/* prepare_lookups' own, in the reader's thread: the record's key */
	struct strbuf pkey;
	uint64_t phash;
	int pvalid;		/* the key fits the dimension's types */
	int64_t cur;		/* the surrogate key of the record being loaded */
	int64_t misses;
	int line, column;	/* the lookup's position in the DAG file, or 0 */
};

struct fact_load {
	struct task_run *run;
	const char *table, *pcol, *database;
	struct lookup *lk;
	size_t nlk;
	struct load_column *cols;	/* in: -1 for a lookup's column */
	int *col_lookup;	/* per column: its lookup's index, or -1 */
	size_t ncols;
	sqlite3 *db;
	struct strbuf key;
	char stamp[32];
};

static const char *const lookup_keys[] = { "column", "dimension",
	"natural_key", "into", "on_missing", "surrogate_key", NULL };

static void
parse_lookups(struct fact_load *f)
{
	const struct node *l = node_get(f->run->fields, "lookups");
	const char *dflt = task_run_str(f->run, "on_missing");
	size_t i, n2;

	if (!l || l->type != NODE_SEQ)
		return;
	f->lk = xcalloc(l->n, sizeof(*f->lk));
	f->nlk = l->n;
	for (i = 0; i < l->n; i++) {
		const struct node *m = l->items[i];
		struct lookup *k = &f->lk[i];
		const char *om = node_get_str(m, "on_missing");

		k->dim = node_get_str(m, "dimension");
		k->line = m->line;
		k->column = m->column;
		k->cols = node_str_list(node_get(m, "column"), &k->n);
		k->nk = node_get(m, "natural_key") ?
			node_str_list(node_get(m, "natural_key"), &n2)
			: node_str_list(node_get(m, "column"), &n2);
		k->into = node_get_str(m, "into");
		if (!k->into)
			k->into = k->cols[0];
		k->sk = node_get_str(m, "surrogate_key");
		om = om ? om : dflt;
		k->unknown = om && !strcmp(om, "unknown");
		k->in = xcalloc(k->n, sizeof(*k->in));
		k->types = xcalloc(k->n, sizeof(*k->types));
		hash_init(&k->keys, NULL);
		sb_init(&k->pkey);
	}
}

static int
find_lookup_into(const struct fact_load *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nlk; i++)
		if (!strcmp(f->lk[i].into, name))
			return (int)i;
	return -1;
}

/* Is name the first (1) or another (2) natural key column of a lookup? */
static int
key_column_of(const struct fact_load *f, const char *name, size_t *which)
{
	size_t i, j;

	for (i = 0; i < f->nlk; i++)
		for (j = 0; j < f->lk[i].n; j++)
			if (!strcmp(f->lk[i].cols[j], name)) {
				*which = i;
				return j == 0 ? 1 : 2;
			}
	return 0;
}

static void
add_col(struct fact_load *f, const char *name, enum wh_type t, int in,
	int lookup)
{
	size_t i = load_add_column(&f->cols, &f->ncols, name, t, in);

	f->col_lookup = xrealloc(f->col_lookup, f->ncols *
		sizeof(*f->col_lookup));
	f->col_lookup[i] = lookup;
}

/*
 * The fact table's columns: columns: in order (a name that is a lookup's
 * into takes the surrogate key), or every input column with each lookup's
 * natural key columns replaced by its into; then any into not placed yet.
 */
static int
plan_columns(struct fact_load *f, struct rec_reader *r, struct err *e)
{
	const struct node *cols = node_get(f->run->fields, "columns");
	const char *const *hdr = rec_reader_header(r);
	size_t w = rec_reader_width(r), i, j, which;
	char *placed = xcalloc(f->nlk + 1, 1);
	int rc = 0;

	for (i = 0; i < f->nlk; i++)
		for (j = 0; j < f->lk[i].n; j++) {
			f->lk[i].in[j] = rec_reader_column(r, f->lk[i].cols[j]);
			if (f->lk[i].in[j] < 0) {
				rc = err_set(e, -EINVAL, "task '%s': the input has "
					"no column '%s' (lookup of '%s')",
					f->run->task, f->lk[i].cols[j],
					f->lk[i].dim);
				goto out;
			}
		}
	if (cols && cols->type == NODE_MAP) {
		for (i = 0; i < cols->n; i++) {
			const char *name = cols->keys[i]->str;
			int lk = find_lookup_into(f, name), in;
			enum wh_type t = WH_TEXT;

			if (lk >= 0) {
				add_col(f, name, WH_INTEGER, -1, lk);
				placed[lk] = 1;
				continue;
			}
			in = rec_reader_column(r, name);
			if (in < 0) {
				rc = err_set(e, -EINVAL, "task '%s': the input has "
					"no column '%s' (named in columns)",
					f->run->task, name);
				goto out;
			}
			wh_type_parse(cols->items[i]->str, &t);
			add_col(f, name, t, in, -1);
		}
	} else {
		for (i = 0; i < w; i++) {
			int k = key_column_of(f, hdr[i], &which);

			if (k == 1 && !placed[which]) {
				add_col(f, f->lk[which].into, WH_INTEGER, -1,
					(int)which);
				placed[which] = 1;
			} else if (k == 0) {
				add_col(f, hdr[i], WH_TEXT, (int)i, -1);
			}
		}
	}
	for (i = 0; i < f->nlk; i++)
		if (!placed[i])
			add_col(f, f->lk[i].into, WH_INTEGER, -1, (int)i);
	for (i = 0; i < f->ncols; i++) {
		if (!wh_ident_ok(f->cols[i].name) ||
		    !strcmp(f->cols[i].name, f->pcol)) {
			rc = err_set(e, -EINVAL, "task '%s': cannot load input "
				"column '%s' (not a valid column name, or the "
				"partition_column)", f->run->task,
				f->cols[i].name);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(f->cols[i].name, f->cols[j].name)) {
				rc = err_set(e, -EINVAL, "task '%s': column '%s' "
					"would be loaded twice", f->run->task,
					f->cols[i].name);
				goto out;
			}
	}
out:
	free(placed);
	return rc;
}

/* The unknown member: surrogate key 0, text columns 'unknown', keys NULL. */
static int
add_unknown_member(struct fact_load *f, struct lookup *k, const char *sk,
	char **names, char **types, struct err *e)
{
	struct strbuf sql, vals;
	size_t i;
	int rc;

	sb_init(&sql);
	sb_init(&vals);
	load_sql_add(&sql, "INSERT OR IGNORE INTO %I (%I", k->dim, sk);
	sb_adds(&vals, "0");
	for (i = 0; names[i]; i++) {
		const char *v = NULL;
		size_t j;

		if (!strcmp(names[i], sk))
			continue;
		for (j = 0; j < k->n; j++)
			if (!strcmp(names[i], k->nk[j]))
				break;
		if (j < k->n)
			continue;
		if (!strcmp(names[i], "valid_from") && k->scd2)
			v = "'0001-01-01T00:00:00Z'";
		else if (!strcmp(names[i], "current") && k->scd2)
			v = "1";
		else if (!strcmp(names[i], "valid_to"))
			continue;
		else if (wh_type_from_sql(types[i]) == WH_TEXT)
			v = "'unknown'";
		if (!v)
			continue;
		load_sql_add(&sql, ", %I", names[i]);
		sb_addf(&vals, ", %s", v);
	}
	sb_addf(&sql, ") VALUES (%s)", vals.buf);
	rc = wh_exec(f->db, sql.buf, e);
	if (rc < 0)
		rc = err_set(e, rc, "task '%s': cannot add the unknown member "
			"to '%s': %s", f->run->task, k->dim, e->msg);
	sb_release(&sql);
	sb_release(&vals);
	return rc;
}

/* Rows in table (a size hint: 0 when it cannot be told). */
static int64_t
count_rows(sqlite3 *db, const char *table)
{
	struct strbuf sql;
	sqlite3_stmt *st = NULL;
	int64_t n = 0;

	sb_init(&sql);
	load_sql_add(&sql, "SELECT count(*) FROM %I", table);
	if (sqlite3_prepare_v2(db, sql.buf, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sb_release(&sql);
	return n < 0 ? 0 : n;
}

/* Check the dimension of lookup k and read its keys into k->keys. */
static int
load_lookup(struct fact_load *f, struct lookup *k, struct err *e)
{
	char **names = NULL, **types = NULL;
	const char *sk;
	struct strbuf sql;
	sqlite3_stmt *st = NULL;
	int rc, pk, added;
	size_t i;

	rc = wh_table_exists(f->db, k->dim, e);
	if (rc == 0) {
		char where[64] = "";

		if (k->line > 0)
			snprintf(where, sizeof(where), " (line %d, column %d)",
				k->line, k->column);
		return err_set(e, -ENOENT, "task '%s': lookup dimension '%s'%s "
			"does not exist in '%s' (load it first: put its "
			"dimension-load task in needs:)", f->run->task, k->dim,
			where, f->database);
	}
	if (rc < 0)
		return rc;
	rc = wh_table_columns(f->db, k->dim, &names, &types, &pk, e);
	if (rc < 0)
		return rc;
	/* The surrogate key is the dimension's INTEGER PRIMARY KEY unless named. */
	sk = k->sk ? k->sk : pk >= 0 ? names[pk] : NULL;
	if (!sk || wh_strv_find(names, sk) < 0) {
		rc = err_set(e, -EINVAL, "task '%s': dimension '%s' has no "
			"integer primary key to use as the surrogate key",
			f->run->task, k->dim);
		goto out;
	}
	for (i = 0; i < k->n; i++) {
		int c = wh_strv_find(names, k->nk[i]);

		if (c < 0) {
			rc = err_set(e, -EINVAL, "task '%s': dimension '%s' has "
				"no column '%s' (the lookup's natural_key)",
				f->run->task, k->dim, k->nk[i]);
			goto out;
		}
		k->types[i] = wh_type_from_sql(types[c]);
	}
	k->scd2 = wh_strv_find(names, "valid_from") >= 0 &&
		wh_strv_find(names, "valid_to") >= 0;
	if (k->unknown) {
		rc = add_unknown_member(f, k, sk, names, types, e);
		if (rc < 0)
			goto out;
	}
	sb_init(&sql);
	load_sql_add(&sql, "SELECT %I", sk);
	for (i = 0; i < k->n; i++)
		load_sql_add(&sql, ", %I", k->nk[i]);
	load_sql_add(&sql, " FROM %I WHERE %I <> 0", k->dim, sk);
	/* The version valid at the partition's start. */
	if (k->scd2)
		sb_adds(&sql, " AND valid_from <= ?1 AND (valid_to IS NULL OR "
			"valid_to > ?1)");
	rc = wh_prepare(f->db, sql.buf, &st, e);
	sb_release(&sql);
	if (rc < 0)
		goto out;
	if (k->scd2)
		sqlite3_bind_text(st, 1, f->stamp, -1, SQLITE_STATIC);
	hash_reserve(&k->keys, (size_t)count_rows(f->db, k->dim));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hash_entry *s;

		sb_reset(&f->key);
		for (i = 0; i < k->n; i++)
			wh_canon_column(&f->key, st, (int)i + 1);
		s = hash_add(&k->keys, f->key.buf, f->key.len, &added);
		if (!s) {
			rc = wh_too_many_keys(e, f->run->task, &k->keys);
			break;
		}
		s->num = sqlite3_column_int64(st, 0);
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = err_set(e, -EIO, "task '%s': cannot read '%s': %s",
			f->run->task, k->dim, sqlite3_errmsg(f->db));
	sqlite3_finalize(st);
out:
	wh_strv_free(names);
	wh_strv_free(types);
	return rc;
}

static int
ensure_table(struct fact_load *f, struct err *e)
{
	char **names = NULL, **types = NULL;
	struct strbuf sql;
	int rc, pk;

	rc = wh_table_exists(f->db, f->table, e);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		rc = wh_table_columns(f->db, f->table, &names, &types, &pk, e);
		if (rc == 0)
			rc = load_require_columns(f->run, names, f->table,
				f->cols, f->ncols, e);
		if (rc == 0)
			rc = load_require_column(f->run, names, f->table,
				f->pcol, e);
		wh_strv_free(names);
		wh_strv_free(types);
		return rc;
	}
	sb_init(&sql);
	load_sql_create(&sql, f->table, f->pcol, "TEXT NOT NULL", f->cols,
		f->ncols);
	/* The index makes replacing one partition cost that partition only. */
	sb_addf(&sql, "); CREATE INDEX \"%s_%s\" ON ", f->table, f->pcol);
	load_sql_add(&sql, "%I (%I)", f->table, f->pcol);
	rc = wh_exec(f->db, sql.buf, e);
	sb_release(&sql);
	return rc;
}

/*
 * The INSERT of every accepted record: one statement over the load's
 * rows (load_insert_rows), so the table's and the partition index's
 * cursors stay open and each row is appended where the last one went,
 * where a statement per row opened them and sought from the root (a
 * third of the instructions of a 100,000-row load).  OR FAIL: a failed
 * row fails the load, whose transaction is rolled back, so the statement
 * needs no statement journal of its own to undo its rows.
 */
static void
insert_sql(struct fact_load *f, struct strbuf *sql)
{
	load_sql_add(sql, "INSERT OR FAIL INTO %I (%I", f->table, f->pcol);
	load_sql_names(sql, f->cols, f->ncols);
	sb_adds(sql, ")");
	load_sql_select_rows(sql, "?1", f->ncols, "");
}

static int
delete_partition(struct fact_load *f, struct err *e)
{
	struct strbuf sql;
	sqlite3_stmt *st = NULL;
	int rc;

	sb_init(&sql);
	load_sql_add(&sql, "DELETE FROM %I WHERE %I = ?1", f->table, f->pcol);
	rc = wh_prepare(f->db, sql.buf, &st, e);
	sb_release(&sql);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, f->run->partition, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : err_set(e, -EIO,
		"task '%s': cannot delete partition %s of '%s': %s",
		f->run->task, f->run->partition, f->table,
		sqlite3_errmsg(f->db));
	if (rc == 0 && sqlite3_changes(f->db) > 0)
		fprintf(f->run->log, "fact-load: replaced %d rows of %s\n",
			sqlite3_changes(f->db), f->run->partition);
	sqlite3_finalize(st);
	return rc;
}

/* lookup k's canonical key of rec into key: 0, or -EINVAL if it cannot be. */
static int
lookup_key(const struct lookup *k, const struct record *rec,
	struct strbuf *key)
{
	size_t i;

	sb_reset(key);
	for (i = 0; i < k->n; i++)
		if (wh_canon_text(key, k->types[i], rec->fields[k->in[i]],
		    rec->lens[k->in[i]]) < 0)
			return -EINVAL;
	return 0;
}

/* The surrogate key of lookup k for rec: 1 found (*sk set), 0 missing. */
static int
resolve(struct lookup *k, const struct record *rec, struct strbuf *key,
	int64_t *sk)
{
	struct hash_entry *s;

	if (lookup_key(k, rec, key) < 0)
		return 0;
	s = hash_find(&k->keys, key->buf, key->len);
	if (!s)
		return 0;
	*sk = s->num;
	return 1;
}

/*
 * Every lookup of rec, in the reader's parsing thread while this one
 * inserts: out[2i] says whether lookup i found its key, out[2i+1] is the
 * surrogate key.  The maps are complete and no longer change by now.
 * A lookup in a map of megabytes waits for memory twice (index slot,
 * then entry): the lookups of a record are independent, so each step is
 * started for all of them before any waits, and their misses overlap.
 */
static void
prepare_lookups(void *ctx, const struct record *rec, int64_t *out)
{
	struct fact_load *f = ctx;
	struct lookup *k;
	size_t i;

	for (i = 0; i < f->nlk; i++) {
		k = &f->lk[i];
		k->pvalid = lookup_key(k, rec, &k->pkey) == 0;
		if (!k->pvalid)
			continue;
		k->phash = hash_bytes(k->pkey.buf, k->pkey.len);
		hash_prefetch(&k->keys, k->phash);
	}
	for (i = 0; i < f->nlk; i++)
		if (f->lk[i].pvalid)
			hash_prefetch_entry(&f->lk[i].keys, f->lk[i].phash);
	for (i = 0; i < f->nlk; i++) {
		struct hash_entry *s = NULL;

		k = &f->lk[i];
		if (k->pvalid)
			s = hash_find_hashed(&k->keys, k->phash, k->pkey.buf,
				k->pkey.len);
		out[2 * i] = s != NULL;
		out[2 * i + 1] = s ? s->num : 0;
	}
}

/*
 * Check rec's values and resolve its lookups (each k->cur); 0, or 1 with
 * *why set when it is a reject.
 */
static int
check_record(void *ctx, const struct record *rec, char **why)
{
	struct fact_load *f = ctx;
	size_t i;

	for (i = 0; i < f->ncols; i++) {
		const struct load_column *c = &f->cols[i];
		int lookup = f->col_lookup[i];
		struct lookup *k;
		int64_t sk;
		int found;

		if (lookup < 0) {
			const char *v = rec->fields[c->in];
			size_t len = rec->lens[c->in];

			if (c->type != WH_TEXT && !wh_value_fits(c->type, v, len)) {
				*why = load_type_mismatch(c, v, len);
				return 1;
			}
			continue;
		}
		k = &f->lk[lookup];
		if (rec->prepared) {
			found = (int)rec->prepared[2 * lookup];
			sk = rec->prepared[2 * lookup + 1];
		} else {
			found = resolve(k, rec, &f->key, &sk);
		}
		if (!found) {
			k->misses++;
			if (!k->unknown) {
				*why = xasprintf("no '%s' member for %s '%.*s'",
					k->dim, k->cols[0],
					(int)(rec->lens[k->in[0]] > 60 ? 60
					: rec->lens[k->in[0]]),
					rec->fields[k->in[0]]);
				return 1;
			}
			sk = 0;
		}
		k->cur = sk;
	}
	return 0;
}

/* Column i of the record check_record accepted. */
static void
record_column(void *ctx, const struct record *rec, size_t i,
	sqlite3_context *c)
{
	struct fact_load *f = ctx;
	const struct load_column *col = &f->cols[i];

	if (f->col_lookup[i] >= 0)
		sqlite3_result_int64(c, f->lk[f->col_lookup[i]].cur);
	else
		wh_result(c, col->type, rec->fields[col->in],
			rec->lens[col->in]);
}

static void
fact_release(struct fact_load *f)
{
	size_t i;

	for (i = 0; i < f->nlk; i++) {
		free(f->lk[i].cols);
		free(f->lk[i].nk);
		free(f->lk[i].in);
		free(f->lk[i].types);
		hash_release(&f->lk[i].keys);
		sb_release(&f->lk[i].pkey);
	}
	free(f->lk);
	free(f->cols);
	free(f->col_lookup);
	wh_rollback(f->db);
	wh_close(f->db, 1);
	sb_release(&f->key);
}

static int
fact_run(struct task_run *run, struct err *e)
{
	struct fact_load f;
	struct load_io io = { 0 };
	size_t i;
	int rc;

	static const char *const required[] = { "input", "database", "table",
		NULL };

	rc = wh_require(run, required, e);
	if (rc < 0)
		return rc;
	memset(&f, 0, sizeof(f));
	f.run = run;
	f.table = task_run_str(run, "table");
	f.pcol = task_run_str(run, "partition_column");
	if (!f.pcol)
		f.pcol = "partition";
	f.database = run->database ? run->database
		: task_run_str(run, "database");
	sb_init(&f.key);
	utc_stamp(run->start, f.stamp, sizeof(f.stamp));
	parse_lookups(&f);

	rc = load_io_open(run, &io, e);
	if (rc == 0)
		rc = plan_columns(&f, io.r, e);
	if (rc < 0)
		goto out;
	rc = load_begin(run, f.table, &io, &f.db, e);
	for (i = 0; rc == 0 && i < f.nlk; i++)
		rc = load_lookup(&f, &f.lk[i], e);
	if (rc == 0)
		rc = ensure_table(&f, e);
	if (rc == 0)
		rc = delete_partition(&f, e);
	if (rc == 0 && f.nlk)
		rec_reader_prepare(io.r, prepare_lookups, &f, 2 * f.nlk);
	if (rc == 0) {
		struct load_rows rows = { f.ncols, check_record, NULL, NULL,
			record_column, &f };
		struct strbuf sql;

		sb_init(&sql);
		insert_sql(&f, &sql);
		rc = load_insert_rows(run, &io, f.db, f.table, sql.buf,
			run->partition, &rows, e);
		sb_release(&sql);
	}
	if (rc == 0)
		rc = load_finish(f.db, run, io.rj_path, e);
	for (i = 0; rc == 0 && i < f.nlk; i++)
		if (f.lk[i].misses)
			fprintf(run->log, "fact-load: %lld keys missing from "
				"'%s'%s\n", (long long)f.lk[i].misses,
				f.lk[i].dim, f.lk[i].unknown ?
				" (loaded as the unknown member 0)" : "");
out:
	/* First the reader: its thread may still be using the maps. */
	rc = load_io_close(&io, run, rc, e);
	fact_release(&f);
	return rc;
}

static int
check_on_missing(const char *file, const struct node *n, struct errs *errs)
{
	if (!n || (n->type == NODE_SCALAR && (!strcmp(n->str, "reject") ||
	    !strcmp(n->str, "unknown"))))
		return 0;
	errs_addf(errs, -EINVAL, file, n->line, n->column,
		"unknown on_missing '%s' (expected reject or unknown)",
		n->type == NODE_SCALAR ? n->str : node_type_name(n));
	return 1;
}

static size_t
list_len(const struct node *n)
{
	return !n ? 0 : n->type == NODE_SEQ ? n->n : 1;
}

static int
check_lookup(const char *file, const struct node *m, const struct node *cols,
	struct errs *errs)
{
	const struct node *c = node_get(m, "column");
	const struct node *nk = node_get(m, "natural_key");
	const struct node *into = node_get(m, "into");
	const char *it;
	size_t i;
	int bad = 0;

	if (m->type != NODE_MAP) {
		errs_addf(errs, -EINVAL, file, m->line, m->column, "a lookup "
			"must be a map {column, dimension, natural_key, into}, "
			"not %s", node_type_name(m));
		return 1;
	}
	for (i = 0; i < m->n; i++) {
		size_t j;

		for (j = 0; lookup_keys[j]; j++)
			if (!strcmp(m->keys[i]->str, lookup_keys[j]))
				break;
		if (!lookup_keys[j]) {
			errs_addf(errs, -EINVAL, file, m->keys[i]->line,
				m->keys[i]->column, "unknown lookup field '%s' "
				"(expected column, dimension, natural_key, into, "
				"on_missing or surrogate_key)", m->keys[i]->str);
			bad++;
		}
	}
	if (!c || !node_get(m, "dimension")) {
		errs_addf(errs, -EINVAL, file, m->line, m->column,
			"a lookup needs column and dimension");
		return bad + 1;
	}
	bad += wh_check_ident_list(file, c, "column", errs);
	bad += wh_check_ident_list(file, nk, "natural_key", errs);
	bad += wh_check_ident_field(file, m, "dimension", errs);
	bad += wh_check_ident_field(file, m, "into", errs);
	bad += wh_check_ident_field(file, m, "surrogate_key", errs);
	bad += check_on_missing(file, node_get(m, "on_missing"), errs);
	if (nk && list_len(nk) != list_len(c)) {
		errs_addf(errs, -EINVAL, file, nk->line, nk->column,
			"natural_key names %zu columns but column names %zu",
			list_len(nk), list_len(c));
		bad++;
	}
	if (!into && list_len(c) > 1) {
		errs_addf(errs, -EINVAL, file, m->line, m->column,
			"a lookup on several columns needs into: (the column "
			"receiving the surrogate key)");
		bad++;
	}
	it = into ? node_str(into) : node_str(c);
	if (it && node_get_str(cols, it) && strcmp(node_get_str(cols, it),
	    "integer")) {
		const struct node *t = node_get(cols, it);

		errs_addf(errs, -EINVAL, file, t->line, t->column,
			"column '%s' receives a surrogate key: its type must be "
			"integer, not '%s'", it, t->str);
		bad++;
	}
	return bad;
}

static int
fact_validate(const char *file, const struct node *task, struct errs *errs)
{
	const struct node *l = node_get(task, "lookups");
	const struct node *cols = node_get(task, "columns");
	const char *pc = node_get_str(task, "partition_column");
	int bad = 0;
	size_t i;

	bad += wh_check_ident_field(file, task, "table", errs);
	bad += wh_check_ident_field(file, task, "partition_column", errs);
	bad += wh_check_ratio(file, task, errs);
	bad += wh_check_columns(file, cols, errs);
	bad += check_on_missing(file, node_get(task, "on_missing"), errs);
	if (cols && cols->type == NODE_MAP && node_get(cols,
	    pc ? pc : "partition")) {
		const struct node *k = NULL;

		for (i = 0; i < cols->n; i++)
			if (!strcmp(cols->keys[i]->str, pc ? pc : "partition"))
				k = cols->keys[i];
		errs_addf(errs, -EINVAL, file, k->line, k->column,
			"column '%s' is the partition_column: the loader fills "
			"it, leave it out of columns", k->str);
		bad++;
	}
	if (l && l->type != NODE_SEQ) {
		errs_addf(errs, -EINVAL, file, l->line, l->column,
			"lookups must be a list of maps, not %s",
			node_type_name(l));
		bad++;
	}
	for (i = 0; l && l->type == NODE_SEQ && i < l->n; i++)
		bad += check_lookup(file, l->items[i], cols, errs);
	return bad ? -EINVAL : 0;
}

const struct task_kind task_kind_fact_load = {
	.name = "fact-load",
	.summary = "replace a partition of a fact table, with surrogate-key "
		"lookups",
	.fields = fact_fields,
	.table_target = 1,
	.validate = fact_validate,
	.run = fact_run,
};
