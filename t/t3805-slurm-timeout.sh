#!/bin/sh
test_description='the Slurm executor: a task overrunning its timeout is stopped and recorded as timed out'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-slurm.sh"

# Slurm's own limit (--time) counts whole minutes, so only the executor can
# end this job after 3 s.  Like the local executor, it stops the command
# with SIGTERM (signal 15 recorded); a job ended by Slurm's --time records
# no signal.
test_expect_success 'a job over its timeout is killed, recorded as timeout and retried' '
	cat >t3805a.yaml <<-EOF &&
	dag: t3805a
	schedule: daily
	start: 2026-03-01
	tasks:
	  slow:
	    kind: command
	    timeout: 3s
	    retries: 1
	    retry_delay: 10ms
	    target: o/slow/{date}
	    run: "echo started; echo \$\$ >>$TRASH/pids; exec sleep 300"
	EOF
	test_expect_code 1 dag-cli run t3805a.yaml --date 2026-03-01 \
		--executor slurm >run.out 2>run.err &&
	sqlite3 .dag-state/state.db "SELECT task, attempt, state, signal, error \
		FROM attempts ORDER BY attempt" >got &&
	cat >expect <<-\EOF &&
	slow|1|timeout|15|timed out after 3000 ms
	slow|2|timeout|15|timed out after 3000 ms
	EOF
	test_cmp expect got &&
	test "$(wc -l <pids)" = 2 &&
	for p in $(cat pids); do
		wait_for eval "! kill -0 $p 2>/dev/null" || return 1
	done &&
	slurm_wait_gone t3805a.slow &&
	test ! -e o/slow/2026-03-01 &&
	dag-cli logs t3805a.yaml slow --date 2026-03-01 >log &&
	test_grep "attempt 2: timed out after 3000 ms" log
'

test_done
