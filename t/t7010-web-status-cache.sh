#!/bin/sh
test_description='web: the status of a range is reused between requests, and never outlives a change'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-web.sh"

# Each answer built from the history the server keeps is checked against
# the database (a difference goes to serve.err: web_stop fails).
DAG_WEB_CHECK_HISTORY=1
export DAG_WEB_CHECK_HISTORY

web_need curl "curl is needed (scripts/deps installs it)"

# metric NAME: its value in the server's /metrics.
metric() {
	curl -sS "$(web_url)/metrics" | sed -n "s/^$1 //p"
}

# grid_states: the first task's column of the grid, as "count state ...".
grid_states() {
	curl -sS "$(web_url)/api/dags/c/grid" | python3 -c '
import json, sys
g = json.load(sys.stdin)
col = g["cells"][0]
print(" ".join("%d %s" % (col[i], g["states"][col[i + 1]])
	for i in range(0, len(col), 2)))'
}

test_expect_success 'setup: three days, two made' '
	mkdir dags &&
	daily_dag dags/c <<-\EOF &&
	tasks:
	  a:
	    kind: command
	    run: "echo {date} >{target}"
	    target: "out/{date}.txt"
	EOF
	dag-cli backfill c --from 2026-01-01 --to 2026-01-02 >/dev/null &&
	web_start
'

test_expect_success 'the same grid twice in a row: the second is reused' '
	grid_states >first &&
	echo "2 done" >expect &&
	test_cmp expect first &&
	# Reuse lasts five seconds: on a machine too loaded for two requests
	# in that time, try again a few times.
	n=0 &&
	while :; do
		r0=$(metric dag_web_status_reused_total) &&
		grid_states >second &&
		test_cmp expect second &&
		r1=$(metric dag_web_status_reused_total) &&
		test "$r1" -gt "$r0" && break
		n=$((n + 1)) &&
		test $n -lt 5 || return 1
	done
'

test_expect_success 'a run that commits is seen by the very next request' '
	grid_states >/dev/null &&
	dag-cli run c --date 2026-01-03 >/dev/null &&
	grid_states >got &&
	echo "3 done" >expect &&
	test_cmp expect got
'

test_expect_success 'a target deleted by hand is seen within the reuse bound' '
	grid_states >/dev/null &&
	rm out/2026-01-02.txt &&
	n=0 &&
	while test "$(grid_states)" != "1 done 1 missing 1 done"; do
		n=$((n + 1)) &&
		test $n -lt 300 &&
		sleep 0.1 || return 1
	done
'

test_expect_success 'stop' '
	web_stop
'

test_done
