#!/bin/sh
# bench/workers.sh [N...]: what running a built-in instance adds to its
# own work.  For each kind below, a daily DAG of one task runs over N
# dates (100, 1000 and 10000 when none are given) with `backfill -j 1`
# from an empty state, and one Python process does the same work with the
# same fsyncs and one kept connection (bench/workers_baseline.py):
#   sql        an sql task running SELECT 1 (a transaction and its marker)
#   fact-load  a fact-load of a 20-row CSV file per date
#   dim-load   a dimension-load (scd1) of the same file: 20 keys updated
#   archive    an archive (copy) of the same file
#   clean      a clean of the same file (trim and lower a column)
#
# Each side has a fixed start (Python's own is 0.4 to 1.1 s here), so a
# run of BASE dates (10 by default) is made too, and what an instance
# costs at N is the marginal cost (t(N) - t(BASE)) / (N - BASE); "added"
# is dag-cli's marginal cost minus Python's.  Flat means the added cost
# at 100, 1,000 and 10,000 agrees.  Every size runs REPS times (3 by
# default; three times as many below 1,000 instances, where a run is
# short and noise large), interleaved and alternating which side goes
# first; the table gives the median of each run time and the costs from
# those medians, and the added cost from the best (shortest) runs too.
# Every run's time is in build/bench-out/workers/runs.txt, the load
# average at the start of each kind in loads.txt.
# Nothing is deleted while timing: on this ext4 (no journal), creating a
# file scans past every inode freed in its group in the last 30 s or so,
# so the previous run's files are moved aside and deleted at the end.
#
# HOW="workers py local" adds DAG_EXECUTOR=local (a fork per instance);
# "before" in HOW or HOURLY_HOW runs $BEFORE_CLI (another build, with the
# workers) and, for hourly_facts, the DAG in $BEFORE_DAGS.  KINDS picks
# kinds.  With HOURLY=1 it also backfills dags/hourly_facts.yaml over
# HOURLY_DAYS days (30 by default; 365 is a year, 35,040 instances) of
# generated input, -j 2 (HOURLY_HOW: workers and local by default).
# Ratios within one run only: nothing here is asserted.  Prints Markdown
# tables; work files go to build/bench-out/workers.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dag_cli=${DAG_CLI:-$top/build/normal/dag-cli}
work=$top/build/bench-out/workers
[ -x "$dag_cli" ] || { echo "bench/workers.sh: build dag-cli first ($dag_cli)" >&2; exit 2; }
[ $# -gt 0 ] || set -- 100 1000 10000
how=${HOW:-workers py}
kinds=${KINDS:-sql fact-load dim-load archive clean}
base=${BASE:-10}
reps=${REPS:-3}

old=
if [ -e "$work" ]; then
	old=$work.old-$$
	mv "$work" "$old"
fi
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

# The inputs: one 20-row file per date, for the largest N.
max=$base
for n in "$@"; do
	[ "$n" -gt "$base" ] || { echo "bench/workers.sh: N must be over BASE ($base)" >&2; exit 2; }
	[ "$n" -le "$max" ] || max=$n
done
in=$work/in
mkdir -p "$in"
python3 - "$in" "$max" <<-'EOF'
	import datetime, sys
	d, n = sys.argv[1], int(sys.argv[2])
	for i in range(n):
	    day = (datetime.date(2000, 1, 1) + datetime.timedelta(days=i)).isoformat()
	    with open("%s/%s.csv" % (d, day), "w") as f:
	        f.write("id,n,name\n")
	        for k in range(20):
	            f.write("%d,%d, Name%d \n" % (k, i * 20 + k, k))
	EOF

# one KIND N HOW REP: time one run into runs.txt.
one() {
	d=$work/$1-$2-$3-$4
	mkdir -p "$d/in"
	case $3 in
	workers|local|before)
		last=$(date -u -d "2000-01-01 + $(($2 - 1)) days" +%Y-%m-%d)
		{ printf 'dag: b\nschedule: daily\ntimezone: UTC\nstart: 2000-01-01\ntasks:\n'; task "$1" "$in"; } >"$d/b.yaml"
		s=$(secs "$d" env DAG_EXECUTOR=$(executor $3) "$(cli $3)" backfill b.yaml --from 2000-01-01 --to "$last" -j 1) ;;
	py)
		rmdir "$d/in"
		ln -s "$in" "$d/in"
		s=$(secs "$d" python3 "$top/bench/workers_baseline.py" "$1" . "$2") ;;
	esac
	echo "$1 $2 $3 $4 $s" >>"$work/runs.txt"
}

rev=
for h in $how; do rev="$h $rev"; done
for kind in $kinds; do
	echo "$kind: load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$work/loads.txt"
	r=1
	while [ $r -le $((3 * reps)) ]; do
		order=$how
		[ $((r % 2)) = 1 ] || order=$rev
		for n in $base "$@"; do
			[ "$n" -lt 1000 ] || [ $r -le "$reps" ] || continue
			for h in $order; do
				one "$kind" "$n" "$h" "$r"
			done
		done
		r=$((r + 1))
	done
done

python3 - "$work/runs.txt" "$base" "$how" "$kinds" "$@" <<-'EOF'
	import statistics, sys
	runs, base, hows, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
	sizes = [int(n) for n in sys.argv[5:]]
	t = {}
	for line in open(runs):
	    kind, n, how, rep, s = line.split()
	    t.setdefault((kind, int(n), how), []).append(float(s))
	med = {k: statistics.median(v) for k, v in t.items()}
	best = {k: min(v) for k, v in t.items()}
	both = "workers" in hows and "py" in hows
	print()
	print("Medians of %s runs; ms/inst: (t(N) - t(%d)) / (N - %d)." %
	      (", ".join("%d at %d" % (len(t[(kinds[0], n, hows[0])]), n)
	                 for n in [base] + sizes), base, base))
	print()
	print("| kind | instances | " + " | ".join("%s s" % h for h in hows) + " | " +
	      " | ".join("%s ms/inst" % h for h in hows) +
	      (" | added ms/inst | added, best runs |" if both else " |"))
	print("|---|---:|" + "---:|" * (2 * len(hows)) + ("---:|---:|" if both else ""))
	for kind in kinds:
	    for n in sizes:
	        m = {h: (med[(kind, n, h)] - med[(kind, base, h)]) / (n - base) * 1000 for h in hows}
	        row = ["%s" % kind, "%d" % n] + ["%.3f" % med[(kind, n, h)] for h in hows] + \
	              ["%.3f" % m[h] for h in hows]
	        if both:
	            b = {h: (best[(kind, n, h)] - best[(kind, base, h)]) / (n - base) * 1000
	                 for h in ("workers", "py")}
	            row.append("**%+.3f**" % (m["workers"] - m["py"]))
	            row.append("%+.3f" % (b["workers"] - b["py"]))
	        print("| " + " | ".join(row) + " |")
	print()
	print("| kind | " + " | ".join("%s s at %d" % (h, base) for h in hows) + " |")
	print("|---|" + "---:|" * len(hows))
	for kind in kinds:
	    print("| %s | " % kind + " | ".join("%.3f" % med[(kind, base, h)] for h in hows) + " |")
	EOF
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

# What the previous run left, deleted once nothing is timed.
[ -z "$old" ] || rm -rf "$old"
