#!/usr/bin/env python3
"""Deterministic messy CSV for the clean tests (python3 stdlib only).

gen-messy.py ROWS SEED OUT.csv TRUTH.txt [--crlf] [--gzip]

Writes a header and ROWS records of id,name,city,props,amount.  Valid
records use every legal CSV feature: quoted commas, doubled quotes, line
breaks inside quotes, empty fields, non-ASCII text.  About one in ten is
malformed in one of these ways: a field too few or too many, an empty
line, a quote inside an unquoted field, characters after a closing
quote, an unterminated quote, invalid UTF-8, a NUL byte.  TRUTH.txt gets
one line per malformed record: its starting physical line and its kind
("blank" for an empty line, which readers skip: no record, no reject).
"""
import gzip
import random
import sys


def field(s):
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def main():
    rows, seed, out, truth = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    eol = "\r\n" if "--crlf" in sys.argv else "\n"
    rng = random.Random(seed)
    names = ["Ada", "O'Brien, Pat", 'Grace "Amazing" Hopper', "Zoë", "李", "Line\nbreak"]
    cities = ["Boston", "San José", "Paris, TX", ""]
    data = ["id,name,city,props,amount" + eol]
    bad = []
    line = 2
    for i in range(rows):
        rec = [str(i), rng.choice(names), rng.choice(cities),
               '{"event": "e%d", "n": %d}' % (i % 7, i), "$%d,%03d" % (i, i % 1000)]
        text = ",".join(field(x) for x in rec)
        kind = None
        if rng.random() < 0.1:
            kind = rng.choice(["col_short", "col_extra", "blank", "quote_inside",
                               "after_quote", "unterminated", "bad_utf8", "nul"])
            # A malformed record stays on one physical line: a parser
            # resynchronises at line granularity.
            rec[1] = rec[1].replace("\n", " ")
            text = ",".join(field(x) for x in rec)
            if kind == "col_short":
                text = ",".join(field(x) for x in rec[:-1])
            elif kind == "col_extra":
                text = text + ",extra"
            elif kind == "blank":
                text = ""
            elif kind == "quote_inside":
                text = str(i) + 'x"y,' + text.split(",", 1)[1]
            elif kind == "after_quote":
                text = str(i) + ',"a"b,c,d,e'
            elif kind == "unterminated":
                text = str(i) + ',"never closed,c,d,e'
            elif kind == "bad_utf8":
                text = str(i) + ",\udcff\udcfe,c,d,e"
            elif kind == "nul":
                text = str(i) + ",a\0b,c,d,e"
            bad.append("%d\t%s" % (line, kind))
        data.append(text + eol)
        line += 1 + text.count("\n")
    blob = "".join(data).encode("utf-8", "surrogateescape")
    if "--gzip" in sys.argv:
        blob = gzip.compress(blob, mtime=0)
    with open(out, "wb") as f:
        f.write(blob)
    with open(truth, "w") as f:
        f.write("".join(b + "\n" for b in bad))


main()
