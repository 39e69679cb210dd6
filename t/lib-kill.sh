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

# poll CMD: run CMD every 0.05 s until it succeeds; fail after 30 s.
poll() {
	n=600
	while ! eval "$1" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "timed out waiting for: $1"; return 1; }
		sleep 0.05
	done
}

# gone PID: the process has ended (a zombie waiting for its reaper counts).
gone() {
	! kill -0 "$1" 2>/dev/null ||
	[ "$(sed 's/.*) //; s/ .*//' /proc/"$1"/stat 2>/dev/null)" = Z ]
}
