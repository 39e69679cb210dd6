#!/bin/sh
test_description='two backfills over the same range never run one instance twice'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: every run appends a line to a shared file' '
	daily_dag twice <<-\EOF
	tasks:
	  a:
	    kind: command
	    run: "echo {task} {date} >> ran.log; sleep 0.02; echo a > {target}"
	    target: "data/a/{date}"
	  b:
	    kind: command
	    needs: [a]
	    run: "echo {task} {date} >> ran.log; sleep 0.02; echo b > {target}"
	    target: "data/b/{date}"
	  c:
	    kind: command
	    needs: [{task: c, offset: -1d}]
	    run: "echo {task} {date} >> ran.log; echo c > {target}"
	    target: "data/c/{date}"
	EOF
'

test_expect_success 'two concurrent backfills, one forwards, one in reverse' '
	dag-cli backfill twice.yaml --from 2026-01-01 --to 2026-01-20 -j 2 >out1 2>&1 &
	p1=$!
	dag-cli backfill twice.yaml --from 2026-01-01 --to 2026-01-20 -j 2 --reverse >out2 2>&1 &
	p2=$!
	wait $p1 && wait $p2 &&
	test_grep "0 failed" out1 &&
	test_grep "0 failed" out2
'

test_expect_success 'each instance ran exactly once' '
	sort ran.log | uniq -d >dups &&
	test_cmp /dev/null dups &&
	test "$(wc -l <ran.log)" = 60 &&
	test "$(ls data/a data/b data/c | grep -c 2026)" = 60
'

test_expect_success 'the history names both runs and no instance twice' '
	sqlite3 .dag-state/state.db "SELECT count(DISTINCT run_id), count(*) FROM attempts WHERE state = '\''done'\''" >n &&
	echo "2|60" >expect &&
	test_cmp expect n &&
	sqlite3 .dag-state/state.db "SELECT sum(attempts), count(*) FROM instances WHERE state = '\''done'\''" >n &&
	echo "60|60" >expect &&
	test_cmp expect n
'

test_done
