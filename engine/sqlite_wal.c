/*
 * WAL mode with other processes around; see sqlite_wal.h.
 */
#include "config.h"
#include "sqlite_wal.h"

#include <string.h>
#include <strings.h>
#include <time.h>

/* The journal mode db reports, into mode; an SQLite result code. */
static int
journal_mode(sqlite3 *db, const char *sql, char *mode, size_t size)
{
	sqlite3_stmt *st;
	int rc;

	mode[0] = '\0';
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);

		if (m) {
			strncpy(mode, (const char *)m, size - 1);
			mode[size - 1] = '\0';
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int
sqlite_use_wal(sqlite3 *db, int timeout_ms)
{
	char mode[16];
	int waited = 0, pause_ms = 1, rc;

	for (;;) {
		/* Reading the mode takes no lock a writer holds. */
		rc = journal_mode(db, "PRAGMA journal_mode", mode, sizeof(mode));
		if (rc == SQLITE_OK && !strcasecmp(mode, "wal"))
			return SQLITE_OK;
		if (rc == SQLITE_OK) {
			rc = journal_mode(db, "PRAGMA journal_mode=WAL", mode,
				sizeof(mode));
			if (rc == SQLITE_OK && !strcasecmp(mode, "wal"))
				return SQLITE_OK;
			/* The pragma answers the old mode when it cannot switch. */
			if (rc == SQLITE_OK)
				rc = SQLITE_BUSY;
		}
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return rc;
		if (waited >= timeout_ms)
			return rc;
		{
			struct timespec ts = { pause_ms / 1000,
				(long)(pause_ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
		waited += pause_ms;
		if (pause_ms < 100)
			pause_ms *= 2;
	}
}
