#!/usr/bin/env python3
"""The by-MDN split of dags/vsf.yaml in plain Python (stdlib), the
baseline a user would write instead of a `by-key` task.

    bench/baseline_bykey.py INPUT.csv.gz OUTDIR

One CSV per distinct mdn (OUTDIR/<mdn>.csv, with a header) holding the
mdn, event_time and event_type of each well-formed record.  Rows are
grouped in memory, then each file is written and closed at once, so no
more than one file is open at a time.  Prints "records keys".
"""
import csv
import os
import re
import sys

from baseline_csv import open_export

COLS = ["mdn", "event_time", "event_type"]
SAFE = re.compile(r"[^A-Za-z0-9._-]")


def main():
    src, outdir = sys.argv[1:3]
    os.makedirs(outdir, exist_ok=True)
    reader, header = open_export(src)
    n = len(header)
    ix = [header.index(c) for c in COLS]
    groups = {}
    records = 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error:
            continue
        if len(rec) != n:
            continue
        records += 1
        row = [rec[i] for i in ix]
        groups.setdefault(row[0], []).append(row)
    for key, rows in groups.items():
        name = SAFE.sub("_", key) or "_empty"
        with open(os.path.join(outdir, name + ".csv"), "w", encoding="utf-8",
                  errors="surrogateescape", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLS)
            w.writerows(rows)
    open(os.path.join(outdir, "_SUCCESS"), "w").close()
    print(records, len(groups))


if __name__ == "__main__":
    main()
