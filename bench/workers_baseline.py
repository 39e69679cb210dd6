#!/usr/bin/env python3
"""The own work of N instances of one bench/workers.sh scenario, done in
one Python process with one database connection, as a worker keeps its
connection: what dag-cli takes beyond this per instance is the engine's
cost.  Each instance does what the task kind does, with the same fsyncs:

  sql        BEGIN IMMEDIATE, SELECT 1, the marker row, COMMIT
  fact-load  read the 20-row CSV file; in one transaction create the
             table if needed, delete the partition's rows, insert the
             file's, write the marker; the (empty) rejects file
  dim-load   read the 20-row CSV file; in one transaction create the
             table if needed, read the current rows, insert the new keys
             and update the changed ones (SCD1), write the marker; the
             (empty) rejects file
  archive    copy the file to a temporary beside the target, fsync it,
             rename it, fsync the directory
  clean      read the CSV file, trim and lower a column, write the output
             under a temporary, fsync, rename, fsync the directory; the
             (empty) rejects file

A rejects file is written under a temporary name and renamed, without
fsync, as dag-cli writes it.

    bench/workers_baseline.py KIND DIR N
DIR holds in/DATE.csv (and gets wh.db, out/, arch/); dates from 2000-01-01.
"""
import csv
import datetime
import os
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


def mark(db, table, date, task, records):
    db.execute("INSERT OR REPLACE INTO _dag_loads (table_name, partition, "
               "dag, task, records) VALUES (?, ?, ?, ?, ?)",
               (table, date, "bench", task, records))


def rows_of(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))[1:]


def publish(path, text, sync):
    d = os.path.dirname(path)
    tmp = os.path.join(d, "." + os.path.basename(path) + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, text)
    if sync:
        os.fsync(fd)
    os.close(fd)
    os.rename(tmp, path)
    if sync:
        dfd = os.open(d, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)


def rejects(path):
    publish(path, b"line,reason,record\n", False)


def main():
    kind, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    day = datetime.date(2000, 1, 1)
    db = connect(os.path.join(d, "wh.db")) if kind in (
        "sql", "fact-load", "dim-load") else None
    for sub in ("out", "arch"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for i in range(n):
        date = (day + datetime.timedelta(days=i)).isoformat()
        src = os.path.join(d, "in", date + ".csv")
        if kind == "sql":
            db.execute("BEGIN IMMEDIATE")
            db.execute("SELECT 1").fetchall()
            mark(db, "marks", date, "mark", None)
            db.execute("COMMIT")
        elif kind == "fact-load":
            rows = rows_of(src)
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS facts (day TEXT NOT NULL, "
                       "id TEXT, n TEXT, name TEXT)")
            db.execute("CREATE INDEX IF NOT EXISTS facts_day ON facts (day)")
            db.execute("DELETE FROM facts WHERE day = ?", (date,))
            db.executemany("INSERT INTO facts VALUES (?, ?, ?, ?)",
                           [(date, r[0], r[1], r[2]) for r in rows])
            mark(db, "facts", date, "load", len(rows))
            db.execute("COMMIT")
            rejects(os.path.join(d, "wh.db.facts.%s.rejects.csv" % date))
        elif kind == "dim-load":
            rows = rows_of(src)
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS dim (sk INTEGER PRIMARY "
                       "KEY, id INTEGER, n INTEGER, name TEXT)")
            cur = {r[1]: (r[0], r[2], r[3]) for r in
                   db.execute("SELECT sk, id, n, name FROM dim")}
            for r in rows:
                k, v = int(r[0]), (int(r[1]), r[2])
                old = cur.get(k)
                if old is None:
                    db.execute("INSERT INTO dim (id, n, name) VALUES "
                               "(?, ?, ?)", (k,) + v)
                elif old[1:] != v:
                    db.execute("UPDATE dim SET n = ?, name = ? WHERE sk = ?",
                               v + (old[0],))
            mark(db, "dim", date, "dim", len(rows))
            db.execute("COMMIT")
            rejects(os.path.join(d, "wh.db.dim.%s.rejects.csv" % date))
        elif kind == "archive":
            with open(src, "rb") as f:
                data = f.read()
            publish(os.path.join(d, "arch", date + ".csv"), data, True)
        elif kind == "clean":
            with open(src, newline="") as f:
                rd = csv.reader(f)
                out = [next(rd)]
                for r in rd:
                    r[2] = r[2].strip().lower()
                    out.append(r)
            text = "".join(",".join(r) + "\n" for r in out).encode()
            dst = os.path.join(d, "out", date + ".csv")
            publish(dst, text, True)
            rejects(dst + ".rejects.csv")
        else:
            sys.exit("unknown kind " + kind)
    if db is not None:
        db.close()


if __name__ == "__main__":
    main()
