# t/lib-scheduler.sh: starting, waiting for and stopping `dag-cli scheduler`
# in tests.  Sourced after t/lib.sh.

# A scheduler a failed step left running is killed when the script ends.
trap 'test -f "$TRASH/sched.pids" && kill -9 $(cat "$TRASH/sched.pids") 2>/dev/null' EXIT

# start_scheduler NOW [ARGS...]: start it in the background with its clock
# at NOW (ISO 8601), logging to sched.log; its pid goes to sched.pid.
start_scheduler() {
	now=$1
	shift
	DAG_NOW=$now dag-cli scheduler --state st/state.db "$@" \
		>>sched.log 2>&1 &
	echo $! >sched.pid
	echo $! >>"$TRASH/sched.pids"
}

# wait_for CMD [SECONDS]: poll CMD; fail (showing the scheduler's log)
# after SECONDS (90: a loaded machine).
wait_for() {
	poll "$1" "${2:-90}" || { cat sched.log; return 1; }
}

# wait_log PATTERN [SECONDS]: wait until the log has a line matching it.
wait_log() {
	wait_for "grep -q -e \"$1\" sched.log" "$2"
}

# stop_scheduler: SIGTERM, and wait until it has exited; its exit status
# must be 0 (it drained).  Started by an earlier step (another subshell),
# it is not our child: then wait until it is gone and has said it drained.
stop_scheduler() {
	pid=$(cat sched.pid) &&
	kill -TERM "$pid" &&
	{ wait "$pid" 2>/dev/null; st=$?; } &&
	if test $st = 127; then
		wait_for "! kill -0 $pid" &&
		wait_log "drained; exiting"
	else
		return $st
	fi
}

# run_scheduler NOW PATTERN...: the scheduler at NOW on dags/, until its
# log has a line matching each PATTERN in turn; then stopped (it drained).
run_scheduler() {
	start_scheduler "$1" --dags dags || return 1
	shift
	for pattern in "$@"; do
		wait_log "$pattern" || return 1
	done
	stop_scheduler
}

# kill9_scheduler: SIGKILL, as a crash would.
kill9_scheduler() {
	pid=$(cat sched.pid) &&
	kill -KILL "$pid" &&
	{ wait "$pid" || true; }
}

# schedule_rows: the schedule table, one "dag partition state tries" a line.
schedule_rows() {
	sqlite3 st/state.db "SELECT dag, partition, state, tries FROM schedule \
		ORDER BY dag, due" | tr '|' ' '
}
