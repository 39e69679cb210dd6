#!/bin/sh
test_description='-j is capped; a state database locked too long ends a run with exit 4, naming who holds it'
. "$(dirname "$0")/lib.sh"

# A holder left behind by a failed step is let go when the script ends.
trap 'touch "$TRASH/release"' EXIT

test_expect_success 'setup: one task, the first day held by a gate' '
	daily_dag lk <<-\EOF
	tasks:
	  a:
	    kind: command
	    run: "echo {date} >> started.log; n=0; while test {date} = 2026-01-01 && ! test -e gate && test $n -lt 1200; do sleep 0.05; n=$((n+1)); done; echo a > {target}"
	    target: "data/a/{date}"
	EOF
'

test_expect_success '-j past 4096 is a usage error that says the limit' '
	test_expect_code 2 dag-cli run lk.yaml --date 2026-01-02 -j 99999999999 2>err &&
	echo "dag-cli run: -j allows at most 4096 instances at once, not '\''99999999999'\''" >expect &&
	test_cmp expect err &&
	test_expect_code 2 dag-cli backfill lk.yaml --from 2026-01-02 --to 2026-01-03 -j 4097 2>err &&
	test_grep "at most 4096" err &&
	test_expect_code 2 dag-cli scheduler --jobs 99999999999 2>err &&
	test_grep "at most 4096" err &&
	test ! -e data
'

test_expect_success '-j 4096 runs' '
	dag-cli run lk.yaml --date 2026-01-02 -j 4096 >out &&
	test_grep "1 ran, 1 done, 0 failed" out
'

# hold_lock: another process takes the state database's write lock and
# keeps it until the file "release" appears.
hold_lock() {
	rm -f release
	{
		# The poll below takes the lock for a moment too: wait it out.
		echo ".timeout 30000"
		echo "BEGIN IMMEDIATE; DELETE FROM leases WHERE run_id = -1;"
		while ! test -e release; do sleep 0.05; done
		echo "COMMIT;"
	} | sqlite3 .dag-state/state.db &
	poll "! sqlite3 .dag-state/state.db \"BEGIN IMMEDIATE\""
}

test_expect_success 'a lock held at the start: exit 4 after DAG_STATE_TIMEOUT, naming the holder' '
	hold_lock &&
	test_expect_code 4 env DAG_STATE_TIMEOUT=1 dag-cli run lk.yaml --date 2026-01-03 >out 2>err
	st=$?
	touch release &&
	wait &&
	cat err &&
	test $st = 0 &&
	test_grep "locked by pid [0-9]* (sqlite3) for more than 1 s (DAG_STATE_TIMEOUT)" err &&
	test ! -e data/a/2026-01-03
'

test_expect_success 'with the lock gone the same run goes through' '
	DAG_STATE_TIMEOUT=1 dag-cli run lk.yaml --date 2026-01-03 >out &&
	test_grep "1 ran, 1 done, 0 failed" out
'

test_expect_success 'a lock taken during a run: exit 4 once it has waited, the target kept' '
	DAG_STATE_TIMEOUT=1 dag-cli run lk.yaml --date 2026-01-01 >out 2>err &
	p=$! &&
	poll "grep -q 2026-01-01 started.log" &&
	hold_lock &&
	: >gate &&
	{ wait $p; st=$?; } &&
	touch release &&
	wait &&
	cat out err &&
	test $st = 4 &&
	test_grep "locked by pid [0-9]* (sqlite3) for more than 1 s" err &&
	test -f data/a/2026-01-01
'

test_done
