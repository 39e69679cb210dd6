#!/bin/sh
# bench/workers.sh [N...]: what running a built-in instance adds to its
# own work, with the workers (the default), with DAG_EXECUTOR=local (a
# fork per instance) and against one Python process doing the same
# SQLite work, at N instances (100 and 1000 when none are given), -j 1:
#   sql        an sql task running SELECT 1 (a transaction and its marker)
#   fact-load  a fact-load of a 20-row CSV file per date
# The Python baselines open and close the database per instance (as a
# forked instance does) and, with "keep", keep one connection (as a
# worker does).  With HOURLY=1 it also backfills dags/hourly_facts.yaml
# over HOURLY_DAYS days (30 by default; 365 is a year, 35,040 instances)
# of generated input, -j 2.
# One run, ratios only: nothing here is asserted.  Prints a Markdown
# table; work files go to build/bench-out/workers.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dag_cli=${DAG_CLI:-$top/build/normal/dag-cli}
work=$top/build/bench-out/workers
[ -x "$dag_cli" ] || { echo "bench/workers.sh: build dag-cli first ($dag_cli)" >&2; exit 2; }
[ $# -gt 0 ] || set -- 100 1000

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

# row SCENARIO N HOW SECONDS
row() {
	echo "$1 $2 $4" | awk -v how="$3" '{ printf "| %s | %d | %s | %.3f | %.2f |\n", $1, $2, how, $3, $3 / $2 * 1000 }'
}

sql_yaml() {
	cat <<-EOF
	dag: builtin
	schedule: daily
	timezone: UTC
	start: 2000-01-01
	tasks:
	  mark:
	    kind: sql
	    database: wh.db
	    table: marks
	    sql: "SELECT 1"
	EOF
}

load_yaml() {
	cat <<-EOF
	dag: facts
	schedule: daily
	timezone: UTC
	start: 2000-01-01
	tasks:
	  load:
	    kind: fact-load
	    input: "$1/{date}.csv"
	    database: wh.db
	    table: facts
	    partition_column: day
	EOF
}

echo "| scenario | instances | how | seconds | ms per instance |"
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
	            f.write("%d,%d,name%d\n" % (k, i * 20 + k, k))
	EOF
	for how in workers local py py-keep; do
		d=$work/sql-$n-$how
		mkdir -p "$d"
		sql_yaml >"$d/builtin.yaml"
		case $how in
		workers) s=$(secs "$d" "$dag_cli" backfill builtin.yaml --from 2000-01-01 --to "$last" -j 1) ;;
		local) s=$(secs "$d" env DAG_EXECUTOR=local "$dag_cli" backfill builtin.yaml --from 2000-01-01 --to "$last" -j 1) ;;
		py) s=$(secs "$d" python3 "$top/bench/baseline_builtin.py" wh.db "$n") ;;
		py-keep) s=$(secs "$d" python3 "$top/bench/baseline_builtin.py" wh.db "$n" keep) ;;
		esac
		row sql "$n" "$how" "$s"
	done
	for how in workers local py py-keep; do
		d=$work/load-$n-$how
		mkdir -p "$d"
		load_yaml "$in" >"$d/facts.yaml"
		case $how in
		workers) s=$(secs "$d" "$dag_cli" backfill facts.yaml --from 2000-01-01 --to "$last" -j 1) ;;
		local) s=$(secs "$d" env DAG_EXECUTOR=local "$dag_cli" backfill facts.yaml --from 2000-01-01 --to "$last" -j 1) ;;
		py) s=$(secs "$d" python3 "$top/bench/baseline_factload.py" wh.db "$in" "$n") ;;
		py-keep) s=$(secs "$d" python3 "$top/bench/baseline_factload.py" wh.db "$in" "$n" keep) ;;
		esac
		row fact-load "$n" "$how" "$s"
	done
done

if [ "${HOURLY:-}" = 1 ]; then
	days=${HOURLY_DAYS:-30}
	to=$(date -u -d "2026-01-01 + $((days - 1)) days" +%Y-%m-%d)
	d=$work/hourly
	mkdir -p "$d"
	"$top/scripts/gen-data" hourly --out "$d/data" --from 2026-01-01 --days "$days" -q
	for how in ${HOURLY_HOW:-workers local}; do
		rm -rf "$d/data/facts.db"* "$d/.dag-state"
		if [ $how = local ]; then
			s=$(secs "$d" env DAG_EXECUTOR=local "$dag_cli" backfill hourly_facts --dags "$top/dags" --from 2026-01-01 --to "$to" -j 2)
		else
			s=$(secs "$d" "$dag_cli" backfill hourly_facts --dags "$top/dags" --from 2026-01-01 --to "$to" -j 2)
		fi
		row "hourly_facts/${days}d" $((days * 24 * 4)) "$how" "$s"
	done
fi
