/*
 * Putting a database in WAL mode when several processes open it at once.
 */
#ifndef DAG_SQLITE_WAL_H
#define DAG_SQLITE_WAL_H

#include <sqlite3.h>

/*
 * Switch db to WAL (a no-op when it already is), waiting up to timeout_ms
 * for other connections.  SQLite does not call the busy handler for this
 * pragma: while another process writes the file in rollback mode (its
 * first write to a fresh file, say) the switch fails at once, so this
 * retries with a growing pause, and takes the file already being WAL as
 * success.  Returns SQLITE_OK, or the last error (SQLITE_BUSY when the
 * time ran out).
 */
int sqlite_use_wal(sqlite3 *db, int timeout_ms);

#endif
