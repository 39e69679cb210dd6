#!/bin/sh
test_description='plan: states and reasons, needs pulled in, summary; graph'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	cat >shop.yaml <<-\EOF &&
	dag: shop
	start: 2026-01-01
	params:
	  root: data
	tasks:
	  orders_in:
	    kind: external-check
	    target: "{root}/in/orders_{date:%Y%m%d}.csv"
	  events_in:
	    kind: external-check
	    dir: "{root}/in"
	    pattern: '\''^events_{date:%Y%m%d}_\d+\.csv$'\''
	    all: true
	  archive:
	    kind: archive
	    needs: [orders_in]
	    source: "{needs.orders_in.target}"
	    target: "{root}/archive/orders_{date}.csv"
	  report:
	    kind: command
	    needs: [archive, events_in, {task: report, offset: -1d}]
	    run: "cat {needs.events_in.files} {needs.archive.target} > {target}"
	    target: "{root}/report/{date}.txt"
	EOF
	mkdir -p data/in data/archive &&
	for f in in/orders_20260101.csv in/orders_20260102.csv \
		in/events_20260101_1.csv in/events_20260101_2.csv \
		in/events_20260102_1.csv archive/orders_2026-01-01.csv; do
		: >data/$f || return 1
	done
'

test_expect_success 'plan prints every instance with its state and reason' '
	dag-cli plan shop.yaml --from 2026-01-01 --to 2026-01-03 >out &&
	cat >expect <<-EOF &&
	plan for shop (daily, UTC): 2026-01-01 .. 2026-01-03, 12 instances requested, 12 in the plan

	2026-01-01  orders_in  done     input found: data/in/orders_20260101.csv
	2026-01-01  events_in  done     input found: data/in/events_20260101_1.csv data/in/events_20260101_2.csv
	2026-01-01  archive    done     complete: data/archive/orders_2026-01-01.csv
	2026-01-01  report     run      target missing: data/report/2026-01-01.txt
	2026-01-02  orders_in  done     input found: data/in/orders_20260102.csv
	2026-01-02  events_in  done     input found: data/in/events_20260102_1.csv
	2026-01-02  archive    run      target missing: data/archive/orders_2026-01-02.csv
	2026-01-02  report     run      target missing: data/report/2026-01-02.txt
	2026-01-03  orders_in  waiting  waiting for an external input: $PWD/data/in/orders_20260103.csv
	2026-01-03  events_in  waiting  waiting for an external input: a file matching '\''^events_20260103_\d+\.csv$'\'' in $PWD/data/in
	2026-01-03  archive    blocked  blocked by a need: orders_in 2026-01-03 (waiting)
	2026-01-03  report     blocked  blocked by a need: archive 2026-01-03 (blocked)

	task          done      run  waiting  blocked
	orders_in        2        0        1        0
	events_in        2        0        1        0
	archive          1        1        0        1
	report           0        2        0        1
	total            5        3        2        2
	EOF
	test_cmp expect out
'

test_expect_success 'needs outside the range are pulled in; complete ones stop the walk' '
	dag-cli plan shop.yaml --date 2026-01-02 >out &&
	cat >expect <<-\EOF &&
	plan for shop (daily, UTC): 2026-01-02 .. 2026-01-02, 4 instances requested, 7 in the plan

	2026-01-01  events_in  done     input found: data/in/events_20260101_1.csv data/in/events_20260101_2.csv (needed from outside the range)
	2026-01-01  archive    done     complete: data/archive/orders_2026-01-01.csv (needed from outside the range)
	2026-01-01  report     run      target missing: data/report/2026-01-01.txt (needed from outside the range)
	2026-01-02  orders_in  done     input found: data/in/orders_20260102.csv
	2026-01-02  events_in  done     input found: data/in/events_20260102_1.csv
	2026-01-02  archive    run      target missing: data/archive/orders_2026-01-02.csv
	2026-01-02  report     run      target missing: data/report/2026-01-02.txt

	task          done      run  waiting  blocked
	orders_in        1        0        0        0
	events_in        2        0        0        0
	archive          1        1        0        0
	report           0        2        0        0
	total            4        3        0        0
	EOF
	test_cmp expect out &&
	mkdir -p data/report && : >data/report/2026-01-01.txt &&
	dag-cli plan shop.yaml --date 2026-01-02 >out &&
	test_grep "4 instances requested, 5 in the plan" out &&
	test_grep "^2026-01-01  report     done     complete: data/report/2026-01-01.txt (needed" out
'

test_expect_success 'a need resolves to the files its check found' '
	helper dag resolve shop.yaml report 2026-01-01 >out &&
	test_grep "\"run\":\"cat '\''data/in/events_20260101_1.csv'\'' '\''data/in/events_20260101_2.csv'\'' '\''data/archive/orders_2026-01-01.csv'\'' > '\''data/report/2026-01-01.txt'\''\"" out
'

test_expect_success 'a field that is only {needs.X.files} becomes the list of files' '
	cat >c.yaml <<-\EOF &&
	dag: c
	start: 2026-01-01
	tasks:
	  events_in:
	    kind: external-check
	    dir: data/in
	    pattern: '\''^events_{date:%Y%m%d}_\d+\.csv$'\''
	    all: true
	  tidy:
	    kind: clean
	    needs: [events_in]
	    input: "{needs.events_in.files}"
	    output: "data/clean/{date}.csv"
	    rules:
	      - trim: name
	EOF
	helper dag resolve c.yaml tidy 2026-01-01 >out &&
	test_grep "\"input\":\[\"data/in/events_20260101_1.csv\",\"data/in/events_20260101_2.csv\"\]" out &&
	test_must_fail helper dag resolve c.yaml tidy 2026-01-03 >out &&
	echo "error: the files of '\''events_in'\'' at 2026-01-03 are not known yet" >expect &&
	test_cmp expect out
'

test_expect_success 'an external check with poll: would poll, so it is not waiting' '
	sed "s/^    all: true/    all: true\n    poll: 5m\n    timeout: 1h/" shop.yaml >poll.yaml &&
	dag-cli plan poll.yaml --date 2026-01-03 >out &&
	test_grep "^2026-01-03  events_in  run      will poll for an external input: a file matching .\^events_20260103_" out &&
	test_grep "^2026-01-03  report     blocked  blocked by a need: archive 2026-01-03 (blocked)" out
'

test_expect_success 'plan --json holds the same, with a summary per task' '
	dag-cli plan shop.yaml --date 2026-01-03 --json >out.json &&
	cat >check.py <<-\EOF &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	print(d["dag"], d["from"], d["to"], len(d["instances"]))
	for i in d["instances"]:
	    if i["requested"]:
	        print(i["task"], i["partition"], i["state"], i["target"], i["reason"])
	for s in d["summary"]:
	    print(s["task"], s["done"], s["run"], s["waiting"], s["blocked"])
	EOF
	python3 check.py out.json >out &&
	cat >expect <<-EOF &&
	shop 2026-01-03 2026-01-03 9
	orders_in 2026-01-03 waiting data/in/orders_20260103.csv waiting for an external input: $PWD/data/in/orders_20260103.csv
	events_in 2026-01-03 waiting None waiting for an external input: a file matching '\''^events_20260103_\d+\.csv$'\'' in $PWD/data/in
	archive 2026-01-03 blocked data/archive/orders_2026-01-03.csv blocked by a need: orders_in 2026-01-03 (waiting)
	report 2026-01-03 blocked data/report/2026-01-03.txt blocked by a need: archive 2026-01-03 (blocked)
	orders_in 1 0 1 0
	events_in 1 0 1 0
	archive 0 1 0 1
	report 1 1 0 1
	EOF
	test_cmp expect out
'

test_expect_success 'today and yesterday follow DAG_NOW' '
	DAG_NOW=2026-01-03T08:00:00Z dag-cli plan shop.yaml --from yesterday --to today >out &&
	test_grep "^plan for shop (daily, UTC): 2026-01-02 .. 2026-01-03, 8 instances" out
'

test_expect_success 'plan usage errors exit 2' '
	test_expect_code 2 dag-cli plan shop.yaml 2>err &&
	test_grep "give one DAG and --date D, or --from A --to B" err &&
	test_expect_code 2 dag-cli plan shop.yaml --date 2026-13-01 2>err &&
	echo "dag-cli plan: bad date '\''2026-13-01'\''; expected YYYY-MM-DD, '\''today'\'' or '\''yesterday'\''" >expect &&
	test_cmp expect err &&
	test_expect_code 2 dag-cli plan shop.yaml --date 2025-06-01 2>err &&
	test_grep "is before the start of DAG .shop. (2026-01-01)" err &&
	test_expect_code 2 dag-cli plan shop.yaml --date 2026-01-01 --frob 2>err &&
	test_grep "unknown option .--frob." err &&
	dag-cli plan --help >out &&
	test_grep "^usage: dag-cli plan" out
'

test_expect_success 'graph --format dot draws needs with offsets' '
	dag-cli graph shop.yaml >out &&
	sed "s/^> /	/" >expect <<-\EOF &&
	digraph "shop" {
	> rankdir=LR;
	> node [shape=box];
	> "orders_in" [label="orders_in\nexternal-check"];
	> "events_in" [label="events_in\nexternal-check"];
	> "archive" [label="archive\narchive"];
	> "report" [label="report\ncommand"];
	> "orders_in" -> "archive";
	> "archive" -> "report";
	> "events_in" -> "report";
	> "report" -> "report" [label="-1d"];
	}
	EOF
	test_cmp expect out
'

test_expect_success 'graph --format json lists tasks, targets and needs' '
	dag-cli graph --format json shop.yaml >out.json &&
	cat >check.py <<-\EOF &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	print(d["dag"], d["schedule"], d["timezone"], d["start"])
	for t in d["tasks"]:
	    print(t["name"], t["kind"], t["target"],
	          " ".join("%s:%d..%d" % (n["task"], n["lo"], n["hi"]) for n in t["needs"]))
	EOF
	python3 check.py out.json >out &&
	cat >expect <<-\EOF &&
	shop daily UTC 2026-01-01
	orders_in external-check {root}/in/orders_{date:%Y%m%d}.csv 
	events_in external-check None 
	archive archive {root}/archive/orders_{date}.csv orders_in:0..0
	report command {root}/report/{date}.txt archive:0..0 events_in:0..0 report:-1..-1
	EOF
	test_cmp expect out &&
	test_expect_code 2 dag-cli graph --format png shop.yaml 2>err &&
	test_grep "unknown format .png." err
'

test_expect_success 'needs whose offsets cancel out are a cycle, named with them' '
	cat >loop.yaml <<-\EOF &&
	dag: loop
	start: 2026-01-01
	tasks:
	  a: {kind: command, run: "true", target: "a/{date}", needs: [{task: b, range: [-1d, 1d]}]}
	  b: {kind: command, run: "true", target: "b/{date}", needs: [{task: a, offset: 1d}]}
	EOF
	test_expect_code 2 dag-cli validate loop.yaml 2>err &&
	echo "loop.yaml:4:3: needs form a cycle among instances (the offsets cancel out): a needs b at -1d..+1d, b needs a at +1d" >expect &&
	test_cmp expect err
'

test_expect_success 'the example DAGs validate and plan' '
	for f in "$SRC_DIR"/dags/*.yaml; do
		dag-cli validate "$f" >out || return 1
		test_grep ": ok (dag " out || return 1
		DAG_NOW=2026-02-01T12:00:00Z dag-cli plan "$f" --date yesterday \
			>out || return 1
		test_grep "^plan for .* 2026-01-31" out || return 1
	done
'

test_done
