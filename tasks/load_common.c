/* What the load kinds share around their record loop: see load_common.h. */
#include "config.h"
#include "task_kind.h"
#include "load_common.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

size_t
load_add_column(struct load_column **cols, size_t *n, const char *name,
	enum wh_type type, int in)
{
	*cols = xrealloc(*cols, (*n + 1) * sizeof(**cols));
	(*cols)[*n].name = name;
	(*cols)[*n].type = type;
	(*cols)[*n].in = in;
	return (*n)++;
}

void
load_sql_add(struct strbuf *sql, const char *fmt, ...)
{
	const char *p, *mark;
	va_list ap;

	va_start(ap, fmt);
	for (p = fmt; (mark = strstr(p, "%I")); p = mark + 2) {
		sb_add(sql, p, (size_t)(mark - p));
		wh_quote_ident(sql, va_arg(ap, const char *));
	}
	sb_adds(sql, p);
	va_end(ap);
}

void
load_sql_names(struct strbuf *sql, const struct load_column *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		load_sql_add(sql, ", %I", cols[i].name);
}

void
load_sql_create(struct strbuf *sql, const char *table, const char *first,
	const char *first_decl, const struct load_column *cols, size_t n)
{
	size_t i;

	load_sql_add(sql, "CREATE TABLE %I (%I ", table, first);
	sb_adds(sql, first_decl);
	for (i = 0; i < n; i++) {
		load_sql_add(sql, ", %I ", cols[i].name);
		sb_adds(sql, wh_type_sql(cols[i].type));
	}
}

int
load_io_open(struct task_run *run, struct load_io *io, struct err *e)
{
	run->records_in = run->records_out = run->records_rejected = 0;
	return wh_input_open(run, &io->r, e);
}

int
load_begin(const struct task_run *run, const char *table, struct load_io *io,
	struct sqlite3 **db, struct err *e)
{
	int rc;

	io->rj_path = wh_rejects_path(run, table);
	rc = rejects_open(&io->rj, io->rj_path, e);
	if (rc == 0)
		rc = wh_open(run, run->database ? run->database
			: task_run_str(run, "database"), db, e);
	if (rc == 0)
		rc = wh_begin(*db, e);
	return rc;
}

int
load_require_column(const struct task_run *run, char *const *names,
	const char *table, const char *name, struct err *e)
{
	if (wh_strv_find(names, name) >= 0)
		return 0;
	return err_set(e, -EINVAL, "task '%s': table '%s' exists but has no "
		"column '%s'", run->task, table, name);
}

int
load_require_columns(const struct task_run *run, char *const *names,
	const char *table, const struct load_column *cols, size_t n,
	struct err *e)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++)
		rc = load_require_column(run, names, table, cols[i].name, e);
	return rc;
}

char *
load_type_mismatch(const struct load_column *c, const char *v, size_t len)
{
	return xasprintf("column '%s': '%.*s' is not %s %s", c->name,
		(int)(len > 60 ? 60 : len), v,
		c->type == WH_INTEGER ? "an" : "a", wh_type_name(c->type));
}

int
load_check_reject_ratio(const struct task_run *run, const char *rj_path,
	struct err *e)
{
	double ratio = wh_reject_ratio(run);

	if (!wh_too_many_rejects(run->records_rejected, run->records_in,
	    ratio))
		return 0;
	return err_set(e, -EINVAL, "task '%s': %lld of %lld records rejected, "
		"more than max_reject_ratio %g allows (see '%s')", run->task,
		(long long)run->records_rejected, (long long)run->records_in,
		ratio, rj_path);
}

int
load_finish(struct sqlite3 *db, struct task_run *run, const char *rj_path,
	struct err *e)
{
	int rc = load_check_reject_ratio(run, rj_path, e);

	if (rc == 0)
		rc = wh_mark(db, run, wh_target_table(run), run->records_out, e);
	if (rc == 0)
		rc = wh_commit(db, e);
	return rc;
}

int
load_io_close(struct load_io *io, const struct task_run *run, int rc,
	struct err *e)
{
	rc = load_rejects_commit(io->rj, run, rc, e);
	rec_reader_free(io->r);
	free(io->rj_path);
	io->r = NULL;
	io->rj_path = NULL;
	return rc;
}

int
load_rejects_commit(struct rejects *rj, const struct task_run *run, int rc,
	struct err *e)
{
	struct err e2;

	if (rj && rejects_commit(rj, &e2) < 0 && rc == 0)
		rc = err_set(e, e2.code, "task '%s': %s", run->task, e2.msg);
	return rc;
}

/*
 * The virtual table behind LOAD_ROWS_TABLE: eponymous (no CREATE
 * VIRTUAL TABLE), registered on the connection for one statement with
 * the scan's state as its client data, and dropped after it.  Reading
 * it consumes the input, so the statement reads it once, in one cursor.
 */
struct rows_scan {
	const struct load_rows *rows;
	struct task_run *run;
	struct load_io *io;
	struct record rec;
	int64_t n;		/* rows given so far */
	int64_t accepted;	/* records that passed check */
	int eof;
	int held;		/* rec waits for rows->held, outside the statement */
	int pending;		/* rec is the next row (held said LOAD_ROW) */
	int failed;		/* *e holds why the rows stopped */
	struct err *e;
};

struct rows_vtab {
	sqlite3_vtab base;
	struct rows_scan *scan;
};

struct rows_cursor {
	sqlite3_vtab_cursor base;
	struct rows_scan *scan;
};

static int
rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
	sqlite3_vtab **out, char **err)
{
	struct rows_scan *scan = aux;
	struct rows_vtab *vt;
	struct strbuf sql;
	size_t i;
	int rc;

	(void)argc;
	(void)argv;
	sb_init(&sql);
	sb_adds(&sql, "CREATE TABLE x(");
	/* A table has a column at least; c0 of none is never read. */
	for (i = 0; i == 0 || i < scan->rows->ncols; i++)
		sb_addf(&sql, i ? ", c%zu" : "c%zu", i);
	sb_adds(&sql, ")");
	rc = sqlite3_declare_vtab(db, sql.buf);
	sb_release(&sql);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
	vt = sqlite3_malloc(sizeof(*vt));
	if (!vt) {
		*err = sqlite3_mprintf("out of memory");
		return SQLITE_NOMEM;
	}
	memset(vt, 0, sizeof(*vt));
	vt->scan = scan;
	*out = &vt->base;
	return SQLITE_OK;
}

static int
rows_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

static int
rows_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	(void)vt;
	info->estimatedCost = 1e9;
	return SQLITE_OK;
}

static int
rows_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	struct rows_cursor *c = sqlite3_malloc(sizeof(*c));

	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	c->scan = ((struct rows_vtab *)vt)->scan;
	*out = &c->base;
	return SQLITE_OK;
}

static int
rows_close(sqlite3_vtab_cursor *c)
{
	sqlite3_free(c);
	return SQLITE_OK;
}

/*
 * The next record that is a row; the rejected ones on the way go to
 * io->rj, and one that rows->route holds ends the statement's rows.
 */
static int
rows_next(sqlite3_vtab_cursor *cur)
{
	struct rows_scan *s = ((struct rows_cursor *)cur)->scan;
	const struct load_rows *rows = s->rows;
	struct task_run *run = s->run;
	int rc;

	if (s->eof || s->failed)
		return s->failed ? SQLITE_ERROR : SQLITE_OK;
	if (s->pending) {
		s->pending = 0;
		s->n++;
		return SQLITE_OK;
	}
	while ((rc = rec_reader_next(s->io->r, &s->rec, s->e)) == 1) {
		char *why = NULL;

		run->records_in++;
		if (s->rec.reject || (rows->check && rows->check(rows->ctx,
		    &s->rec, &why))) {
			run->records_rejected++;
			rc = rejects_record(s->io->rj, &s->rec, s->rec.reject ?
				NULL : why, run->task, s->e);
			free(why);
			if (rc < 0)
				break;
			continue;
		}
		s->accepted++;
		rc = rows->route ? rows->route(rows->ctx, &s->rec, s->e)
			: LOAD_ROW;
		if (rc == LOAD_ROW) {
			s->n++;
			return SQLITE_OK;
		}
		if (rc == LOAD_HOLD) {
			s->held = s->eof = 1;
			return SQLITE_OK;
		}
		if (rc < 0)
			break;
	}
	if (rc == 0) {
		s->eof = 1;
		return SQLITE_OK;
	}
	s->failed = 1;
	return SQLITE_ERROR;
}

static int
rows_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str,
	int argc, sqlite3_value **argv)
{
	(void)idx;
	(void)idx_str;
	(void)argc;
	(void)argv;
	return rows_next(cur);
}

static int
rows_eof(sqlite3_vtab_cursor *cur)
{
	struct rows_scan *s = ((struct rows_cursor *)cur)->scan;

	return s->eof || s->failed;
}

static int
rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *c, int i)
{
	struct rows_scan *s = ((struct rows_cursor *)cur)->scan;

	s->rows->column(s->rows->ctx, &s->rec, (size_t)i, c);
	return SQLITE_OK;
}

static int
rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = ((struct rows_cursor *)cur)->scan->n;
	return SQLITE_OK;
}

static const sqlite3_module rows_module = {
	.iVersion = 1,
	.xConnect = rows_connect,
	.xBestIndex = rows_best_index,
	.xDisconnect = rows_disconnect,
	.xOpen = rows_open,
	.xClose = rows_close,
	.xFilter = rows_filter,
	.xNext = rows_next,
	.xEof = rows_eof,
	.xColumn = rows_column,
	.xRowid = rows_rowid,
};

void
load_sql_select_rows(struct strbuf *sql, const char *prefix, size_t n,
	const char *suffix)
{
	size_t i;

	sb_adds(sql, " SELECT ");
	sb_adds(sql, prefix);
	for (i = 0; i < n; i++)
		sb_addf(sql, i || *prefix ? ", c%zu" : "c%zu", i);
	if (*suffix)
		sb_adds(sql, n || *prefix ? ", " : "");
	sb_adds(sql, suffix);
	sb_adds(sql, " FROM " LOAD_ROWS_TABLE);
}

int
load_insert_rows(struct task_run *run, struct load_io *io, sqlite3 *db,
	const char *table, const char *sql, const char *text1,
	const struct load_rows *rows, struct err *e)
{
	struct rows_scan scan;
	sqlite3_stmt *st = NULL;
	int rc;

	memset(&scan, 0, sizeof(scan));
	scan.rows = rows;
	scan.run = run;
	scan.io = io;
	scan.e = e;
	if (sqlite3_create_module_v2(db, LOAD_ROWS_TABLE, &rows_module, &scan,
	    NULL) != SQLITE_OK)
		return err_set(e, -EIO, "task '%s': %s", run->task,
			sqlite3_errmsg(db));
	rc = wh_prepare(db, sql, &st, e);
	if (rc == 0 && text1)
		sqlite3_bind_text(st, 1, text1, -1, SQLITE_STATIC);
	/* Once per record held outside the statement, and once at the end. */
	while (rc == 0) {
		int step = sqlite3_step(st);

		if (scan.failed) {
			rc = e->code < 0 ? e->code : -EIO;
			break;
		}
		if (step != SQLITE_DONE) {
			rc = err_set(e, -EIO, "task '%s': cannot insert into "
				"'%s': %s", run->task, table, sqlite3_errmsg(db));
			break;
		}
		if (!scan.held)
			break;
		sqlite3_reset(st);
		scan.held = scan.eof = 0;
		rc = rows->held(rows->ctx, &scan.rec, e);
		if (rc == LOAD_ROW)
			scan.pending = 1;
		if (rc > 0)
			rc = 0;
	}
	if (rc == 0)
		run->records_out = scan.accepted;
	sqlite3_finalize(st);
	/* Nothing of the load stays on the connection. */
	sqlite3_create_module_v2(db, LOAD_ROWS_TABLE, NULL, NULL, NULL);
	if (rc == 0)
		rec_reader_log_blank(io->r, run->log, run->task);
	return rc;
}
