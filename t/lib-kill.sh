# t/lib-kill.sh: placing a kill in tests by polling for the state that
# exposes it, never by sleeping.  Sourced after t/lib.sh.

# real_pid PID: the dag-cli process itself, when PID is a subshell that
# started it (the shell may fork once more for a background job, or exec
# it: then PID is dag-cli, and its children named dag-cli are workers).
real_pid() {
	if [ "$(cat /proc/"$1"/comm 2>/dev/null)" = dag-cli ]; then
		echo "$1"
		return
	fi
	c=$(pgrep -x -P "$1" dag-cli)
	echo "${c:-$1}"
}

# backfill_until DAG CONDITION: backfill DAG.yaml for 2026-01-01 in the
# background (its pid in pid, its output in out1) and poll until
# CONDITION holds.
backfill_until() {
	(dag-cli backfill "$1.yaml" --from 2026-01-01 --to 2026-01-01 >out1 2>&1) &
	pid=$! &&
	poll "$2"
}

# gone PID: the process has ended (a zombie waiting for its reaper counts).
gone() {
	! kill -0 "$1" 2>/dev/null ||
	[ "$(sed 's/.*) //; s/ .*//' /proc/"$1"/stat 2>/dev/null)" = Z ]
}

# split_dag: split.yaml, a daily DAG whose one task s splits in.csv by its
# column key into the directory target k/DATE/ (many files to kill amid).
split_dag() {
	daily_dag split <<-\EOF
	tasks:
	  s:
	    kind: by-key
	    input: in.csv
	    key: key
	    output: "k/{date}/"
	EOF
}
