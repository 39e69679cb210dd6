/* What the load kinds share around their record loop: see load_common.h. */
#include "config.h"
#include "task_kind.h"
#include "load_common.h"

#include <errno.h>
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

void
load_sql_insert(struct strbuf *sql, const char *table, const char *first,
	const struct load_column *cols, size_t n)
{
	load_sql_add(sql, "INSERT INTO %I (%I", table, first);
	load_sql_names(sql, cols, n);
}

void
load_sql_values(struct strbuf *sql, size_t n)
{
	size_t i;

	sb_adds(sql, ") VALUES (?1");
	for (i = 0; i < n; i++)
		sb_addf(sql, ", ?%zu", i + 2);
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
load_records(struct task_run *run, struct load_io *io, struct sqlite3 *db,
	int (*check)(void *ctx, const struct record *rec, char **why),
	int (*apply)(void *ctx, const struct record *rec, struct err *e),
	void *ctx, struct err *e)
{
	int rc = wh_each_record(run, io->r, io->rj, check, apply, ctx, e);

	if (rc == 0)
		rc = load_finish(db, run, io->rj_path, e);
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
