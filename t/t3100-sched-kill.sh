#!/bin/sh
test_description='a scheduler killed with -9 mid-backfill leaves no partial target; a rerun finishes; SIGTERM/SIGINT stop children and exit 143/130'
. "$(dirname "$0")/lib.sh"

# The shell may fork once more for a background job: signals go to the
# dag-cli process itself, found as the child of $!.
real_pid() {
	c=$(pgrep -x -P "$1" dag-cli)
	echo "${c:-$1}"
}

# Each target is written in two steps with a pause between them: a target
# published half-written would hold only the first line.
test_expect_success 'setup' '
	daily_dag slow <<-\EOF
	tasks:
	  a:
	    kind: command
	    run: "echo first > {target}; sleep 0.05; echo second >> {target}"
	    target: "data/a/{date}"
	  b:
	    kind: command
	    needs: [a]
	    run: "cat {needs.a.target} > {target}; sleep 0.05; echo b >> {target}"
	    target: "data/b/{date}"
	EOF
'

wait_for_targets() {
	i=0
	while [ "$(find data -type f ! -name ".*" 2>/dev/null | wc -l)" -lt "$1" ]; do
		i=$((i + 1))
		[ $i -lt 400 ] || return 1
		sleep 0.05
	done
}

test_expect_success 'kill -9 in the middle of a backfill' '
	(dag-cli backfill slow.yaml --from 2026-01-01 --to 2026-01-30 -j 2 >out1 2>&1) &
	pid=$! &&
	wait_for_targets 6 &&
	kill -9 $(real_pid $pid) &&
	{ wait $pid; test $? = 137; } &&
	n=$(find data -type f ! -name ".*" | wc -l) &&
	test "$n" -lt 60
'

test_expect_success 'no target that exists is partial' '
	for f in data/a/*; do
		printf "first\nsecond\n" | cmp -s - "$f" || { echo "partial $f"; return 1; }
	done
'

test_expect_success 'the rerun takes over the dead leases and finishes' '
	sleep 0.2 &&
	dag-cli backfill slow.yaml --from 2026-01-01 --to 2026-01-30 -j 2 >out2 &&
	test_grep "0 failed" out2 &&
	test "$(ls data/a | wc -l)" = 30 &&
	test "$(ls data/b | wc -l)" = 30 &&
	printf "first\nsecond\nb\n" >expect &&
	for f in data/b/*; do test_cmp expect "$f" || return 1; done &&
	for f in data/a/*; do
		printf "first\nsecond\n" | cmp -s - "$f" || return 1
	done
'

test_expect_success 'no temporary files are left behind' '
	find data -name ".*" >tmps &&
	test_cmp /dev/null tmps
'

test_expect_success 'every instance is done in status' '
	dag-cli status slow.yaml --from 2026-01-01 --to 2026-01-30 --json >st &&
	test "$(grep -c "\"state\": \"done\"" st)" = 60
'

test_expect_success 'setup: a task that runs long' '
	daily_dag long <<-\EOF
	tasks:
	  l:
	    kind: command
	    run: "echo {date} >> started; sleep 30; echo x > {target}"
	    target: "long/{date}"
	EOF
'

test_expect_success 'SIGTERM stops the children, records them interrupted, exits 143' '
	(dag-cli backfill long.yaml --from 2026-01-01 --to 2026-01-05 -j 2 >out 2>&1) &
	pid=$! &&
	i=0 && while [ "$(cat started 2>/dev/null | wc -l)" -lt 2 ]; do
		i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05
	done &&
	kill -TERM $(real_pid $pid) &&
	{ wait $pid; rc=$?; test $rc = 143 || { echo "exit $rc"; return 1; }; } &&
	test_grep "long: 2 ran, 0 done, 0 failed, 0 upstream failed, 0 waiting, 0 blocked, interrupted" out &&
	ls -A long >ls && test_cmp /dev/null ls &&
	dag-cli status long.yaml --from 2026-01-01 --to 2026-01-05 --json >st &&
	test "$(grep -c "\"state\": \"missing\"" st)" = 5 &&
	sqlite3 .dag-state/state.db "SELECT count(*) FROM attempts WHERE dag = '\''long'\'' AND state = '\''interrupted'\''" >n &&
	echo 2 >expect &&
	test_cmp expect n
'

test_expect_success 'setup: nothing started yet' '
	rm -f started
'

test_expect_success 'SIGINT exits 130' '
	(dag-cli backfill long.yaml --from 2026-01-01 --to 2026-01-05 -j 1 >out 2>&1) &
	pid=$! &&
	i=0 && while [ ! -s started ]; do
		i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05
	done &&
	kill -INT $(real_pid $pid) &&
	{ wait $pid; test $? = 130; }
'

test_done
