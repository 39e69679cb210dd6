#!/bin/sh
# bench/workers.sh [N...]: what running a built-in instance adds to its
# own work.  For each kind below, a daily DAG of one task runs over N
# dates (100, 1000 and 10000 when none are given) with `backfill -j 1`
# from an empty state, and one Python process does the same work with the
# same fsyncs and one kept connection (bench/workers_baseline.py), back to
# back:
#   sql        an sql task running SELECT 1 (a transaction and its marker)
#   fact-load  a fact-load of a 20-row CSV file per date
#   dim-load   a dimension-load (scd1) of the same file: 20 keys updated
#   archive    an archive (copy) of the same file
#   clean      a clean of the same file (trim and lower a column)
# HOW="workers py local" adds DAG_EXECUTOR=local (a fork per instance);
# "before" in HOW or HOURLY_HOW runs $BEFORE_CLI (another build, with the
# workers) and, for hourly_facts, the DAG in $BEFORE_DAGS.
# With HOURLY=1 it also backfills dags/hourly_facts.yaml over HOURLY_DAYS
# days (30 by default; 365 is a year, 35,040 instances) of generated
# input, -j 2 (HOURLY_HOW: workers and local by default).
# One run, ratios only: nothing here is asserted.  Prints a Markdown
# table; work files go to build/bench-out/workers.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dag_cli=${DAG_CLI:-$top/build/normal/dag-cli}
work=$top/build/bench-out/workers
[ -x "$dag_cli" ] || { echo "bench/workers.sh: build dag-cli first ($dag_cli)" >&2; exit 2; }
[ $# -gt 0 ] || set -- 100 1000 10000
how=${HOW:-workers py}
kinds=${KINDS:-sql fact-load dim-load archive clean}

rm -rf "$work"
mkdir -p "$work"

# secs DIR CMD...: run CMD in DIR (output discarded); its wall seconds.
secs() {
	d=$1
	shift
	t0=$(date +%s%N)
	(cd "$d" && "$@" >/dev/null 2>&1) || { echo "bench/workers.sh: failed in $d: $*" >&2; exit 1; }
	t1=$(date +%s%N)
	echo "$t0 $t1" | awk '{ printf "%.3f", ($2 - $1) / 1e9 }'
}

# cli HOW, executor HOW: the binary and DAG_EXECUTOR of a way to run.
cli() {
	if [ "$1" = before ]; then echo "${BEFORE_CLI:?BEFORE_CLI: the build to compare}"; else echo "$dag_cli"; fi
}
executor() {
	if [ "$1" = local ]; then echo local; else echo workers; fi
}

# task KIND IN: the task of KIND's scenario, reading IN/{date}.csv.
task() {
	case $1 in
	sql) cat <<-EOF
	  t:
	    kind: sql
	    database: wh.db
	    table: marks
	    sql: "SELECT 1"
	EOF
	;;
	fact-load) cat <<-EOF
	  t:
	    kind: fact-load
	    input: "$2/{date}.csv"
	    database: wh.db
	    table: facts
	    partition_column: day
	EOF
	;;
	dim-load) cat <<-EOF
	  t:
	    kind: dimension-load
	    input: "$2/{date}.csv"
	    database: wh.db
	    table: dim
	    natural_key: id
	    surrogate_key: sk
	    columns: {id: integer, n: integer, name: text}
	    history: scd1
	EOF
	;;
	archive) cat <<-EOF
	  t:
	    kind: archive
	    source: "$2/{date}.csv"
	    target: "arch/{date}.csv"
	EOF
	;;
	clean) cat <<-EOF
	  t:
	    kind: clean
	    input: "$2/{date}.csv"
	    output: "out/{date}.csv"
	    rules:
	      - trim: name
	      - lower: name
	EOF
	;;
	esac
}

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| kind | instances | how | seconds | ms per instance |"
echo "|---|---:|---|---:|---:|"
for n in "$@"; do
	last=$(date -u -d "2000-01-01 + $((n - 1)) days" +%Y-%m-%d)
	in=$work/in-$n
	mkdir -p "$in"
	python3 - "$in" "$n" <<-'EOF'
	import datetime, sys
	d, n = sys.argv[1], int(sys.argv[2])
	for i in range(n):
	    day = (datetime.date(2000, 1, 1) + datetime.timedelta(days=i)).isoformat()
	    with open("%s/%s.csv" % (d, day), "w") as f:
	        f.write("id,n,name\n")
	        for k in range(20):
	            f.write("%d,%d, Name%d \n" % (k, i * 20 + k, k))
	EOF
	for kind in $kinds; do
		for h in $how; do
			d=$work/$kind-$n-$h
			mkdir -p "$d/in"
			case $h in
			workers|local|before)
				{ printf 'dag: b\nschedule: daily\ntimezone: UTC\nstart: 2000-01-01\ntasks:\n'; task "$kind" "$in"; } >"$d/b.yaml"
				s=$(secs "$d" env DAG_EXECUTOR=$(executor $h) "$(cli $h)" backfill b.yaml --from 2000-01-01 --to "$last" -j 1) ;;
			py)
				rmdir "$d/in"
				ln -s "$in" "$d/in"
				s=$(secs "$d" python3 "$top/bench/workers_baseline.py" "$kind" . "$n") ;;
			esac
			echo "$kind $n $s" | awk -v how="$h" '{ printf "| %s | %d | %s | %.3f | %.3f |\n", $1, $2, how, $3, $3 / $2 * 1000 }'
		done
	done
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${HOURLY:-}" = 1 ]; then
	days=${HOURLY_DAYS:-30}
	to=$(date -u -d "2026-01-01 + $((days - 1)) days" +%Y-%m-%d)
	d=$work/hourly
	mkdir -p "$d"
	"$top/scripts/gen-data" hourly --out "$d/data" --from 2026-01-01 --days "$days" -q
	echo
	echo "| DAG | instances | how | seconds | ms per instance |"
	echo "|---|---:|---|---:|---:|"
	for h in ${HOURLY_HOW:-workers local}; do
		rm -rf "$d/data/facts.db"* "$d/.dag-state"
		dags=$top/dags
		[ $h != before ] || dags=${BEFORE_DAGS:-$dags}
		s=$(secs "$d" env DAG_EXECUTOR=$(executor $h) "$(cli $h)" backfill hourly_facts --dags "$dags" --from 2026-01-01 --to "$to" -j 2)
		echo "$days $s" | awk -v how="$h" '{ n = $1 * 24 * 4; printf "| hourly_facts, %d days | %d | %s (-j 2) | %.3f | %.3f |\n", $1, n, how, $2, $2 / n * 1000 }'
	done
	echo
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
