#!/usr/bin/env python3
"""t/web/flatten.py grid|status FILE: one line "task partition state" per
instance, sorted, from the web API's grid (runs of partitions and states,
expanded here independently of the server) or from status --json."""
import datetime
import json
import re
import sys


def ids(runs):
    out = []
    for first, n in runs:
        m = re.match(r"^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d))?$", first)
        if not m or n == 1:
            out.append(first)
            continue
        hourly = m.group(4) is not None
        t = datetime.datetime(int(m.group(1)), int(m.group(2)),
                              int(m.group(3)), int(m.group(4) or 0))
        step = datetime.timedelta(hours=1) if hourly else datetime.timedelta(days=1)
        for i in range(n):
            d = t + i * step
            out.append(d.strftime("%Y-%m-%dT%H" if hourly else "%Y-%m-%d"))
    return out


def grid(doc):
    parts = ids(doc["partitions"])
    assert len(parts) == doc["count"], (len(parts), doc["count"])
    lines = []
    for task, runs in zip(doc["tasks"], doc["cells"]):
        at = 0
        for k in range(0, len(runs), 2):
            n, s = runs[k], runs[k + 1]
            for i in range(at, at + n):
                if s >= 0:
                    lines.append("%s %s %s" % (task, parts[i], doc["states"][s]))
            at += n
        assert at == len(parts), (task, at, len(parts))
    return lines


def status(doc):
    return ["%s %s %s" % (i["task"], i["partition"], i["state"])
            for i in doc["instances"]]


doc = json.load(open(sys.argv[2]))
for line in sorted(grid(doc) if sys.argv[1] == "grid" else status(doc)):
    print(line)
