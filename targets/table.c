/*
 * Table targets: a warehouse table's partition is complete when the
 * database's marker table (TARGET_MARKER_TABLE) holds its row.  With a
 * cache (plan, and the scheduler's initial graph), the first question
 * about a table reads all its marker rows into a set, so checking
 * thousands of partitions costs one open and one query.  Without one (the
 * scheduler re-checking after a load), each check reads the database.
 */
#include "config.h"
#include "target.h"
#include "target_cache.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
target_table_check(sqlite3 *db, const char *table, const char *partition,
	struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT 1 FROM " TARGET_MARKER_TABLE
		" WHERE table_name = ?1 AND partition = ?2", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		/* No marker table: nothing was ever loaded. */
		if (strstr(sqlite3_errmsg(db), "no such table"))
			return 0;
		return err_set(e, -EIO, "cannot read the marker table: %s",
			sqlite3_errmsg(db));
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, partition, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return err_set(e, -EIO, "cannot read the marker table: %s",
		sqlite3_errmsg(db));
}

static int
open_db(const char *database, int flags, sqlite3 **db, struct err *e)
{
	int rc = sqlite3_open_v2(database, db, flags, NULL);

	if (rc != SQLITE_OK) {
		err_set(e, -EIO, "cannot open database '%s': %s", database,
			*db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(*db, 30000);
	return 0;
}

/*
 * Open database read-only into *db: 1, or 0 when it does not exist (no
 * table of it is complete), or a negative errno with e filled.
 */
static int
open_existing(const char *database, sqlite3 **db, struct err *e)
{
	struct stat sb;
	int rc;

	if (stat(database, &sb) < 0)
		return errno == ENOENT ? 0 : err_set(e, -errno,
			"cannot stat database '%s': %s", database, strerror(errno));
	rc = open_db(database, SQLITE_OPEN_READONLY, db, e);
	return rc < 0 ? rc : 1;
}

/* Read every loaded partition of table into the cache's set called key. */
static int
read_markers(struct target_cache *c, const char *key, const char *database,
	const char *table, struct err *e)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = open_existing(database, &db, e);
	if (rc == 0)
		target_cache_marker_add(c, key, NULL);
	if (rc <= 0)
		return rc;
	rc = sqlite3_prepare_v2(db, "SELECT partition FROM " TARGET_MARKER_TABLE
		" WHERE table_name = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(db), "no such table")) {
			target_cache_marker_add(c, key, NULL);
			rc = 0;
		} else {
			rc = err_set(e, -EIO, "cannot read the marker table of "
				"'%s': %s", database, sqlite3_errmsg(db));
		}
		goto out;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		target_cache_marker_add(c, key,
			(const char *)sqlite3_column_text(st, 0));
	if (rc == SQLITE_DONE)
		target_cache_marker_add(c, key, NULL);
	rc = rc == SQLITE_DONE ? 0 : err_set(e, -EIO,
		"cannot read the marker table of '%s': %s", database,
		sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int
target_table_exists(struct target_cache *c, const char *database,
	const char *table, const char *partition, struct err *e)
{
	sqlite3 *db = NULL;
	char *key;
	int rc;

	if (c) {
		/* A plan asks about many partitions: read the markers once. */
		key = xasprintf("%s\n%s", database, table);
		rc = target_cache_marker(c, key, partition);
		if (rc < 0) {
			rc = read_markers(c, key, database, table, e);
			if (rc == 0)
				rc = target_cache_marker(c, key, partition);
		}
		free(key);
		return rc;
	}
	rc = open_existing(database, &db, e);
	if (rc <= 0)
		return rc;
	rc = target_table_check(db, table, partition, e);
	sqlite3_close(db);
	return rc;
}

int
target_table_remove(const char *database, const char *table,
	const char *partition, struct err *e)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int rc;

	if (stat(database, &sb) < 0)
		return 0;
	rc = open_db(database, SQLITE_OPEN_READWRITE, &db, e);
	if (rc < 0)
		return rc;
	rc = sqlite3_prepare_v2(db, "DELETE FROM " TARGET_MARKER_TABLE
		" WHERE table_name = ?1 AND partition = ?2", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, partition, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	if (rc != SQLITE_OK && !strstr(sqlite3_errmsg(db), "no such table"))
		rc = err_set(e, -EIO, "cannot clear '%s' %s in '%s': %s", table,
			partition, database, sqlite3_errmsg(db));
	else
		rc = 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

static int
kind_exists(struct target_cache *c, const struct target_ref *t, struct err *e)
{
	return target_table_exists(c, t->database, t->table, t->partition, e);
}

static int
kind_remove(const struct target_ref *t, struct err *e)
{
	return target_table_remove(t->database, t->table, t->partition, e);
}

static void
kind_describe(const struct target_ref *t, struct strbuf *sb)
{
	sb_addf(sb, "table %s in %s", t->table, t->database);
}

/* {table: NAME}: complete when the database's marker table says so. */
const struct target_kind target_table_kind = {
	.name = "table",
	.exists = kind_exists,
	.remove = kind_remove,
	.describe = kind_describe,
};
