#!/bin/sh
test_description='web: dag-cli metrics and /metrics in the Prometheus text format, checked by promtool'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-web.sh"

web_need promtool "promtool not installed (Debian package prometheus; scripts/deps installs it)"

test_expect_success 'setup: a backfill with a clean step that rejects, and a failure' '
	mkdir dags in &&
	for d in 01 02 03; do
		printf "id,n\n1,a\n2,b\n3,c\n\"4,d\n5,e\n" >in/2026-02-$d.csv || return 1
	done &&
	daily_dag dags/m 2026-02-01 <<-\EOF &&
	tasks:
	  tidy:
	    kind: clean
	    input: "in/{date}.csv"
	    output: "out/{date}.csv"
	    max_reject_ratio: 0.5
	    rules:
	      - trim: n
	  report:
	    kind: command
	    needs: [tidy]
	    run: "test {date} != 2026-02-03 && wc -l <{needs.tidy.target} >{target}"
	    target: "out/{date}.count"
	EOF
	test_expect_code 1 dag-cli backfill m --from 2026-02-01 --to 2026-02-03 -j2 >/dev/null 2>&1
'

test_expect_success 'dag-cli metrics passes promtool and counts what happened' '
	dag-cli metrics m >metrics.txt &&
	promtool check metrics <metrics.txt &&
	grep "^dag_attempts_total{dag=\"m\",task=\"report\",outcome=\"failed\"} 1$" metrics.txt &&
	grep "^dag_attempts_total{dag=\"m\",task=\"report\",outcome=\"done\"} 2$" metrics.txt &&
	grep "^dag_attempts_total{dag=\"m\",task=\"tidy\",outcome=\"done\"} 3$" metrics.txt &&
	grep "^dag_task_duration_seconds_count{dag=\"m\",task=\"tidy\"} 3$" metrics.txt &&
	grep "^dag_instances{dag=\"m\",task=\"report\",state=\"failed\"} 1$" metrics.txt &&
	grep "^dag_instances{dag=\"m\",task=\"tidy\",state=\"done\"} 3$" metrics.txt &&
	grep "^dag_last_success_unixtime{dag=\"m\",task=\"tidy\"} [1-9]" metrics.txt
'

test_expect_success 'records by outcome add up the attempts'"'"' counts' '
	dag-cli status m --json >st.json &&
	python3 - <<-\EOF
	import json, re
	st = json.load(open("st.json"))["instances"]
	want = {k: sum(i["records_" + k] or 0 for i in st if i["task"] == "tidy")
	        for k in ("in", "out", "rejected")}
	got = {}
	for line in open("metrics.txt"):
	    m = re.match(r"dag_records_total\{dag=\"m\",task=\"tidy\",outcome=\"(\w+)\"\} (\d+)", line)
	    if m:
	        got[m.group(1)] = int(m.group(2))
	assert got == want and want["rejected"] > 0, (got, want)
	EOF
'

test_expect_success 'labels are only dag, task and state or outcome: no series per partition' '
	sed -n "s/^[a-z_]*{\([^}]*\)}.*/\1/p" metrics.txt |
		sed "s/=\"[^\"]*\"//g" | sort -u >labels &&
	cat >expect <<-\EOF &&
	dag,task
	dag,task,le
	dag,task,outcome
	dag,task,state
	EOF
	test_cmp expect labels &&
	! grep 2026 metrics.txt
'

test_expect_success '/metrics serves the same, plus the server'"'"'s own counters' '
	web_start &&
	get /api/dags &&
	get /metrics && code_is 200 &&
	grep -i "^Content-Type: text/plain; version=0.0.4" headers &&
	promtool check metrics <body &&
	grep "^dag_web_requests_total [1-9]" body &&
	grep -v "^dag_web_\|^# [A-Z]* dag_web_" body >served &&
	test_cmp metrics.txt served &&
	web_stop
'

test_expect_success 'a DAG with no history yet still has every series, at zero' '
	mkdir -p fresh &&
	dag-cli metrics m --state fresh/state.db >fresh.txt &&
	promtool check metrics <fresh.txt &&
	grep "^dag_attempts_total{dag=\"m\",task=\"tidy\",outcome=\"done\"} 0$" fresh.txt
'

test_done
