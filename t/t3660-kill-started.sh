#!/bin/sh
test_description='a start is one commit: once a command runs, its lease, attempt and process group are in the state; a kill -9 then loses no attempt and publishes nothing'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-kill.sh"

# The command says it started, then waits for a file the test never
# writes: the run is killed while it runs.
test_expect_success 'setup' '
	daily_dag hang <<-\EOF
	tasks:
	  h:
	    kind: command
	    run: "echo partial > {target}; echo started $$ >>side; while [ ! -e go ]; do sleep 0.05; done; echo {date} >> {target}"
	    target: "data/{date}"
	EOF
'

test_expect_success 'kill -9 while the command runs: what the state holds' '
	backfill_until hang "grep -q started side" &&
	sh=$(sed -n "s/^started //p" side) &&
	sqlite3 .dag-state/state.db "SELECT task, partition, pgid FROM leases;
		SELECT state, attempts FROM instances" >state &&
	cat >expect <<-EOF &&
	h|2026-01-01|$(ps -o pgid= -p $sh | tr -d " ")
	running|1
	EOF
	test_cmp expect state &&
	kill -9 $(real_pid $pid) &&
	{ wait $pid; test $? = 137; } &&
	poll "gone $sh" &&
	test ! -e data/2026-01-01
'

test_expect_success 'the rerun records the killed attempt and keeps its log' '
	touch go &&
	dag-cli backfill hang.yaml --from 2026-01-01 --to 2026-01-01 >out2 2>&1 &&
	test_grep "1 ran, 1 done, 0 failed" out2 &&
	printf "partial\n2026-01-01\n" >expect &&
	test_cmp expect data/2026-01-01 &&
	sqlite3 .dag-state/state.db "SELECT attempt, state FROM attempts
		ORDER BY attempt" >attempts &&
	printf "1|interrupted\n2|done\n" >expect &&
	test_cmp expect attempts &&
	test_grep "h 2026-01-01 attempt 1 started" .dag-state/logs/hang/h/2026-01-01.1.log &&
	test_grep "h 2026-01-01 attempt 2 done" .dag-state/logs/hang/h/2026-01-01.2.log
'

test_done
