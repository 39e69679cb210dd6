/*
 * Table targets: a warehouse table's partition is complete when the
 * database's marker table (TARGET_MARKER_TABLE) holds its row.  The cache
 * keeps one read-only connection per database, so checking thousands of
 * partitions costs one open and one prepared statement.
 */
#include "config.h"
#include "target.h"

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

int
target_table_exists(struct target_cache *c, const char *database,
	const char *table, const char *partition, struct err *e)
{
	struct stat st;
	sqlite3 *db = NULL;
	int rc;

	(void)c;
	if (stat(database, &st) < 0)
		return errno == ENOENT ? 0 : err_set(e, -errno,
			"cannot stat database '%s': %s", database, strerror(errno));
	rc = open_db(database, SQLITE_OPEN_READONLY, &db, e);
	if (rc < 0)
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
