#!/usr/bin/env python3
"""The own work of N instances of bench/run's built-in scenario (an sql task
running SELECT 1), done in one Python process: for each date, open the
database, run the statement and write the marker row in one transaction,
close (SQLite checkpoints on close), as the task does.  What dag-cli takes
beyond this per instance is the engine's cost.  With "keep", one
connection serves every date, as a worker keeps its connection.

    bench/baseline_builtin.py DB N [keep]
"""
import datetime
import sqlite3
import sys


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    keep = len(sys.argv) > 3 and sys.argv[3] == "keep"
    day = datetime.date(2000, 1, 1)
    db = None
    for i in range(n):
        if db is None:
            db = sqlite3.connect(path, isolation_level=None, timeout=600)
            db.execute("PRAGMA page_size=16384")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS _dag_loads (table_name TEXT NOT NULL, "
                       "partition TEXT NOT NULL, dag TEXT, task TEXT, records INTEGER, "
                       "loaded_at TEXT NOT NULL DEFAULT "
                       "(strftime('%Y-%m-%dT%H:%M:%SZ','now')), "
                       "PRIMARY KEY (table_name, partition))")
        db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT 1").fetchall()
        db.execute("INSERT OR REPLACE INTO _dag_loads (table_name, partition, dag, "
                   "task, records) VALUES (?, ?, ?, ?, NULL)",
                   ("marks", (day + datetime.timedelta(days=i)).isoformat(),
                    "builtin", "mark"))
        db.execute("COMMIT")
        if not keep:
            db.close()
            db = None
    if db is not None:
        db.close()


if __name__ == "__main__":
    main()
