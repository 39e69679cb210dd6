# t/lib-dags.sh: helpers for the end-to-end tests of dags/ (t/t90*).
# Source after t/lib.sh.  Data comes from scripts/gen-data into ./data of
# the scratch directory, and the DAGs are run from there, so their relative
# paths ({root} = data) land in the scratch directory too.

GEN="$SRC_DIR/scripts/gen-data"
DAGS="$SRC_DIR/dags"
export GEN DAGS

# dag ARGS...: dag-cli ARGS with output to the files out and err; when it
# fails, both are shown so the test log says why.
dag() {
	dag-cli "$@" >out 2>err && return 0
	rc=$?
	echo "dag-cli $* exited $rc; its output:"
	cat out err
	return $rc
}

# truth NAME_DATE KEY: a value of the generator's ground truth.
truth() {
	sed -n "s/^$2=//p" "data/truth/$1.txt"
}

# dag_status DAG [ARGS...]: status --json into status.json, flattened by
# one python3 call into status.txt: "task partition state attempts
# records_in records_out records_rejected" per instance, "-" for null.
# (python3 starts slowly on a busy machine: the helpers below use it once.)
dag_status() {
	dag-cli status "$@" --dags "$DAGS" --json >status.json || return 1
	python3 - <<'PY'
import json
doc = json.load(open("status.json"))
with open("status.txt", "w") as f:
    for i in doc["instances"]:
        f.write(" ".join("-" if i[k] is None else str(i[k]) for k in
                         ("task", "partition", "state", "attempts", "records_in",
                          "records_out", "records_rejected")) + "\n")
PY
}

# all_done DAG FROM TO: every instance of DAG from FROM to TO is done.
all_done() {
	dag_status "$1" --from "$2" --to "$3" &&
	states_other_than done >not-done &&
	test_cmp /dev/null not-done
}

# backfill_all DAG FROM TO: backfill DAG over FROM .. TO (-j 2), which
# must leave every instance done.
backfill_all() {
	dag backfill "$1" --dags "$DAGS" --from "$2" --to "$3" -j 2 &&
	all_done "$@"
}

# count_truth DB ROWS NAME_DATE KEY: the count of ROWS ("table WHERE
# ...") in DB is the ground truth KEY of NAME_DATE.
count_truth() {
	sql_truth "$1" "SELECT count(*) FROM $2" "$3" "$4"
}

# instance_field TASK PARTITION FIELD: one field of an instance in status.txt.
instance_field() {
	awk -v t="$1" -v p="$2" -v f="$3" '
		BEGIN { split("task partition state attempts records_in records_out records_rejected", n, " ")
			for (i in n) col[n[i]] = i }
		$1 == t && $2 == p { print $col[f]; found = 1 }
		END { if (!found) { print "no instance " t " " p > "/dev/stderr"; exit 1 } }' status.txt
}

# field_truth TASK PARTITION FIELD NAME_DATE KEY: the instance's FIELD in
# status.txt is the ground truth KEY of NAME_DATE.
field_truth() {
	truth "$4" "$5" >want &&
	instance_field "$1" "$2" "$3" >got &&
	test_cmp want got
}

# states_other_than STATE: instances of status.txt not in STATE, one a line.
states_other_than() {
	awk -v s="$1" '$3 != s { print $1, $2, $3 }' status.txt
}

# csv_records FILE: data records of a CSV (gzip or not), header excluded.
# The generated data has no line breaks inside fields, so a record is a line.
csv_records() {
	echo $(( $(gzip -dcf "$1" | wc -l) - 1 ))
}

# csv_header FILE: the header record of a CSV (gzip or not), as written.
csv_header() {
	gzip -dcf "$1" | sed -n "1{s/^\xef\xbb\xbf//;s/\r\$//;p;q}"
}

# reject_lines FILE: the line numbers a rejects file holds, sorted, one a line.
reject_lines() {
	sqlite3 -batch -noheader :memory: -cmd ".import --csv $1 r" \
		"SELECT line FROM r ORDER BY CAST(line AS INTEGER)"
}

# sql DB QUERY: one query through the sqlite3 shell into the file out.sql.
sql() {
	sqlite3 -batch -noheader "$1" "$2" >out.sql
}

# sql_truth DB QUERY NAME_DATE KEY: QUERY's answer is the ground truth KEY
# of NAME_DATE.
sql_truth() {
	sql "$1" "$2" &&
	truth "$3" "$4" >want &&
	test_cmp want out.sql
}
