#!/bin/sh
test_description='targets: two instances that would write one target are a definition error, named at validate and plan time'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	dag_yaml dst hourly America/New_York 2026-10-30 <<-\EOF &&
	params:
	  root: data
	tasks:
	  snap:
	    kind: command
	    run: "echo {partition} > {target}"
	    target: "{root}/snap/{date}/{hour}.txt"
	EOF
	sed -e "s|{date}/{hour}.txt|{partition}.txt|" dst.yaml >dst-ok.yaml &&
	daily_dag daily <<-\EOF &&
	tasks:
	  latest:
	    kind: command
	    run: "date > {target}"
	    target: "out/latest.txt"
	EOF
	daily_dag two <<-\EOF
	tasks:
	  a:
	    kind: command
	    run: "echo a > {target}"
	    target: "out/{date}.txt"
	  b:
	    kind: command
	    needs: [a]
	    run: "echo b > {target}"
	    target: "out/{date}.txt"
	EOF
'

test_expect_success 'an hourly target without {partition} on the fall-back day' '
	test_expect_code 2 dag-cli validate dst.yaml 2>err &&
	test_grep "^dst.yaml:11:13: task .snap. at 2026-11-01T01 and task .snap. at 2026-11-01T01b would write the same target .data/snap/2026-11-01/01.txt." err &&
	test_grep "put {partition} in the target" err
'

test_expect_success 'the same DAG with {partition} is valid and runs all 25 hours' '
	dag-cli validate dst-ok.yaml &&
	dag-cli run dst-ok.yaml --date 2026-11-01 -j 2 &&
	ls data/snap >files &&
	test_line_count() { test $(wc -l <"$2") "$1" "$3"; } &&
	test_line_count = files 25 &&
	echo 2026-11-01T01b >expect &&
	test_cmp expect data/snap/2026-11-01T01b.txt
'

test_expect_success 'plan and backfill refuse the colliding DAG, nothing is written' '
	test_expect_code 2 dag-cli plan dst.yaml --date 2026-11-01 >out 2>err &&
	test_grep "would write the same target" err &&
	test_expect_code 2 dag-cli backfill dst.yaml --from 2026-11-01 --to 2026-11-02 2>err &&
	test_grep "01b would write the same target" err &&
	test ! -d data/snap/2026-11-01
'

test_expect_success 'a daily target without the date' '
	test_expect_code 2 dag-cli validate daily.yaml 2>err &&
	test_grep "task .latest. at 2026-01-01 and task .latest. at 2026-01-02 would write the same target .out/latest.txt." err
'

test_expect_success 'two tasks with one path' '
	test_expect_code 2 dag-cli validate two.yaml 2>err &&
	test_grep "^two.yaml:14:13: task .a. at 2026-01-01 and task .b. at 2026-01-01 would write the same target .out/2026-01-01.txt.: give each task its own target" err &&
	test $(grep -c "would write" err) = 1
'

test_expect_success 'a collision only a long range reaches: plan and backfill name each pair once, a range short of it passes' '
	daily_dag yearly <<-\EOF &&
	tasks:
	  a:
	    kind: command
	    run: "echo {date} >{target}"
	    target: "years/{date:%m-%d}"
	  b:
	    kind: command
	    run: "echo {date} >{target}"
	    target: "years/b-{date:%m-%d}/"
	EOF
	dag-cli validate yearly.yaml &&
	dag-cli plan yearly.yaml --from 2026-01-01 --to 2026-12-31 >plan.out &&
	test_expect_code 2 dag-cli plan yearly.yaml --from 2026-01-01 --to 2027-01-02 >plan.out 2>err &&
	cat >expect <<-\EOF &&
	yearly.yaml:9:13: task '"'"'a'"'"' at 2026-01-01 and task '"'"'a'"'"' at 2027-01-01 would write the same target '"'"'years/01-01'"'"': put {partition} in the target so each partition has its own
	yearly.yaml:13:13: task '"'"'b'"'"' at 2026-01-01 and task '"'"'b'"'"' at 2027-01-01 would write the same target '"'"'years/b-01-01'"'"': put {partition} in the target so each partition has its own
	EOF
	test_cmp expect err &&
	test_expect_code 2 dag-cli backfill yearly.yaml --from 2026-01-01 --to 2027-01-01 2>err &&
	test_cmp expect err &&
	test ! -d years
'

test_done
