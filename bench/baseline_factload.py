#!/usr/bin/env python3
"""The own work of N instances of bench/workers.sh's fact-load scenario,
done in one Python process: for each date, open the database (or keep one
connection with "keep"), and in one transaction create the table if
needed, delete the partition's rows, insert the rows of its CSV file and
write the marker row, as the fact-load task does.

    bench/baseline_factload.py DB INDIR N [keep]
"""
import csv
import datetime
import sqlite3
import sys

MARKERS = ("CREATE TABLE IF NOT EXISTS _dag_loads (table_name TEXT NOT NULL, "
           "partition TEXT NOT NULL, dag TEXT, task TEXT, records INTEGER, "
           "loaded_at TEXT NOT NULL DEFAULT "
           "(strftime('%Y-%m-%dT%H:%M:%SZ','now')), "
           "PRIMARY KEY (table_name, partition))")


def connect(path):
    db = sqlite3.connect(path, isolation_level=None, timeout=600)
    db.execute("PRAGMA page_size=16384")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(MARKERS)
    return db


def main():
    path, indir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    keep = len(sys.argv) > 4 and sys.argv[4] == "keep"
    day = datetime.date(2000, 1, 1)
    db = connect(path) if keep else None
    for i in range(n):
        date = (day + datetime.timedelta(days=i)).isoformat()
        if not keep:
            db = connect(path)
        with open("%s/%s.csv" % (indir, date), newline="") as f:
            rows = list(csv.reader(f))[1:]
        db.execute("BEGIN IMMEDIATE")
        db.execute("CREATE TABLE IF NOT EXISTS facts (id INTEGER, n INTEGER, "
                   "name TEXT, day TEXT)")
        db.execute("DELETE FROM facts WHERE day = ?", (date,))
        db.executemany("INSERT INTO facts VALUES (?, ?, ?, ?)",
                       [(int(r[0]), int(r[1]), r[2], date) for r in rows])
        db.execute("INSERT OR REPLACE INTO _dag_loads (table_name, partition, "
                   "dag, task, records) VALUES (?, ?, ?, ?, ?)",
                   ("facts", date, "facts", "load", len(rows)))
        db.execute("COMMIT")
        if not keep:
            db.close()
    if keep:
        db.close()


if __name__ == "__main__":
    main()
