"""What the plain-Python baselines share: opening a gzip CSV export the
way a user's script would (bench/baseline_clean.py, baseline_bykey.py).
"""
import csv
import gzip


def open_export(src):
    """A strict csv.reader over the gzip CSV export src, a leading BOM
    skipped, undecodable bytes kept as surrogates; and its header row."""
    inp = gzip.open(src, "rt", encoding="utf-8", errors="surrogateescape",
                    newline="")
    if inp.read(1) != "\ufeff":
        inp.seek(0)
    reader = csv.reader(inp, strict=True)
    return reader, next(reader)
