/*
 * Is a target complete, how is it removed, how is it named?  Each kind of
 * target is one const struct target_kind, as each kind of task is a const
 * struct task_kind: files and directories (targets/file.c) and warehouse
 * tables (targets/table.c); targets/registry.c maps a task's target to
 * its kind and resolves one instance's target.  Callers ask the kind, never
 * switch on the type.  A target_cache makes a 10-year plan cheap: a
 * directory holding many targets is listed once instead of stat-ing each
 * path, and a database's marker table is read once.
 */
#ifndef DAG_TARGET_H
#define DAG_TARGET_H

#include "util.h"

/*
 * The marker table every warehouse database holds.  A load commits its
 * rows and its marker row in one transaction, so a table partition is
 * complete exactly when its marker row exists.
 */
#define TARGET_MARKER_TABLE "_dag_loads"
#define TARGET_MARKER_DDL \
	"CREATE TABLE IF NOT EXISTS _dag_loads (" \
	" table_name TEXT NOT NULL," \
	" partition TEXT NOT NULL," \
	" dag TEXT, task TEXT," \
	" records INTEGER," \
	" loaded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))," \
	" PRIMARY KEY (table_name, partition))"

struct target_cache;
struct dag;
struct partition;
struct resolve_env;

/* One instance's resolved target. */
struct target_ref {
	const struct target_kind *kind;	/* NULL: the task has no target */
	char *path;		/* file, directory (ends in '/'): owned */
	char *database;		/* table: the database file, owned */
	const char *table;	/* table: its name (borrowed from the task) */
	char partition[24];	/* the partition id */
};

struct target_kind {
	const char *name;	/* "file", "directory", "table" */
	/*
	 * 1 when t is complete, 0 when not, negative errno when it cannot
	 * be told (e filled).  c may be NULL: ask the filesystem or the
	 * database now.
	 */
	int (*exists)(struct target_cache *c, const struct target_ref *t,
		struct err *e);
	/* Remove t so its instance runs again; 0 (also when absent) or -errno. */
	int (*remove)(const struct target_ref *t, struct err *e);
	/* Name t for a person: its path, "table T in DB". */
	void (*describe)(const struct target_ref *t, struct strbuf *sb);
};

extern const struct target_kind target_file_kind;
extern const struct target_kind target_dir_kind;
extern const struct target_kind target_table_kind;

/*
 * The kind of dag's task (NULL when it has none: a pattern check, or a
 * task without a target).
 */
const struct target_kind *target_kind_of(const struct dag *dag, size_t task);

/*
 * Resolve task's target at p (env as for dag_resolve; NULL outside a
 * graph) into ref.  0, or a negative errno with e filled (a table
 * target without a database).  A task without a target gives ref->kind
 * NULL.  Release with target_ref_release either way.
 */
int target_resolve(const struct dag *dag, size_t task,
	const struct partition *p, const struct resolve_env *env,
	struct target_ref *ref, struct err *e);
void target_ref_release(struct target_ref *ref);

struct target_cache *target_cache_new(void);
void target_cache_free(struct target_cache *c);
/* Drop what the cache knows about path (after a run or a clear). */
void target_cache_forget(struct target_cache *c, const char *path);

/*
 * 1 when the file exists (a path ending in '/' : when it holds _SUCCESS),
 * 0 when not, negative errno when it cannot be told (e filled).
 */
int target_file_exists(struct target_cache *c, const char *path,
	struct err *e);

/*
 * 1 when database's marker table records partition of table as loaded, 0
 * when not (a missing database or marker table is 0), negative errno on
 * a database error (e filled).
 */
int target_table_exists(struct target_cache *c, const char *database,
	const char *table, const char *partition, struct err *e);

/*
 * The same check on an open connection (a loader uses it inside its own
 * transaction).  A missing marker table is 0.
 */
struct sqlite3;
int target_table_check(struct sqlite3 *db, const char *table,
	const char *partition, struct err *e);

/* Remove a file target (or a directory target's tree); 0 or -errno. */
int target_file_remove(const char *path);
/* Delete a table partition's marker row (its data stays until reloaded). */
int target_table_remove(const char *database, const char *table,
	const char *partition, struct err *e);

#endif
