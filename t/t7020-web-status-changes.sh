#!/bin/sh
test_description='web: a change between two requests shows in the second answer exactly as status --json shows it'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-web.sh"

web_need curl "curl is needed (scripts/deps installs it)"

TOKEN=s3cret-token-0123456789

# The server checks each answer built from the history it keeps against
# one read from the database (a difference goes to serve.err, which
# web_stop requires empty).
DAG_WEB_CHECK_HISTORY=1
export DAG_WEB_CHECK_HISTORY

# metric NAME: its value in the server's /metrics.
metric() {
	curl -sS "$(web_url)/metrics" | sed -n "s/^$1 //p"
}

# same_as_cli: the status endpoint and the grid, asked right now, say for
# every instance what status --json says (every field), and the answer was
# asked for right before the change (a kept one, had nothing changed).
same_as_cli() {
	dag-cli status c --json >cli.json &&
	get /api/dags/c/status && code_is 200 && cp body api.json &&
	get /api/dags/c/grid && code_is 200 && cp body grid.json &&
	python3 - api.json cli.json <<-\EOF &&
	import json, sys
	api, cli = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
	a, c = api["instances"], cli["instances"]
	assert len(a) == len(c), (len(a), len(c))
	for x, y in zip(a, c):
	    assert sorted(x) == sorted(y), (x, y)
	    for k in y:
	        if k == "duration_s" and y[k] is not None:
	            assert abs(x[k] - y[k]) < 1e-3, (x, y)
	        else:
	            assert x[k] == y[k], (k, x, y)
	EOF
	python3 "$FLAT" grid grid.json >grid.txt &&
	python3 "$FLAT" status cli.json >cli.txt &&
	test_cmp cli.txt grid.txt
}

# warm: ask once, so the next request finds an answer kept.
warm() {
	get /api/dags/c/status && code_is 200 &&
	get /api/dags/c/grid && code_is 200
}

# state_of TASK PARTITION: its line "task partition state" in the last
# same_as_cli's answer.
state_of() {
	grep "^$1 $2 " cli.txt
}

test_expect_success 'setup: two days of a three-task chain, one failed' '
	mkdir dags &&
	daily_dag dags/c <<-\EOF &&
	tasks:
	  a:
	    kind: command
	    run: "if test -e hold-{date}; then touch started-{date}; while test -e hold-{date}; do sleep 0.1; done; fi; echo {date} >{target}"
	    target: "out/a/{date}.txt"
	  b:
	    kind: command
	    needs: [a]
	    run: "if test -e broken-{date}; then exit 3; fi; cp {needs.a.target} {target}"
	    target: "out/b/{date}.txt"
	  c:
	    kind: command
	    needs: [b]
	    run: "cp {needs.b.target} {target}"
	    target: "out/c/{date}.txt"
	EOF
	touch broken-2026-01-02 &&
	dag-cli backfill c --from 2026-01-01 --to 2026-01-02 >/dev/null 2>&1;
	echo "$TOKEN" >tok &&
	web_start --token-file tok &&
	same_as_cli &&
	state_of b 2026-01-02 | grep failed &&
	state_of c 2026-01-02 | grep upstream_failed
'

test_expect_success 'an instance that finishes between two requests' '
	rm broken-2026-01-02 &&
	warm &&
	dag-cli run c --date 2026-01-02 >/dev/null &&
	same_as_cli &&
	state_of b 2026-01-02 | grep done &&
	state_of c 2026-01-02 | grep done
'

test_expect_success 'a clear through the API between two requests' '
	warm &&
	get "/api/dags/c/clear?task=b&date=2026-01-01&downstream=1" -X POST \
		-H "X-Dag-Token: $TOKEN" &&
	code_is 200 &&
	same_as_cli &&
	state_of a 2026-01-01 | grep done &&
	state_of b 2026-01-01 | grep missing &&
	state_of c 2026-01-01 | grep missing
'

test_expect_success 'a need made again between two requests: what consumed it is stale' '
	dag-cli run c --date 2026-01-01 >/dev/null &&
	warm &&
	dag-cli run c --date 2026-01-01 --force a >/dev/null &&
	same_as_cli &&
	state_of b 2026-01-01 | grep stale &&
	state_of c 2026-01-01 | grep stale &&
	grep "made again" api.json
'

test_expect_success 'a new run of a new day, seen while it runs and once it is done' '
	warm &&
	touch hold-2026-01-03 || return 1
	dag-cli run c --date 2026-01-03 >run.out 2>&1 &
	pid=$!
	i=0 &&
	while ! test -e started-2026-01-03; do
		i=$((i + 1)) &&
		test $i -lt 600 &&
		sleep 0.1 || return 1
	done &&
	same_as_cli &&
	state_of a 2026-01-03 | grep running &&
	state_of b 2026-01-03 | grep missing &&
	warm &&
	rm hold-2026-01-03 &&
	wait $pid &&
	same_as_cli &&
	state_of c 2026-01-03 | grep done
'

test_expect_success 'the history was read whole once: each change alone after that' '
	test "$(metric dag_web_history_reads_total)" = 1 &&
	test "$(metric dag_web_status_builds_total)" -gt 5
'

test_expect_success 'changes dropped before they were read: the history is read whole again' '
	warm &&
	dag-cli run c --date 2026-01-01 --force c >/dev/null &&
	sqlite3 .dag-state/state.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL
		SELECT i + 1 FROM n WHERE i < 60000) INSERT INTO changes(dag,
		task, partition) SELECT \"other\", \"t\", i FROM n" &&
	same_as_cli &&
	test "$(metric dag_web_history_reads_total)" = 2 &&
	test "$(sqlite3 .dag-state/state.db "SELECT count(*) FROM changes")" -le 60000
'

test_expect_success 'a database without change numbers (an older schema) is read whole each time' '
	web_stop &&
	for t in instances_ins instances_upd instances_del consumed_ins \
		consumed_del; do
		sqlite3 .dag-state/state.db "DROP TRIGGER $t" || return 1
	done &&
	sqlite3 .dag-state/state.db "DROP TABLE changes; PRAGMA user_version = 5" &&
	web_start --token-file tok &&
	same_as_cli &&
	get "/api/dags/c/clear?task=c&date=2026-01-03" -X POST \
		-H "X-Dag-Token: $TOKEN" &&
	same_as_cli &&
	state_of c 2026-01-03 | grep missing &&
	test "$(metric dag_web_history_reads_total)" = 0
'

test_expect_success 'stop' '
	web_stop
'

test_done
