#!/usr/bin/env python3
"""Check dag-cli's partitions against Python's zoneinfo, zone by zone.

    tz-check.py HELPER WORKDIR [ZONE...]

For every zone in the system's tz database (or the ones named), the days
around each change of UTC offset from 1970 to 2037 and a sample of ordinary
days are computed here from zoneinfo alone and compared with what dag-cli
computes (t/helper dag batch): daily and hourly partition ids, their bounds
(`{ts}`, `:start`, `:end`), the number of hours per day, stepping by an
offset (a need), and the {date}, {hour}, {ts} and {date-1d} templates.

The rules checked are those of dag-cli.1 (PARTITIONS): a day runs from the
first instant whose local time is at or after its midnight to the same for
the next day, and does not exist when that is empty; an hourly partition is
a stretch of one local wall-clock hour, a new one starting wherever the
local hour's name changes or local time goes back; one whose hour already
occurred gets a "b".  Zones sharing one file are checked once in full; each kind of change in a zone
is checked on its first two occurrences and a random 5% of the others.
Prints the first differences and exits 1 on any.
"""
import bisect
import datetime
import hashlib
import os
import random
import subprocess
import sys
import zoneinfo
from zoneinfo import _zoneinfo as pyzoneinfo

LO = 0                  # 1970-01-01
HI = 2145916800         # 2038-01-01
DAY = 86400


def offset_fn(key):
    tz = zoneinfo.ZoneInfo(key)
    utc = datetime.timezone.utc

    def off(t):
        d = datetime.datetime.fromtimestamp(t, utc).astimezone(tz)
        return int(d.utcoffset().total_seconds())
    return off


def changes(key, off):
    """Instants in [LO - 3 days, HI + 3 days) where the offset changes."""
    z = pyzoneinfo.ZoneInfo(key)
    cand = set(t for t in z._trans_utc if LO - 3 * DAY <= t < HI + 3 * DAY)
    after = z._tz_after
    if hasattr(after, "transitions"):
        last = max(z._trans_utc) if z._trans_utc else LO
        y0 = datetime.datetime.fromtimestamp(max(last, LO),
                                             datetime.timezone.utc).year
        for y in range(y0, 2039):
            for local in after.transitions(y):
                for o in (after.std.utcoff, after.dst.utcoff):
                    t = int(local - o.total_seconds())
                    cand.add(t)
    real = []
    for t in sorted(cand):
        if off(t) != off(t - 1):
            real.append(t)
    return real


class Zone:
    """The zone's offsets as spans, from zoneinfo only."""

    def __init__(self, key):
        self.key = key
        self.off = offset_fn(key)
        self.ch = changes(key, self.off)

    def spans(self, w0, w1):
        pts = [w0] + [c for c in self.ch if w0 < c < w1] + [w1]
        return [(a, b, self.off(a)) for a, b in zip(pts, pts[1:])]

    def day_start(self, days, sp):
        x = days * DAY
        best = None
        for a, b, o in sp:
            c = max(a, x - o)
            if c < b:
                best = c if best is None else min(best, c)
        return best

    def hours(self, w0, w1):
        """Hourly partitions (start, end, label, repeated) in [w0, w1)."""
        pieces = []
        for a, b, o in self.spans(w0, w1):
            k = (a + o) // 3600
            while k * 3600 - o < b:
                s = max(a, k * 3600 - o)
                e = min(b, (k + 1) * 3600 - o)
                if s < e:
                    pieces.append([s, e, k, s + o, e + o])
                k += 1
        merged = []
        for p in pieces:
            if merged:
                q = merged[-1]
                # same hour name and local time did not go back: one hour
                if q[2] == p[2] and p[3] >= q[4]:
                    q[1] = p[1]
                    q[4] = p[4]
                    continue
            merged.append(p)
        seen = set()
        out = []
        for s, e, k, _, _ in merged:
            out.append((s, e, k, k in seen))
            seen.add(k)
        return out

    def iso(self, t):
        o = self.off(t)
        ld = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=t + o)
        a = abs(o)
        return "%sT%s%s%02d:%02d" % (ld.strftime("%Y-%m-%d"),
                                    ld.strftime("%H:%M:%S"),
                                    "-" if o < 0 else "+", a // 3600,
                                    a // 60 % 60)


def date_of(days):
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=days)).isoformat()


def hour_id(k, rep):
    d = k * 3600 // DAY
    return "%sT%02d%s" % (date_of(d), (k * 3600 - d * DAY) // 3600,
                          "b" if rep else "")


class Check:
    def __init__(self, helper, work):
        self.helper = helper
        self.work = work
        self.cmds = []
        self.expect = []        # (description, expected lines)

    def add(self, cmd, lines, what):
        self.cmds.append(cmd)
        self.expect.append((what, lines))

    def load(self, path):
        self.cmds.append("load " + path)
        self.expect.append(("load " + path, []))

    def run(self):
        inp = "".join(c + "\n" for c in self.cmds)
        if os.environ.get("TZ_CHECK_DUMP"):
            with open(os.environ["TZ_CHECK_DUMP"], "w") as f:
                f.write(inp)
        r = subprocess.run([self.helper, "dag", "batch"], input=inp,
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("helper failed: %d %s" % (r.returncode, r.stderr[-2000:]))
            return 1
        got = r.stdout.split("\n")
        i = 0
        bad = 0
        for cmd, (what, lines) in zip(self.cmds, self.expect):
            ans = []
            while i < len(got) and got[i] != ".":
                ans.append(got[i])
                i += 1
            i += 1
            if ans != lines:
                bad += 1
                if bad <= 10:
                    print("DIFF %s: %s" % (what, cmd))
                    for x in lines:
                        print("  want " + x)
                    for x in ans:
                        print("  got  " + x)
        print("%d queries, %d differ" % (len(self.cmds), bad))
        return 1 if bad else 0


def mkdag(work, name, sched, key):
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write("dag: %s\nschedule: %s\ntimezone: %s\nstart: 1969-12-20\n"
                "tasks:\n  a: {kind: command, run: 'true', target: "
                "'{ts}|{date}|{hour}|{partition}|{date-1d}'}\n"
                % (name, sched, key))
    return path


def check_zone(ck, z, work, idx, rnd, full):
    off = z.off
    dpath = mkdag(work, "d%d" % idx, "daily", z.key)
    hpath = mkdag(work, "h%d" % idx, "hourly", z.key)
    if not full:
        ck.load(dpath)
        d = 20000 + rnd.randrange(3000)
        sp = z.spans((d - 3) * DAY, (d + 4) * DAY)
        s, e = z.day_start(d, sp), z.day_start(d + 1, sp)
        ck.add("parts %s %s" % (date_of(d), date_of(d)),
               ["%s %s %s" % (date_of(d), z.iso(s), z.iso(e))],
               z.key + " one day")
        return
    # Each kind of change (offsets before and after, local time of day,
    # another change within three days) twice, and a few more at random.
    days = set()
    kinds = {}
    for j, c in enumerate(z.ch):
        if not LO <= c < HI:
            continue
        crowded = (j > 0 and c - z.ch[j - 1] < 3 * DAY) or \
            (j + 1 < len(z.ch) and z.ch[j + 1] - c < 3 * DAY)
        kind = (off(c - 1), off(c), (c - 1 + off(c - 1)) % DAY, crowded)
        kinds[kind] = kinds.get(kind, 0) + 1
        if kinds[kind] > 2 and rnd.random() > 0.05:
            continue
        for t in (c - 1, c):
            d = (t + off(t)) // DAY
            days.update((d - 1, d, d + 1))
    for _ in range(3):
        days.add(rnd.randrange(LO // DAY, HI // DAY))
    days = sorted(d for d in days if LO // DAY + 2 <= d < HI // DAY - 2)
    # daily
    ck.load(dpath)
    for d in days:
        sp = z.spans((d - 3) * DAY, (d + 4) * DAY)
        st = {k: z.day_start(k, sp) for k in range(d - 1, d + 3)}
        exists = {k: st[k] < st[k + 1] for k in range(d - 1, d + 2)}
        if exists[d]:
            lines = ["%s %s %s" % (date_of(d), z.iso(st[d]), z.iso(st[d + 1]))]
            ck.add("parts %s %s" % (date_of(d), date_of(d)), lines,
                   z.key + " day")
            for k in (-1, 1):
                want = date_of(d + k) if exists[d + k] else \
                    "no such day (%s)" % date_of(d + k)
                ck.add("step %s %d" % (date_of(d), k), [want],
                       z.key + " day step")
            t = st[d]
            ck.add("target a %s" % date_of(d),
                   ["%s|%s|%02d|%s|%s" % (z.iso(t), date_of(d),
                                          (t + off(t)) % DAY // 3600,
                                          date_of(d), date_of(d - 1))],
                   z.key + " day templates")
        else:
            ck.add("parts %s %s" % (date_of(d), date_of(d)),
                   ["day '%s' does not exist in %s (the clocks skip it)"
                    % (date_of(d), z.key)], z.key + " missing day")
    # hourly
    ck.load(hpath)
    for d in days:
        sp = z.spans((d - 3) * DAY, (d + 4) * DAY)
        s0, s1 = z.day_start(d, sp), z.day_start(d + 1, sp)
        hs = z.hours((d - 3) * DAY, (d + 4) * DAY)
        ids = [hour_id(k, r) for _, _, k, r in hs]
        mine = [i for i, h in enumerate(hs) if s0 <= h[0] < s1]
        if not mine:
            continue
        lines = ["%s %s %s" % (ids[i], z.iso(hs[i][0]), z.iso(hs[i][1]))
                 for i in mine]
        ck.add("parts %s %s" % (date_of(d), date_of(d)), lines,
               z.key + " hours of a day (%d)" % len(mine))
        # Steps and templates near the changes, and at the day's ends.
        near = set((mine[0], mine[-1]))
        for i in mine:
            j = bisect.bisect_left(z.ch, hs[i][0] - 7200)
            if j < len(z.ch) and z.ch[j] <= hs[i][1] + 7200:
                near.add(i)
        for i in sorted(near):
            for k in (-1, 1, -24, 24):
                if 0 <= i + k < len(hs):
                    ck.add("step %s %d" % (ids[i], k), [ids[i + k]],
                           z.key + " hour step")
            s = hs[i][0]
            loc = s + off(s)
            ld = loc // DAY
            ck.add("target a %s" % ids[i],
                   ["%s|%s|%02d|%s|%s" % (z.iso(s), date_of(ld),
                                          (loc - ld * DAY) // 3600, ids[i],
                                          date_of(ld - 1))],
                   z.key + " hour templates")


def main():
    helper, work = sys.argv[1], sys.argv[2]
    keys = sys.argv[3:] or sorted(zoneinfo.available_timezones())
    rnd = random.Random(17)
    ck = Check(helper, work)
    done = set()
    nzones = nfull = 0
    for idx, key in enumerate(keys):
        path = os.path.join(os.environ.get("TZDIR", "/usr/share/zoneinfo"),
                            key)
        if not os.path.isfile(path) or key in ("Factory", "localtime"):
            continue
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        full = digest not in done
        done.add(digest)
        nzones += 1
        nfull += full
        check_zone(ck, Zone(key), work, idx, rnd, full)
    print("%d zones (%d distinct)" % (nzones, nfull))
    return ck.run()


if __name__ == "__main__":
    sys.exit(main())
