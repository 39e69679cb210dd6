# t/lib-dags.sh: helpers for the end-to-end tests of dags/ (t/t90*).
# Source after t/lib.sh.  Data comes from scripts/gen-data into ./data of
# the scratch directory, and the DAGs are run from there, so their relative
# paths ({root} = data) land in the scratch directory too.

GEN="$SRC_DIR/scripts/gen-data"
DAGS="$SRC_DIR/dags"
export GEN DAGS

# truth NAME_DATE KEY: a value of the generator's ground truth.
truth() {
	sed -n "s/^$2=//p" "data/truth/$1.txt"
}

# dag_status DAG [ARGS...]: status --json into status.json.
dag_status() {
	dag-cli status "$@" --dags "$DAGS" --json >status.json
}

# instance_field TASK PARTITION FIELD: one field of status.json's instance.
instance_field() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
task, part, field = sys.argv[1:]
doc = json.load(open("status.json"))
for i in doc["instances"]:
    if i["task"] == task and i["partition"] == part:
        v = i[field]
        print("" if v is None else v)
        break
else:
    sys.exit("no instance %s %s in status.json" % (task, part))
PY
}

# states_other_than STATE: instances of status.json not in STATE, one a line.
states_other_than() {
	python3 - "$1" <<'PY'
import json, sys
doc = json.load(open("status.json"))
for i in doc["instances"]:
    if i["state"] != sys.argv[1]:
        print(i["task"], i["partition"], i["state"])
PY
}

# csv_records FILE: data records of a CSV (gzip or not), header excluded.
csv_records() {
	python3 - "$1" <<'PY'
import csv, gzip, sys
p = sys.argv[1]
f = gzip.open(p, "rt", newline="", encoding="utf-8") if p.endswith(".gz") \
    else open(p, newline="", encoding="utf-8")
print(sum(1 for _ in csv.reader(f)) - 1)
PY
}

# csv_header FILE: the header record of a CSV (gzip or not), as written.
csv_header() {
	python3 - "$1" <<'PY'
import gzip, sys
p = sys.argv[1]
f = gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")
sys.stdout.write(f.readline().decode("utf-8-sig").rstrip("\r\n") + "\n")
PY
}

# reject_lines FILE: the line numbers a rejects file holds, sorted, one a line.
reject_lines() {
	python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8", errors="replace")))
col = [i for i, h in enumerate(rows[0]) if "line" in h.lower()][0]
for n in sorted(int(r[col]) for r in rows[1:]):
    print(n)
PY
}

# sql DB QUERY: one query through the sqlite3 shell into the file out.sql.
sql() {
	sqlite3 -batch -noheader "$1" "$2" >out.sql
}
