/*
 * sql: run the statements of sql: against database in one transaction,
 * with the partition's values bound as named parameters (:partition,
 * :date, :hour, :start, :end; @name and $name too), never spliced into the
 * text, so a value can never change what a statement means.  The marker
 * row of the task's {table: NAME} target commits with the statements.
 * The text is not a template: braces in SQL stay as they are.
 */
#include "config.h"
#include "task_kind.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "warehouse.h"

static const struct field_spec sql_fields[] = {
	{ "database", FIELD_STRING, FIELD_REQUIRED | FIELD_TEMPLATE,
		"the SQLite database file" },
	{ "table", FIELD_STRING, 0,
		"the table the statements produce, when target: {table: NAME} "
		"is not given" },
	{ "sql", FIELD_STRING, FIELD_REQUIRED,
		"statements run in one transaction; :partition, :date, :hour, "
		":start, :end are bound" },
	{ NULL, 0, 0, NULL },
};

/* The value bound to a parameter called name (without its prefix), or NULL. */
static const char *
param_value(const struct task_run *run, const char *name)
{
	if (!strcmp(name, "partition"))
		return run->partition;
	if (!strcmp(name, "date"))
		return run->date;
	if (!strcmp(name, "hour"))
		return run->hour;
	if (!strcmp(name, "start"))
		return run->start_iso;
	if (!strcmp(name, "end"))
		return run->end_iso;
	return NULL;
}

static int
bind_params(const struct task_run *run, sqlite3_stmt *st, int stmt_no,
	struct err *e)
{
	int i, n = sqlite3_bind_parameter_count(st);

	for (i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		const char *v = name ? param_value(run, name + 1) : NULL;

		if (!v)
			return err_set(e, -EINVAL, "task '%s': statement %d: "
				"unknown parameter '%s' (expected :partition, "
				":date, :hour, :start or :end)", run->task,
				stmt_no, name ? name : "?");
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	}
	return 0;
}

/* What the authorizer saw of the statements. */
struct sql_seen {
	int active;	/* the task's statements are being prepared */
	int denied;	/* a transaction statement, refused */
	int changed;	/* a PRAGMA setting a value: the connection changed */
};

/*
 * The authorizer's state.  It stays set on a kept connection (setting it
 * again per instance would expire the connection's kept statements,
 * engine/warehouse.c), so what it points at lives as long as the
 * process; one instance runs at a time in a process.  Outside
 * run_statements it lets everything through.
 */
static struct sql_seen sql_auth;

/*
 * BEGIN, COMMIT and ROLLBACK would end the load's transaction and commit
 * a half of it: refuse them when they are prepared, before they run.
 * A PRAGMA that sets something changes the connection beyond the
 * instance: it is then not kept for the next one (wh_close).
 */
static int
deny_transactions(void *arg, int action, const char *a, const char *b,
	const char *c, const char *d)
{
	struct sql_seen *seen = arg;

	(void)a, (void)c, (void)d;
	if (!seen->active)
		return SQLITE_OK;
	if (action == SQLITE_PRAGMA && b)
		seen->changed = 1;
	if (action != SQLITE_TRANSACTION)
		return SQLITE_OK;
	seen->denied = 1;
	return SQLITE_DENY;
}

/*
 * The errno for an SQLite failure: -EINVAL when the statement itself is
 * wrong (a syntax error, an unknown column or table, a constraint or a
 * type it breaks), which running it again cannot change, so the attempt
 * is not retried (exec_result_permanent); -EIO for what may pass (a busy
 * or locked database, a full disk, an I/O error).
 */
static int
sql_errno(sqlite3 *db)
{
	switch (sqlite3_errcode(db) & 0xff) {
	case SQLITE_ERROR:
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/*
 * Run every statement of text; *changes gets the rows they changed,
 * *changed whether one set a PRAGMA.
 */
static int
run_statements(struct task_run *run, sqlite3 *db, const char *text,
	int64_t *changes, int *changed, struct err *e)
{
	const char *p = text, *tail;
	sqlite3_stmt *st = NULL;
	int64_t before = sqlite3_total_changes64(db);
	struct sql_seen *seen = &sql_auth;
	int rc = 0, stmt_no = 0;

	seen->denied = seen->changed = 0;
	seen->active = 1;
	wh_set_authorizer(db, deny_transactions, seen);
	while (*p) {
		if (sqlite3_prepare_v2(db, p, -1, &st, &tail) != SQLITE_OK) {
			rc = seen->denied ? err_set(e, -EINVAL, "task '%s': statement "
				"%d: BEGIN, COMMIT and ROLLBACK are not allowed: "
				"sql: runs in one transaction already", run->task,
				stmt_no + 1) : err_set(e, sql_errno(db),
				"task '%s': statement %d: %s", run->task,
				stmt_no + 1, sqlite3_errmsg(db));
			break;
		}
		p = tail;
		if (!st)	/* only a comment or white space was left */
			continue;
		stmt_no++;
		rc = bind_params(run, st, stmt_no, e);
		while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
			rc = 0;
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc > 0)
			rc = err_set(e, sql_errno(db), "task '%s': statement "
				"%d: %s", run->task, stmt_no, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		if (rc < 0)
			break;
	}
	seen->active = 0;
	*changes = sqlite3_total_changes64(db) - before;
	*changed = seen->changed;
	return rc;
}

static int
sql_run(struct task_run *run, struct err *e)
{
	const char *table = wh_target_table(run);
	const char *text = task_run_str(run, "sql");
	const char *database = run->database ? run->database
		: task_run_str(run, "database");
	sqlite3 *db = NULL;
	int64_t changes = 0;
	int rc, changed = 1;

	static const char *const required[] = { "database", "sql", NULL };

	rc = wh_require(run, required, e);
	if (rc < 0)
		return rc;
	if (!table)
		return err_set(e, -EINVAL, "task '%s': no table to mark loaded "
			"(give target: {table: NAME})", run->task);
	rc = wh_open(run, database, &db, e);
	if (rc < 0)
		return rc;
	rc = wh_begin(db, e);
	if (rc == 0)
		rc = run_statements(run, db, text ? text : "", &changes,
			&changed, e);
	if (rc == 0)
		rc = wh_mark(db, run, table, changes, e);
	if (rc == 0)
		rc = wh_commit(db, e);
	if (rc < 0) {
		wh_rollback(db);
	} else {
		run->records_out = changes;
		fprintf(run->log, "sql: %lld rows changed, '%s' %s marked loaded\n",
			(long long)changes, table, run->partition);
	}
	wh_close(db, !changed);
	return rc;
}

static int
sql_validate(const char *file, const struct node *task, struct errs *errs)
{
	const struct node *n = node_get(task, "sql");
	const struct node *t = node_get(task, "target");
	int bad = wh_check_ident_field(file, task, "table", errs);

	if (!node_get(task, "table") && !(t && t->type == NODE_MAP)) {
		errs_addf(errs, -EINVAL, file, task->line, task->column,
			"a sql task needs target: {table: NAME} (or table:)");
		bad++;
	}

	if (n && n->type == NODE_SCALAR) {
		char *s = xasprintf("%s\n;", n->str);

		/* An unterminated string or comment is caught now, not at 3 a.m. */
		if (!*n->str || !sqlite3_complete(s)) {
			errs_addf(errs, -EINVAL, file, n->line, n->column,
				"sql is empty or unterminated (an open quote or "
				"comment)");
			bad++;
		}
		free(s);
	}
	return bad ? -EINVAL : 0;
}

const struct task_kind task_kind_sql = {
	.name = "sql",
	.summary = "run SQL in one transaction with the partition bound",
	.fields = sql_fields,
	.table_target = 1,
	.validate = sql_validate,
	.run = sql_run,
};
