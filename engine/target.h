/*
 * Is a target complete?  Files and directories (targets/file.c) and
 * warehouse tables (targets/table.c).  A target_cache makes a 10-year plan
 * cheap: a directory holding many targets is listed once instead of
 * stat-ing each path, and a database's marker table is read once.
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
