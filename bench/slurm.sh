#!/bin/sh
# bench/slurm.sh [N]: the Slurm executor's throughput on the private
# one-node cluster of scripts/slurm-local (started here when none runs,
# and then stopped at the end), in instances per second:
#   floor     one `sbatch --wrap` per command, submitted in a loop, until
#             every output exists and no job is left: what a shell script
#             around Slurm gets
#   dag-cli   `backfill --executor slurm` of the same N commands (a daily
#             DAG of one command task over N dates), at -j 1000 and -j 32
#   local     the same backfill on the local executor (-j 2), for scale
# Figures go to stdout and to bench/SLURM.md.  Work files: build/bench-out/slurm.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
dag_cli=${DAG_CLI:-$top/build/normal/dag-cli}
work=$top/build/bench-out/slurm
[ -x "$dag_cli" ] || { echo "bench/slurm.sh: build dag-cli first ($dag_cli)" >&2; exit 2; }

started=
if ! "$top/scripts/slurm-local" status 2>/dev/null; then
	"$top/scripts/slurm-local" start || { echo "bench/slurm.sh: no Slurm cluster" >&2; exit 2; }
	started=1
fi
trap '[ -n "$started" ] && "$top/scripts/slurm-local" stop' EXIT
eval "$("$top/scripts/slurm-local" env)"

rm -rf "$work"
mkdir -p "$work"
cd "$work"
first=2020-01-01
last=$(date -u -d "$first + $((n - 1)) days" +%Y-%m-%d)
cat >bench.yaml <<EOF
dag: bench
schedule: daily
start: $first
tasks:
  echo:
    kind: command
    target: out/{date}
    run: echo {date} >{target}
EOF

now() { date +%s.%N; }
rate() { python3 -c "import sys; n, t = int(sys.argv[1]), float(sys.argv[2]); print('%.2f s  %.1f instances/s' % (t, n / t))" "$@"; }
secs() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$@"; }

# The floor: one sbatch --wrap per command, then wait for all.
mkdir -p floor
t0=$(now)
d=$first
i=0
while [ $i -lt "$n" ]; do
	sbatch --quiet -J benchfloor -o /dev/null --wrap "echo $d >$work/floor/$d"
	d=$(date -u -d "$d + 1 day" +%Y-%m-%d)
	i=$((i + 1))
done
until [ "$(ls floor | wc -l)" -ge "$n" ] && [ -z "$(squeue -h -n benchfloor -t PD,R,CG -o %A)" ]; do
	sleep 0.2
done
t_floor=$(secs "$t0" "$(now)")
echo "floor: $(rate "$n" "$t_floor")" >&2

run_dag() {
	rm -rf out .dag-state
	t0=$(now)
	"$dag_cli" backfill bench.yaml --from "$first" --to "$last" "$@" >/dev/null
	t=$(secs "$t0" "$(now)")
	[ "$(ls out | wc -l)" -eq "$n" ] || { echo "bench/slurm.sh: a run left targets missing" >&2; exit 1; }
	echo "$t"
}
t_arr=$(run_dag --executor slurm -j 1000)
t_32=$(run_dag --executor slurm -j 32)
t_local=$(run_dag -j 2)

cpus=$(sinfo -h -o %c | head -n 1)
{
	echo "# The Slurm executor: $n trivial instances"
	echo
	echo "One-node Slurm of scripts/slurm-local ($cpus advertised CPUs, $(nproc) real),"
	echo "$(date -u +%Y-%m-%d), \`bench/slurm.sh $n\`."
	echo
	echo "| what | time | throughput |"
	echo "|---|---|---|"
	echo "| floor: $n x \`sbatch --wrap\`, then wait | $(rate "$n" "$t_floor" | sed 's/  / | /') |"
	echo "| \`backfill --executor slurm -j 1000\` | $(rate "$n" "$t_arr" | sed 's/  / | /') |"
	echo "| \`backfill --executor slurm -j 32\` | $(rate "$n" "$t_32" | sed 's/  / | /') |"
	echo "| \`backfill -j 2\` (local executor) | $(rate "$n" "$t_local" | sed 's/  / | /') |"
} | tee "$top/bench/SLURM.md"
