#!/bin/sh
test_description='run and backfill end with a summary that explains: reasons, root inputs, a capped list, time and records'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a failing command, a chain behind an external input' '
	daily_dag f <<-\EOF &&
	tasks:
	  bad:
	    kind: command
	    run: "echo working; echo \"grep: lines-{date}.csv: no such file\" >&2; exit 4"
	    target: "bad/{date}"
	  after:
	    kind: command
	    needs: [bad]
	    run: "echo x > {target}"
	    target: "after/{date}"
	EOF
	daily_dag w <<-\EOF
	tasks:
	  lines_arrived:
	    kind: external-check
	    target: "in/{date}.csv"
	  copy:
	    kind: command
	    needs: [lines_arrived]
	    run: "cp {needs.lines_arrived.target} {target}"
	    target: "copy/{date}.csv"
	  total:
	    kind: command
	    needs: [copy, {task: total, offset: -1d}]
	    run: "cat {needs.copy.target} > {target}"
	    target: "total/{date}.csv"
	EOF
'

test_expect_success 'each failure ends the summary with its reason, the last line it wrote' '
	run_summary 1 run f.yaml --date 2026-01-02 <<-\EOF
	failed: bad 2026-01-02 (attempt 1): exit status 4: grep: lines-2026-01-02.csv: no such file
	  log: .dag-state/logs/f/bad/2026-01-02.1.log, 1 upstream failed behind it
	f: 1 ran, 0 done, 1 failed, 1 upstream failed, 0 waiting, 0 blocked
	EOF
'

test_expect_success 'the list is capped: and N more' '
	test_expect_code 1 dag-cli backfill f.yaml --from 2026-01-01 --to 2026-01-15 >out &&
	test "$(grep -c "^failed: bad " out)" = 10 &&
	test_grep "^  and 5 more failed, 5 upstream failed behind them$" out &&
	test_grep "^f: 15 ran, 0 done, 15 failed, 15 upstream failed, 0 waiting, 0 blocked$" out
'

test_expect_success 'blocked instances are counted under the input they wait for' '
	mkdir in &&
	for d in 01 02 03 05 06 07 08 09 10
	do
		echo "$d" >in/2026-01-$d.csv || return 1
	done &&
	run_summary 3 backfill w.yaml --from 2026-01-01 --to 2026-01-10 <<-EOF
	8 blocked: lines_arrived 2026-01-04 missing: $PWD/in/2026-01-04.csv
	w: 12 ran, 12 done, 0 failed, 0 upstream failed, 1 waiting, 8 blocked
	EOF
'

test_expect_success 'many inputs missing: the list is capped, the blocked counted behind them' '
	sed -e "s/^dag: w/dag: w2/" -e "s/^start: .*/start: 2026-01-11/" w.yaml >w2.yaml &&
	test_expect_code 3 dag-cli backfill w2.yaml --from 2026-01-11 --to 2026-01-25 >out &&
	test "$(grep -c "^2 blocked: lines_arrived " out)" = 10 &&
	test_grep "^2 blocked: lines_arrived 2026-01-11 missing: $PWD/in/2026-01-11.csv$" out &&
	test_grep "^  and 5 more waiting, 10 blocked behind them$" out &&
	test_grep "^w2: 0 ran, 0 done, 0 failed, 0 upstream failed, 15 waiting, 30 blocked$" out
'

test_expect_success 'the input that blocks the most comes first' '
	daily_dag two <<-\EOF &&
	tasks:
	  small_in: {kind: external-check, target: "small/{date}"}
	  big_in: {kind: external-check, target: "big/{date}"}
	  one: {kind: command, needs: [small_in], run: "true", target: "x/one-{date}"}
	  two: {kind: command, needs: [big_in], run: "true", target: "x/two-{date}"}
	  three: {kind: command, needs: [big_in], run: "true", target: "x/three-{date}"}
	  four: {kind: command, needs: [two], run: "true", target: "x/four-{date}"}
	EOF
	run_summary 3 run two.yaml --date 2026-01-01 <<-EOF
	3 blocked: big_in 2026-01-01 missing: $PWD/big/2026-01-01
	1 blocked: small_in 2026-01-01 missing: $PWD/small/2026-01-01
	two: 0 ran, 0 done, 0 failed, 0 upstream failed, 2 waiting, 4 blocked
	EOF
'

test_expect_success 'elapsed time, and the records the attempts reported' '
	printf "a,b\n1,2\n3,4\n5,6\n" >rows.csv &&
	daily_dag c <<-\EOF &&
	tasks:
	  clean:
	    kind: clean
	    input: rows.csv
	    output: "clean/{date}.csv"
	    target: "clean/{date}.csv"
	EOF
	dag-cli backfill c.yaml --from 2026-01-01 --to 2026-01-02 >out &&
	tail -n 1 out >last &&
	test_grep "^elapsed [0-9.]* s, records 6 in, 6 out, 0 rejected$" last &&
	dag-cli run c.yaml --date 2026-01-03 --json >out &&
	test_grep "\"records_in\": 3, \"records_out\": 3, \"records_rejected\": 0, \"elapsed_s\": " out
'

test_expect_success '--json: blocked apart from waiting, each with its cause, each failure with its error' '
	rm -rf .dag-state &&
	test_expect_code 3 dag-cli run w.yaml --date 2026-01-04 --json >out &&
	test_grep "\"waiting\": 1, \"blocked\": 2," out &&
	test_grep "{\"task\": \"total\", \"partition\": \"2026-01-04\", \"state\": \"waiting\", \"attempts\": 0, \"cause\": {\"task\": \"lines_arrived\", \"partition\": \"2026-01-04\"}}" out &&
	test_expect_code 1 dag-cli run f.yaml --date 2026-01-03 --json >out &&
	test_grep "\"error\": \"exit status 4: grep: lines-2026-01-03.csv: no such file\"" out
'

test_done
