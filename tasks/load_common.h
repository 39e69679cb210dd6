/*
 * What the load kinds (by-key, dimension-load, fact-load) share around
 * their record loop: the columns they load, the SQL that names them, the
 * reason a value is rejected, the max_reject_ratio check and the end of a
 * load (rejects file, marker row, commit).  The database side they share
 * with sql is engine/warehouse.
 */
#ifndef DAG_LOAD_COMMON_H
#define DAG_LOAD_COMMON_H

#include <stddef.h>
#include "warehouse.h"

/*
 * The fields a load reads its input and database from, first in its
 * field_spec table.
 */
#define LOAD_INPUT_FIELDS \
	{ "input", FIELD_LIST, FIELD_REQUIRED | FIELD_TEMPLATE, \
		"file(s) to load, read in order as one stream" }, \
	{ "format", FIELD_STRING, 0, "csv (default), tsv or jsonl" }, \
	{ "database", FIELD_STRING, FIELD_REQUIRED | FIELD_TEMPLATE, \
		"the SQLite database file" }

struct rec_reader;
struct record;
struct rejects;
struct sqlite3;
struct strbuf;
struct task_run;

/* One column a load writes: its name, declared type and input column. */
struct load_column {
	const char *name;
	enum wh_type type;
	int in;			/* input column index, or -1 */
};

/* Append a column to *cols (*n of them so far); returns its index. */
size_t load_add_column(struct load_column **cols, size_t *n, const char *name,
	enum wh_type type, int in);

/*
 * Append fmt to sql, each "%I" in it replaced by the next argument (a
 * const char *) quoted as an SQL identifier:
 * load_sql_add(sql, "DELETE FROM %I WHERE %I = ?1", table, column).
 * No other conversion: the statement's values are bound, never spliced.
 */
void load_sql_add(struct strbuf *sql, const char *fmt, ...);

/* Append ", "c1", "c2", ..." (each name quoted). */
void load_sql_names(struct strbuf *sql, const struct load_column *cols,
	size_t n);
/*
 * Append 'CREATE TABLE "table" ("first" first_decl, "c1" TYPE, ...' and
 * leave the list open for the caller's extra columns and ")".
 */
void load_sql_create(struct strbuf *sql, const char *table, const char *first,
	const char *first_decl, const struct load_column *cols, size_t n);
/*
 * One load's input and rejects file, from load_io_open to load_io_close.
 */
struct load_io {
	struct rec_reader *r;	/* the input's records */
	struct rejects *rj;	/* the rejects file, once load_begin opened it */
	char *rj_path;		/* its path */
};

/*
 * Start a load: the run's record counts from 0, its input opened into
 * io->r (wh_input_open).  0 or -errno with e filled; load_io_close
 * either way.
 */
int load_io_open(struct task_run *run, struct load_io *io, struct err *e);

/*
 * Open what a warehouse load writes to, in order: its rejects file
 * (io->rj at io->rj_path, from wh_rejects_path), its database (the run's,
 * else the database: field; *db for wh_close) and the load's write
 * transaction.  0 or -errno with e filled.
 */
int load_begin(const struct task_run *run, const char *table,
	struct load_io *io, struct sqlite3 **db, struct err *e);

/*
 * A load's accepted records as the rows of a virtual table, so that one
 * INSERT ... SELECT ... FROM LOAD_ROWS_TABLE writes them all: the
 * statement keeps its cursors open from the first row to the last
 * instead of opening, seeking and closing them per row.
 *
 * check has the meaning it has for wh_each_record (rejects go to io->rj
 * and are counted in run).  route, when set, says what an accepted
 * record needs: LOAD_ROW (a row of the table), LOAD_SKIP (nothing) or
 * LOAD_HOLD (work of its own: the statement stops before the record,
 * held does that work, and the statement runs again from the next
 * record, or from this one when held returns LOAD_ROW); or -errno with
 * e filled.  Without route every accepted record is a row.  column gives
 * column i (0 to ncols - 1, named c0, c1, ...) of the row, with
 * sqlite3_result_* (text need not be copied: the record stays until the
 * next one is read).
 */
#define LOAD_ROWS_TABLE "dag_load_rows"

enum { LOAD_SKIP, LOAD_ROW, LOAD_HOLD };

struct sqlite3_context;

struct load_rows {
	size_t ncols;
	int (*check)(void *ctx, const struct record *rec, char **why);
	int (*route)(void *ctx, const struct record *rec, struct err *e);
	int (*held)(void *ctx, const struct record *rec, struct err *e);
	void (*column)(void *ctx, const struct record *rec, size_t i,
		struct sqlite3_context *c);
	void *ctx;
};

/*
 * Append " SELECT prefix, c0, c1, ..., suffix FROM dag_load_rows" (n
 * columns; an empty prefix or suffix is left out with its comma).
 */
void load_sql_select_rows(struct strbuf *sql, const char *prefix, size_t n,
	const char *suffix);

/*
 * Run sql, an INSERT into table whose rows come from LOAD_ROWS_TABLE,
 * over every record of io->r through rows (load_finish is the caller's).
 * text1, when not NULL, is bound to ?1.  records_out counts the accepted
 * records.  0 or -errno with e filled.
 */
int load_insert_rows(struct task_run *run, struct load_io *io,
	struct sqlite3 *db, const char *table, const char *sql,
	const char *text1, const struct load_rows *rows, struct err *e);

/*
 * End a load whose result so far is rc: commit its rejects file (written
 * even when the load failed), close its input.  Returns rc, or the
 * commit's error when rc is 0.
 */
int load_io_close(struct load_io *io, const struct task_run *run, int rc,
	struct err *e);

/*
 * An existing table (its column names from wh_table_columns) must hold
 * column name: 0, or -EINVAL naming the task, the table and the column.
 */
int load_require_column(const struct task_run *run, char *const *names,
	const char *table, const char *name, struct err *e);
/* The same for every column of cols. */
int load_require_columns(const struct task_run *run, char *const *names,
	const char *table, const struct load_column *cols, size_t n,
	struct err *e);

/*
 * The reject reason of value v (len bytes) that does not fit column c:
 * "column 'c': 'v' is not an integer" (v cut at 60 bytes).  Caller frees.
 */
char *load_type_mismatch(const struct load_column *c, const char *v,
	size_t len);

/*
 * -EINVAL when run rejected more records than its max_reject_ratio
 * allows (the message names the rejects file rj_path), else 0.
 */
int load_check_reject_ratio(const struct task_run *run, const char *rj_path,
	struct err *e);

/*
 * End a warehouse load that went well so far: the reject ratio check,
 * the marker row of its table target (records_out rows), the commit.
 */
int load_finish(struct sqlite3 *db, struct task_run *run, const char *rj_path,
	struct err *e);

/*
 * Commit the rejects file rj (when open), which is written even when the
 * load failed: returns rc, or the commit's error when rc is 0.
 */
int load_rejects_commit(struct rejects *rj, const struct task_run *run,
	int rc, struct err *e);

#endif
