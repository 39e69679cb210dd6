/*
 * What state.c and state_read.c share: an SQLite error as an err (a busy
 * database named with its holder), and binding an instance's key.
 */
#ifndef DAG_STATE_PRIV_H
#define DAG_STATE_PRIV_H

#include <sqlite3.h>

#include "state.h"

/* e from the connection's last error about what; returns the code. */
int state_db_err(struct state *s, struct err *e, const char *what);
/* Bind dag, task and partition to ?1, ?2 and ?3. */
void state_bind_inst(sqlite3_stmt *st, const char *dag, const char *task,
	const char *partition);

/* Run a prepared statement that returns no rows, then reset it. */
int state_step_done(struct state *s, sqlite3_stmt *st, struct err *e,
	const char *what);

#endif
