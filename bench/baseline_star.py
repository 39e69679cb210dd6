#!/usr/bin/env python3
"""The star load of dags/vsf.yaml in plain Python (stdlib sqlite3), the
baseline a user would write instead of dimension-load and fact-load tasks.

    bench/baseline_star.py DB LINES.csv ACCOUNTS.csv CLEAN_EVENTS.csv DAY

Loads the line and account dimensions (surrogate keys, upsert on the
natural key), then the day's events into fact_event with line_id and
account_id replaced by the dimensions' keys (0, the unknown member, when
absent), replacing the day's rows, all in one transaction.  Prints
"facts unknown_lines".
"""
import csv
import sqlite3
import sys


def load_dim(db, table, key, skey, path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        cols = next(r)
        db.execute("CREATE TABLE IF NOT EXISTS %s (%s INTEGER PRIMARY KEY, %s, "
                   "UNIQUE (%s))" % (table, skey, ", ".join(cols), key))
        ph = ", ".join("?" * len(cols))
        upd = ", ".join("%s = excluded.%s" % (c, c) for c in cols if c != key)
        db.executemany("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO "
                       "UPDATE SET %s" % (table, ", ".join(cols), ph, key, upd),
                       r)
    return dict(db.execute("SELECT %s, %s FROM %s" % (key, skey, table)))


def main():
    path, lines, accounts, events, day = sys.argv[1:6]
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("BEGIN")
    line_keys = load_dim(db, "dim_line", "line_id", "line_key", lines)
    acct_keys = load_dim(db, "dim_account", "account_id", "account_key",
                         accounts)
    unknown = [0]
    with open(events, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        cols = next(r)
        il, ia = cols.index("line_id"), cols.index("account_id")
        out = ["line_key" if c == "line_id" else
               "account_key" if c == "account_id" else c for c in cols]
        db.execute("CREATE TABLE IF NOT EXISTS fact_event (day, %s)"
                   % ", ".join(out))
        db.execute("DELETE FROM fact_event WHERE day = ?", (day,))

        def rows():
            for rec in r:
                lk = line_keys.get(rec[il])
                if lk is None:
                    lk = 0
                    unknown[0] += 1
                rec[il] = lk
                rec[ia] = acct_keys.get(rec[ia], 0)
                yield [day] + rec
        db.executemany("INSERT INTO fact_event VALUES (%s)"
                       % ", ".join("?" * (len(cols) + 1)), rows())
    db.execute("COMMIT")
    n = db.execute("SELECT count(*) FROM fact_event WHERE day = ?",
                   (day,)).fetchone()[0]
    print(n, unknown[0])


if __name__ == "__main__":
    main()
