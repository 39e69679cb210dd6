#!/bin/sh
test_description='whatever a command started dies with its instance: after a timeout, with the run (SIGTERM), when its shell exits, and when a run takes over the lease of a run killed with -9'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-kill.sh"

# A program that starts, waits until a second one has started, then loads:
# the side log gets one "loaded" line per load.  The first one left behind
# by a killed run would load as soon as the rerun starts the second.  Its
# pid is in the side log so a test can ask whether it still runs.
test_expect_success 'setup' '
	cat >load.sh <<-\EOF &&
	#!/bin/sh
	echo "started $$" >>side
	while [ "$(grep -c started side)" -lt 2 ]; do sleep 0.05; done
	echo "loaded $$" >>side
	echo "$1"
	EOF
	chmod +x load.sh &&
	daily_dag load <<-\EOF
	tasks:
	  l:
	    kind: command
	    run: "./load.sh {date} > {target}"
	    target: "data/{date}"
	EOF
'

test_expect_success 'kill -9 of the run, then a rerun: the program loads once' '
	backfill_until load "grep -q started side" &&
	orphan=$(sed -n "s/^started //p" side) &&
	sqlite3 .dag-state/state.db "SELECT pgid FROM leases" >lease &&
	ps -o pgid= -p $orphan | tr -d " " >expect &&
	test_cmp expect lease &&
	kill -9 $(real_pid $pid) &&
	{ wait $pid; test $? = 137; } &&
	dag-cli backfill load.yaml --from 2026-01-01 --to 2026-01-01 >out2 2>&1 &&
	test_grep "1 ran, 1 done, 0 failed" out2 &&
	poll "gone $orphan" &&
	grep -c "^loaded" side >n &&
	echo 1 >expect &&
	test_cmp expect n &&
	echo 2026-01-01 >expect &&
	test_cmp expect data/2026-01-01
'

# Without the fix a program of the killed run would wait for ever.
test_expect_success 'cleanup: no program of this test still runs' '
	for p in $(sed -n "s/^started //p" side); do
		kill -9 $p 2>/dev/null
	done
	true
'

test_expect_success 'a background grandchild does not outlive its command' '
	daily_dag bg <<-\EOF &&
	tasks:
	  b:
	    kind: command
	    run: "sh -c '\''echo $$ >bg.pid; exec sleep 300'\'' & while [ ! -s bg.pid ]; do sleep 0.05; done; echo x > {target}"
	    target: "bg/{date}"
	EOF
	dag-cli backfill bg.yaml --from 2026-01-01 --to 2026-01-01 >bg.out 2>&1 &&
	bgpid=$(cat bg.pid) &&
	test -n "$bgpid" &&
	poll "gone $bgpid" || { kill -9 $bgpid; false; }
'

test_expect_success 'a grandchild that ignores SIGTERM dies when its command times out' '
	daily_dag to <<-\EOF &&
	tasks:
	  t:
	    kind: command
	    timeout: 1s
	    run: "sh -c '\''trap \"\" TERM; echo $$ >to.pid; while :; do sleep 1; done'\'' & wait; echo x >{target}"
	    target: "to/{date}"
	EOF
	test_must_fail dag-cli backfill to.yaml --from 2026-01-01 --to 2026-01-01 >to.out 2>&1 &&
	sqlite3 .dag-state/state.db "SELECT state FROM attempts WHERE dag = '\''to'\''" >st &&
	echo timeout >expect &&
	test_cmp expect st &&
	topid=$(cat to.pid) &&
	test -n "$topid" &&
	poll "gone $topid" || { kill -9 $topid; false; }
'

test_done
