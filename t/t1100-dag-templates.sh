#!/bin/sh
test_description='templates: params, built-ins, offsets, formats, needs, env, braces'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	dag_yaml tm daily America/New_York 2026-01-01 <<-\EOF
	params:
	  root: data
	  day: "{root}/{date:%Y/%m/%d}"
	  Who: "{env.TM_TEST}"
	tasks:
	  src:
	    kind: command
	    run: "true"
	    target: "{day}/src_{dag}_{task}.csv"
	  a:
	    kind: command
	    needs: [src, {task: a, offset: -1d}]
	    description: "{{kept}} as written"
	    run: "cat {needs.src.target} {needs.a.target} > {target} # awk {{print} {Who}"
	    target: "{root}/a/{date-1d}_{date+1w}_{hour}_{partition}.txt"
	  b:
	    kind: command
	    run: "echo {ts} {partition+6h:%Y%m%d%H} {date:%G-W%V} {partition-1d}"
	  w:
	    kind: command
	    needs: [{task: a, range: [-2d, 0d]}]
	    run: "cat {needs.a.target} > {target}"
	    target: "{root}/w/{date}.txt"
	EOF
'

test_expect_success 'params use params; built-ins and offsets expand' '
	TM_TEST=hello helper dag resolve tm.yaml src 2026-03-08 >out &&
	head -n 1 out >target &&
	echo "target: data/2026/03/08/src_tm_src.csv" >expect &&
	test_cmp expect target
'

test_expect_success 'needs targets, {target}, {{ and env in one command' '
	TM_TEST=hello helper dag resolve tm.yaml a 2026-03-08 >out &&
	cat >expect <<-\EOF &&
	target: data/a/2026-03-07_2026-03-15_00_2026-03-08.txt
	{"kind":"command","needs":["src",{"task":"a","offset":"-1d"}],"description":"{{kept}} as written","run":"cat '\''data/2026/03/08/src_tm_src.csv'\'' '\''data/a/2026-03-06_2026-03-14_00_2026-03-07.txt'\'' > '\''data/a/2026-03-07_2026-03-15_00_2026-03-08.txt'\'' # awk {print} '\''hello'\''","target":"data/a/2026-03-07_2026-03-15_00_2026-03-08.txt"}
	EOF
	test_cmp expect out
'

test_expect_success 'ts, absolute hour offsets across DST, ISO weeks' '
	helper dag resolve tm.yaml b 2026-03-08 >out &&
	test_grep "\"run\":\"echo '\''2026-03-08T00:00:00-05:00'\'' '\''2026030807'\'' '\''2026-W10'\'' '\''2026-03-07'\''\"" out
'

test_expect_success 'a range need lists each partition; before start is skipped' '
	TM_TEST=x helper dag resolve tm.yaml w 2026-01-02 >out &&
	test_grep "\"run\":\"cat '\''data/a/2025-12-31_2026-01-08_00_2026-01-01.txt'\'' '\''data/a/2026-01-01_2026-01-09_00_2026-01-02.txt'\'' > '\''data/w/2026-01-02.txt'\''\"" out
'

test_expect_success 'an unset environment variable fails the instance, not the load' '
	test_must_fail helper dag resolve tm.yaml a 2026-03-08 >out &&
	echo "error: environment variable '\''TM_TEST'\'' is not set (used by task '\''a'\'')" >expect &&
	test_cmp expect out
'

test_expect_success 'an hourly DAG: {date-1d} is the day before, -1d needs 24 back' '
	dag_yaml h hourly Europe/Berlin 2026-10-20 <<-\EOF &&
	tasks:
	  a: {kind: command, run: "true", target: "out/{partition}.txt"}
	  b:
	    kind: command
	    needs: [{task: a, offset: -1d}]
	    run: "cp {needs.a.target} {target} # {date-1d} {hour}"
	    target: "out/b/{date}/{hour}.txt"
	EOF
	helper dag resolve h.yaml b 2026-10-25T02b >out &&
	test_grep "\"run\":\"cp '\''out/2026-10-24T03.txt'\'' '\''out/b/2026-10-25/02.txt'\'' # '\''2026-10-24'\'' '\''02'\''\"" out
'

test_expect_success 'regex fields keep {5} and {2,} literal; others do not' '
	mkdir -p in &&
	cat >k.yaml <<-\EOF &&
	dag: k
	start: 2026-01-01
	tasks:
	  a: {kind: external-check, dir: in, pattern: "^x_\\d{5}_{date:%Y%m%d}[a-z]{2,}$"}
	  b: {kind: command, run: "grep -E [0-9]{5} {date}"}
	EOF
	test_expect_code 2 dag-cli validate k.yaml 2>err &&
	echo "k.yaml:5:41: bad reference '\''{5}'\'' in template; expected {name}, {name+1d}, {name:%Y%m%d} or {name|raw} (write '\''{{'\'' for a literal brace)" >expect &&
	test_cmp expect err &&
	sed "/  b:/d" k.yaml >k2.yaml &&
	helper dag resolve k2.yaml a 2026-01-02 >out &&
	test_grep "\"pattern\":\"^x_\\\\\\\\d{5}_20260102\[a-z\]{2,}\$\"" out
'

test_done
