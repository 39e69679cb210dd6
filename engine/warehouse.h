/*
 * What the warehouse task kinds (dimension-load, fact-load, sql) share:
 * opening a SQLite database for loading (WAL, a busy timeout, the marker
 * table), one write transaction per load, the declared column types and
 * the checks a value must pass to fit one, identifier checks, and the
 * default paths of their rejects files.
 */
#ifndef DAG_WAREHOUSE_H
#define DAG_WAREHOUSE_H

#include <stddef.h>
#include <stdint.h>
#include "hash.h"
#include "node.h"
#include "util.h"

struct sqlite3;
struct sqlite3_stmt;
struct task_run;
struct rec_reader;

/* How long a load waits for another writer's lock before failing (ms). */
#define WH_BUSY_TIMEOUT_MS 600000

/* The types a column may be declared with (columns: {name: type}). */
enum wh_type {
	WH_TEXT,
	WH_INTEGER,
	WH_REAL,
	WH_DATE,	/* YYYY-MM-DD */
	WH_TIMESTAMP,	/* YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM] */
};

/* "text", "integer", ... to a type; 0 or -EINVAL. */
int wh_type_parse(const char *name, enum wh_type *out);
/* The SQL type a table is created with: TEXT, INTEGER, REAL, DATE, TIMESTAMP. */
const char *wh_type_sql(enum wh_type t);
/* "text", "integer", ... */
const char *wh_type_name(enum wh_type t);

/*
 * Does the value s (len bytes) fit type t?  An empty value fits every type
 * (it is loaded as NULL, except for text, which keeps the empty string).
 * Integers are decimal with an optional sign and fit 64 bits; reals are
 * what strtod reads in full (no inf/nan); dates and timestamps must be
 * real calendar dates.  Returns 1 or 0.
 */
int wh_value_fits(enum wh_type t, const char *s, size_t len);

/*
 * Bind value s (len bytes) of type t to parameter i of st: NULL when
 * empty (text: the empty string), an integer, a double, or text.  The
 * value must have passed wh_value_fits.  The text is copied by SQLite only
 * when transient is set; otherwise it must outlive the step.  Returns the
 * SQLite result code.
 */
int wh_bind(struct sqlite3_stmt *st, int i, enum wh_type t, const char *s,
	size_t len, int transient);

struct sqlite3_context;

/*
 * The same value as the result of a virtual table's column (xColumn),
 * text not copied: it must stay as it is until the cursor moves.
 */
void wh_result(struct sqlite3_context *c, enum wh_type t, const char *s,
	size_t len);

/*
 * Open the run's input: its input: field (one path or a list, read in
 * order as one stream) in its format: (csv when absent).  0 or -errno
 * with e filled; *r is the caller's to free with rec_reader_free.
 */
int wh_input_open(const struct task_run *run, struct rec_reader **r,
	struct err *e);

/*
 * Canonical forms of typed values, so a value read from a table and the
 * same value read from text compare equal byte for byte: a tag (N null,
 * I integer, R real, T text, B blob), the length and the bytes.
 * wh_canon_text appends the form of text s (len bytes) read as type t
 * (NULL when empty, except text); it returns 0, or -EINVAL when s does
 * not fit t.  wh_canon_column appends the form of column i of a row.
 */
int wh_canon_text(struct strbuf *sb, enum wh_type t, const char *s,
	size_t len);
void wh_canon_column(struct strbuf *sb, struct sqlite3_stmt *st, int i);
/* The declared SQL type of a column ("INTEGER", "date", ...) as our type; text when unknown. */
enum wh_type wh_type_from_sql(const char *decl);

/*
 * Report that a task's key table h is full (hash_add returned NULL):
 * -E2BIG, with the limit in the message.
 */
int wh_too_many_keys(struct err *e, const char *task, const struct hash *h);

/* A column name or table name we accept: [A-Za-z_][A-Za-z0-9_]*, at most 64 bytes. */
int wh_ident_ok(const char *s);
/* Append s to sb as a double-quoted SQL identifier. */
void wh_quote_ident(struct strbuf *sb, const char *s);

/*
 * Open database for loading on behalf of run (creating it and its
 * directory when absent): busy timeout, WAL, synchronous=NORMAL, the
 * marker table.  A file that is not a database is an error naming the
 * task.  *db is the caller's to close with wh_close.  0 or -errno
 * with e filled.  With wh_keep_connections(1), a connection kept by
 * wh_close for the same file is handed out again instead.
 */
int wh_open(const struct task_run *run, const char *database,
	struct sqlite3 **db, struct err *e);
/*
 * Close db, or keep it for the next wh_open of its file when connections
 * are kept, reusable is set (the caller ran nothing that changes the
 * connection itself: no PRAGMA) and db is as clean as a fresh one (no
 * transaction, statement, temporary object or attached database).
 */
void wh_close(struct sqlite3 *db, int reusable);
/*
 * Keep connections across wh_close / wh_open (a worker process running
 * one instance after another), or stop and close the kept ones.
 */
void wh_keep_connections(int on);
/* An authorizer callback, as sqlite3_set_authorizer takes it. */
typedef int wh_auth_fn(void *arg, int action, const char *a, const char *b,
	const char *c, const char *d);
/*
 * Make fn (with arg) db's authorizer.  Setting one expires every prepared
 * statement of the connection, so on a kept connection that has this one
 * already it is not set again: the caller's fn must let everything
 * through while it is not at work (arg outlives the connection).
 */
void wh_set_authorizer(struct sqlite3 *db, wh_auth_fn *fn, void *arg);

/* Run one statement without results (DDL, BEGIN, ...); 0 or -EIO with e filled. */
int wh_exec(struct sqlite3 *db, const char *sql, struct err *e);
/* Prepare sql; 0 or -EIO with e filled (the message names the statement). */
int wh_prepare(struct sqlite3 *db, const char *sql, struct sqlite3_stmt **st,
	struct err *e);
/* Start the load's write transaction (BEGIN IMMEDIATE: wait for the lock now). */
int wh_begin(struct sqlite3 *db, struct err *e);
/* Commit it; 0 or -EIO with e filled. */
int wh_commit(struct sqlite3 *db, struct err *e);
/* Roll back whatever is open (never fails loudly). */
void wh_rollback(struct sqlite3 *db);

/*
 * The table whose partition the run's target names: target: {table: NAME}
 * when given, else the table: field; NULL when neither.
 */
const char *wh_target_table(const struct task_run *run);

/*
 * Record in the marker table that table's partition of run is loaded
 * (records: the rows loaded, or -1); to be called inside the load's
 * transaction.  0 or -EIO with e filled.
 */
int wh_mark(struct sqlite3 *db, const struct task_run *run, const char *table,
	int64_t records, struct err *e);

/* 1 when table exists in db, 0 when not, -EIO on error. */
int wh_table_exists(struct sqlite3 *db, const char *table, struct err *e);

/*
 * The columns of an existing table, in order (names and declared types,
 * NULL-terminated arrays the caller frees with wh_strv_free); *pk gets the
 * index of its INTEGER PRIMARY KEY column or -1.  0 or -EIO.
 */
int wh_table_columns(struct sqlite3 *db, const char *table, char ***names,
	char ***types, int *pk, struct err *e);
void wh_strv_free(char **v);
/* Index of s in the NULL-terminated v, or -1. */
int wh_strv_find(char *const *v, const char *s);

/*
 * The loader checks required fields; a kind run without it (a test
 * helper, a hand-made instance) still gets an error, not a crash: 0, or
 * -EINVAL naming the first of the NULL-terminated fields that is absent.
 */
int wh_require(const struct task_run *run, const char *const *fields,
	struct err *e);

struct rec_reader;
struct rejects;
struct record;

/*
 * Load every record of r, counting it in run: a record the reader
 * rejected, or one check rejects (it sets *why to a reason the loop
 * frees), is set aside in rj; every other goes to apply.  check may be
 * NULL.  Returns 0 at the end, or the first negative errno (e filled).
 */
int wh_each_record(struct task_run *run, struct rec_reader *r,
	struct rejects *rj,
	int (*check)(void *ctx, const struct record *rec, char **why),
	int (*apply)(void *ctx, const struct record *rec, struct err *e),
	void *ctx, struct err *e);

/*
 * The rejects path of a warehouse load: the task's rejects: field, else
 * "<database>.<table>.<partition>.rejects.csv" beside the database.
 * Caller frees.
 */
char *wh_rejects_path(const struct task_run *run, const char *table);

/*
 * max_reject_ratio of run (default 0.01); a value that is not a number in
 * 0..1 gives the default (validate() reports it at load time).
 */
double wh_reject_ratio(const struct task_run *run);
/* 1 when rejected out of in exceeds ratio. */
int wh_too_many_rejects(int64_t rejected, int64_t in, double ratio);

/*
 * Load-time checks shared by the kinds: a scalar field that must be an
 * identifier (when present), and the max_reject_ratio range.  Append to
 * errs; return the number of problems found.
 */
int wh_check_ident_field(const char *file, const struct node *task,
	const char *field, struct errs *errs);
int wh_check_ratio(const char *file, const struct node *task,
	struct errs *errs);
/* A columns: map {name: type}: names are identifiers, types known. */
int wh_check_columns(const char *file, const struct node *columns,
	struct errs *errs);
/* A list of identifiers (natural_key: [a, b]); a scalar is a list of one. */
int wh_check_ident_list(const char *file, const struct node *n,
	const char *what, struct errs *errs);

#endif
