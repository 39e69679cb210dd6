#!/usr/bin/env python3
"""The VSF clean step of dags/vsf.yaml in plain Python (stdlib), the
baseline a user would write instead of a `clean` task.

    bench/baseline_clean.py INPUT.csv.gz OUTPUT.csv REJECTS.csv

Reads the gzip CSV export, rejects records with the wrong field count, bad
quoting, invalid UTF-8, an MDN that is not ten digits once "()- " are
stripped, or EventProperties that are not JSON; splits EventProperties into
event and properties (compact JSON); writes the selected columns.  Prints
"records_in records_out records_rejected".
"""
import csv
import json
import re
import sys

from baseline_csv import open_export

SELECT = ["event_time", "insert_id", "mdn", "account_id", "line_id",
          "device_os", "app_version", "event_type", "event", "properties",
          "city"]
MDN = re.compile(r"^\d{10}$")
STRIP = str.maketrans("", "", "()- ")
BAD_UTF8 = re.compile("[\udc80-\udcff]")


def main():
    src, dst, rej = sys.argv[1:4]
    reader, header = open_export(src)
    ix = {h: i for i, h in enumerate(header)}
    n = len(header)
    out = open(dst, "w", encoding="utf-8", newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(SELECT)
    rejects = open(rej, "w", encoding="utf-8", errors="surrogateescape",
                   newline="")
    rw = csv.writer(rejects, lineterminator="\n")
    rw.writerow(["line", "reason", "record"])
    i_mdn, i_props = ix["mdn"], ix["event_properties"]
    keep = [ix[c] for c in SELECT[:8]]
    i_city = ix["city"]
    rin = rout = rbad = 0
    dumps = json.dumps
    while True:
        line = reader.line_num + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            rin += 1
            rbad += 1
            rw.writerow([line, "bad quoting: %s" % e, ""])
            continue
        rin += 1
        reason = None
        if len(rec) != n:
            reason = "%d fields, expected %d" % (len(rec), n)
        elif BAD_UTF8.search(",".join(rec)):
            reason = "invalid UTF-8"
        else:
            mdn = rec[i_mdn].translate(STRIP)
            if not MDN.match(mdn):
                reason = "mdn does not match"
            else:
                try:
                    p = json.loads(rec[i_props])
                    ev = p.get("event", "") if isinstance(p, dict) else ""
                    props = p.get("properties", "") if isinstance(p, dict) else ""
                except ValueError:
                    reason = "event_properties is not JSON"
        if reason:
            rbad += 1
            rw.writerow([line, reason, ",".join(rec)])
            continue
        row = [rec[k] for k in keep]
        row[2] = mdn
        if not isinstance(ev, str):
            ev = dumps(ev, separators=(",", ":"))
        if not isinstance(props, str):
            props = dumps(props, separators=(",", ":"), ensure_ascii=False)
        row += [ev, props, rec[i_city]]
        w.writerow(row)
        rout += 1
    out.close()
    rejects.close()
    print(rin, rout, rbad)


if __name__ == "__main__":
    main()
