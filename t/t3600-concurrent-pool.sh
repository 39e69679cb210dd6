#!/bin/sh
test_description='two concurrent backfills through a pool of one: an instance leased by the other run never stops the pool, and a run that ends early says what it did not do'
. "$(dirname "$0")/lib.sh"

# The first day's a waits for the file "gate", the second day's for
# "gate2" (60 s at most), so the test decides when they end; every a says
# when it starts in started.log.
test_expect_success 'setup: a pooled task, one day of it held by a gate' '
	daily_dag pl <<-\EOF
	pools:
	  w: 1
	tasks:
	  a:
	    kind: command
	    pool: w
	    run: "echo {date} >> started.log; n=0; g=; case {date} in 2026-01-01) g=gate;; 2026-01-02) g=gate2;; esac; while test x$g != x && ! test -e $g && test $n -lt 1200; do sleep 0.05; n=$((n+1)); done; echo a > {target}"
	    target: "data/a/{date}"
	  b:
	    kind: command
	    needs: [a]
	    run: "echo b > {target}"
	    target: "data/b/{date}"
	EOF
'

# The short run holds the second day while the long run reaches it: the
# long run must go on with the third to twentieth days meanwhile, then
# count the second as done when the short run has made it.
test_expect_success 'the long run goes on past a day the short run holds' '
	dag-cli backfill pl.yaml --from 2026-01-01 --to 2026-01-20 -j 2 >out1 2>&1 &
	p1=$! &&
	poll "grep -q 2026-01-01 started.log" &&
	dag-cli backfill pl.yaml --from 2026-01-01 --to 2026-01-02 -j 2 >out2 2>&1 &
	p2=$! &&
	poll "grep -q 2026-01-02 started.log" &&
	: >gate &&
	poll "grep -q 2026-01-20 started.log"
	ok=$?
	: >gate2 &&
	{ wait $p1; s1=$?; } &&
	{ wait $p2; s2=$?; } &&
	cat out1 out2 &&
	test $ok = 0 &&
	test $s1 = 0 &&
	test $s2 = 0 &&
	test_grep "pl: 38 ran, 40 done, 0 failed" out1 &&
	test_grep "pl: 2 ran, 4 done, 0 failed" out2 &&
	! grep "not run" out1
'

test_expect_success 'every day was made, each instance once' '
	test "$(ls data/a | wc -l)" = 20 &&
	test "$(ls data/b | wc -l)" = 20 &&
	sort started.log | uniq -d >dups &&
	test_cmp /dev/null dups &&
	test "$(wc -l <started.log)" = 20
'

test_expect_success 'a run stopped early names what it did not run, and why' '
	rm -rf data started.log gate
	dag-cli backfill pl.yaml --from 2026-01-01 --to 2026-01-05 -j 2 >out3 2>&1 &
	p=$! &&
	poll "grep -q 2026-01-01 started.log" &&
	kill -TERM $p &&
	{ wait $p; s=$?; } &&
	cat out3 &&
	test $s = 143 &&
	test_grep "not run: a 2026-01-05: the run was interrupted" out3 &&
	test_grep "not run: b 2026-01-05: the run was interrupted" out3 &&
	test_grep "interrupted\$" out3
'

test_done
