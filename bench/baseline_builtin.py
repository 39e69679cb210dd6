#!/usr/bin/env python3
"""The own work of N instances of bench/run's built-in scenario (an sql task
running SELECT 1), done in one Python process: for each date, open the
database, run the statement and write the marker row in one transaction,
close (SQLite checkpoints on close), as the task does.  What dag-cli takes
beyond this per instance is the engine's cost.

    bench/baseline_builtin.py DB N
"""
import datetime
import sqlite3
import sys


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    day = datetime.date(2000, 1, 1)
    for i in range(n):
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
        db.close()


if __name__ == "__main__":
    main()
