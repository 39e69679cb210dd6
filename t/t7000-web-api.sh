#!/bin/sh
test_description='web: serve, the JSON API against status --json, logs in ranges, the SVG graph, writes behind the token'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-web.sh"

# Each answer built from the history the server keeps is checked against
# the database (a difference goes to serve.err: web_stop fails).
DAG_WEB_CHECK_HISTORY=1
export DAG_WEB_CHECK_HISTORY

test_expect_success 'setup: a daily chain with a failure, an hourly DAG over a DST change' '
	mkdir dags &&
	cat >dags/chain.yaml <<-\EOF &&
	dag: chain
	description: three steps
	schedule: daily
	timezone: UTC
	start: 2026-01-01
	tasks:
	  extract:
	    kind: command
	    run: "echo extracting {date}; seq 1 2000 >{target}"
	    target: "out/e/{date}.txt"
	  transform:
	    kind: command
	    needs: [extract]
	    run: "if test {date} = 2026-01-05; then echo broken input >&2; exit 3; fi; cp {needs.extract.target} {target}"
	    target: "out/t/{date}.txt"
	  load:
	    kind: command
	    needs: [transform]
	    run: "cp {needs.transform.target} {target}"
	    target: "out/l/{date}.txt"
	EOF
	dag_yaml dags/hours hourly America/New_York 2026-03-07 <<-\EOF &&
	tasks:
	  tick:
	    kind: command
	    run: "test {partition} != 2026-03-08T05 && echo {partition} >{target}"
	    target: "out/h/{partition}.txt"
	EOF
	test_expect_code 1 dag-cli backfill chain --from 2026-01-01 --to 2026-01-10 -j2 >/dev/null 2>&1 &&
	test_expect_code 1 dag-cli backfill hours --from 2026-03-07 --to 2026-03-09 -j2 >/dev/null 2>&1
'

test_expect_success 'serve starts on a free loopback port and lists the DAGs' '
	web_start &&
	get /api/dags && code_is 200 &&
	grep "\"name\":\"chain\"" body &&
	grep "\"latest\":\"2026-01-10\"" body &&
	grep "\"latest_states\":{\"done\":3}" body &&
	grep "\"name\":\"hours\"" body
'

test_expect_success 'the grid holds exactly the states of status --json' '
	grid_is_status chain &&
	grep "transform 2026-01-05 failed" grid.txt &&
	grep "load 2026-01-05 upstream_failed" grid.txt
'

test_expect_success 'the grid sends runs, not cells' '
	get /api/dags/chain/grid &&
	grep "\"partitions\":\[\[\"2026-01-01\",10\]\]" body &&
	grep "\"cells\":\[\[10,0\],\[4,0,1,1,5,0\],\[4,0,1,5,5,0\]\]" body
'

test_expect_success 'the grid over a DST change matches status --json, hour by hour' '
	grid_is_status hours &&
	test $(wc -l <grid.txt) = 71 &&
	grep "tick 2026-03-08T05 failed" grid.txt
'

test_expect_success 'the grid pages by partition and takes a range' '
	get "/api/dags/chain/grid?offset=3&limit=4" && code_is 200 &&
	grep "\"total\":10,\"offset\":3,\"count\":4" body &&
	grep "\"partitions\":\[\[\"2026-01-04\",4\]\]" body &&
	python3 "$FLAT" grid body >page.txt &&
	dag-cli status chain --from 2026-01-04 --to 2026-01-07 --json >st.json &&
	python3 "$FLAT" status st.json >st.txt &&
	test_cmp st.txt page.txt &&
	get "/api/dags/chain/grid?from=2026-01-09&to=2026-01-10" &&
	grep "\"total\":2" body &&
	get "/api/dags/chain/grid?from=2026-01-09" && code_is 400 &&
	get "/api/dags/chain/grid?from=junk&to=junk" && code_is 400 &&
	get "/api/dags/chain/grid?offset=-1" && code_is 400
'

test_expect_success 'the status endpoint is status --json, paged' '
	dag-cli status chain --json >status.json &&
	get /api/dags/chain/status && code_is 200 &&
	python3 - body status.json <<-\EOF &&
	import json, sys
	api, cli = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
	assert api["dag"] == cli["dag"] and api["total"] == 30
	for a, c in zip(api["instances"], cli["instances"]):
	    for k in c:
	        if k == "duration_s" and c[k] is not None:
	            assert abs(a[k] - c[k]) < 1e-3, (a, c)
	        else:
	            assert a[k] == c[k], (k, a, c)
	assert len(api["instances"]) == len(cli["instances"])
	EOF
	get "/api/dags/chain/status?offset=28&limit=5" &&
	python3 -c "import json,sys; d=json.load(open(\"body\")); assert [i[\"task\"] for i in d[\"instances\"]] == [\"transform\", \"load\"], d"
'

test_expect_success 'an instance shows every attempt with exit status, RSS and error' '
	get "/api/dags/chain/instance?task=transform&partition=2026-01-05" &&
	code_is 200 &&
	python3 - <<-\EOF
	import json
	d = json.load(open("body"))
	assert d["state"] == "failed", d
	a = d["attempts"]
	assert len(a) == 1 and a[0]["attempt"] == 1, a
	assert a[0]["exit_code"] == 3 and a[0]["signal"] is None, a
	assert a[0]["max_rss_kb"] > 0 and a[0]["started_ms"] > 0, a
	assert "exit status 3" in a[0]["error"], a
	EOF
'

test_expect_success 'a log comes in byte ranges' '
	dag-cli logs chain extract --date 2026-01-03 >whole &&
	get "/api/dags/chain/log?task=extract&partition=2026-01-03&attempt=1" &&
	code_is 200 && test_cmp whole body &&
	size=$(wc -c <whole) &&
	grep -i "^X-Log-Size: $size" headers &&
	get "/api/dags/chain/log?task=extract&partition=2026-01-03&attempt=1&offset=5&limit=4" &&
	dd if=whole bs=1 skip=5 count=4 2>/dev/null >expect &&
	test_cmp expect body &&
	grep -i "^Content-Range: bytes 5-8/$size" headers &&
	get "/api/dags/chain/log?task=extract&partition=2026-01-03&attempt=1&offset=99999" &&
	code_is 200 && test ! -s body &&
	get "/api/dags/chain/log?task=transform&partition=2026-01-05&attempt=1" &&
	grep "broken input" body &&
	get "/api/dags/chain/log?task=extract&partition=2026-01-03&attempt=2" &&
	code_is 404
'

test_expect_success 'the graph is SVG with each node coloured and marked by its state' '
	get "/api/dags/chain/graph.svg?partition=2026-01-05" && code_is 200 &&
	grep -i "^Content-Type: image/svg+xml" headers &&
	python3 - <<-\EOF
	import xml.etree.ElementTree as ET
	ns = {"s": "http://www.w3.org/2000/svg"}
	root = ET.parse("body").getroot()
	want = {"extract": ("#009e73", "\u2713 done"),
	        "transform": ("#d55e00", "\u2717 failed"),
	        "load": ("#e69f00", "\u21e1 upstream_failed")}
	for g in root.iter("{http://www.w3.org/2000/svg}g"):
	    if g.get("id", "").startswith("task-"):
	        task = g.get("id")[5:]
	        fill = g.find("s:path", ns).get("fill")
	        texts = [t.text for t in g.findall("s:text", ns)]
	        assert (fill, texts[-1]) == want.pop(task), (task, fill, texts)
	assert not want, want
	EOF
'

test_expect_success 'graph --format svg draws the same picture' '
	dag-cli graph chain --format svg --date 2026-01-05 >cli.svg &&
	get "/api/dags/chain/graph.svg?partition=2026-01-05" &&
	test_cmp cli.svg body &&
	test_must_fail dag-cli graph chain --format png 2>err &&
	grep "unknown format .png." err
'

test_expect_success 'progress shows the last run with its final counts' '
	get /api/dags/chain/progress && code_is 200 &&
	python3 - <<-\EOF
	import json
	r = json.load(open("body"))["runs"]
	assert len(r) == 1 and not r[0]["running"] and r[0]["status"] == 1, r
	assert (r[0]["done"], r[0]["failed"], r[0]["upstream_failed"], r[0]["left"]) == (28, 1, 1, 0), r
	EOF
'

test_expect_success 'progress of a --days-back run: the dates it resolved when it started' '
	dag-cli backfill chain --days-back 1 >/dev/null 2>&1 &&
	get /api/dags/chain/progress && code_is 200 &&
	python3 - <<-\EOF
	import datetime, json
	r = json.load(open("body"))["runs"][0]
	today = datetime.datetime.now(datetime.timezone.utc).date()
	assert "--days-back" in r["args"], r
	assert r["to"] == str(today), r
	assert r["from"] == str(today - datetime.timedelta(days=1)), r
	assert (r["done"], r["left"]) == (6, 0), r
	EOF
'

test_expect_success 'the definition, and unknown names, as JSON' '
	get /api/dags/chain && code_is 200 &&
	dag-cli graph chain --format json >def.json &&
	python3 -c "import json; assert json.load(open(\"body\")) == json.load(open(\"def.json\"))" &&
	get /api/dags/nope/grid && code_is 404 &&
	get /api/dags/chain/nope && code_is 404 &&
	get "/api/dags/chain/instance?task=nope&partition=2026-01-01" && code_is 404 &&
	get "/api/nope" && code_is 404
'

test_expect_success 'the UI is served from the binary' '
	get / && code_is 200 && grep "<script src=\"/app.js\">" body &&
	get /app.js && code_is 200 && cmp body "$SRC_DIR/web/app.js" &&
	get /style.css && code_is 200 &&
	get /nope.html && code_is 404
'

test_expect_success 'without a token, writes are refused' '
	get "/api/dags/chain/clear?task=extract&date=2026-01-02" -X POST &&
	code_is 403 && grep "token-file" body &&
	test -e out/e/2026-01-02.txt &&
	web_stop
'

test_expect_success 'a non-loopback listen address needs a token' '
	test_expect_code 2 dag-cli serve --listen 0.0.0.0:0 2>err &&
	grep "without a token" err &&
	test_expect_code 2 dag-cli serve --listen nowhere:80 2>err &&
	grep "HOST:PORT" err &&
	echo short >tok &&
	test_expect_code 2 dag-cli serve --token-file tok 2>err &&
	grep "too short" err
'

test_expect_success 'with the token, clear and run work through POST' '
	echo "s3cret-token-0123456789" >tok &&
	web_start --token-file tok &&
	get "/api/dags/chain/clear?task=load&date=2026-01-02" -X POST &&
	code_is 403 &&
	get "/api/dags/chain/clear?task=load&date=2026-01-02" -X POST -H "X-Dag-Token: wrong-token-0123456789" &&
	code_is 403 &&
	test -e out/l/2026-01-02.txt &&
	get "/api/dags/chain/clear?task=load&date=2026-01-02" -X POST -H "X-Dag-Token: s3cret-token-0123456789" &&
	code_is 200 && grep "removed 1 target" body &&
	test ! -e out/l/2026-01-02.txt &&
	get "/api/dags/chain/grid?from=2026-01-02&to=2026-01-02" &&
	grep "\"cells\":\[\[1,0\],\[1,0\],\[1,2\]\]" body &&
	get "/api/dags/chain/run?date=2026-01-02" -X POST -H "X-Dag-Token: s3cret-token-0123456789" &&
	code_is 202 &&
	i=0 && while ! test -e out/l/2026-01-02.txt && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
	test -e out/l/2026-01-02.txt &&
	get /api/dags/chain/grid -X GET && code_is 200 &&
	web_stop
'

test_done
