#!/bin/sh
test_description='status: no invented partition, --task and --only, a grid that fits 80 columns or a compact view'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: six tasks, one failing, two downstream of it' '
	daily_dag six <<-\EOF
	tasks:
	  extract: {kind: command, run: "echo > {target}", target: "o/extract-{date}"}
	  normalise: {kind: command, needs: [extract], run: "echo > {target}", target: "o/normalise-{date}"}
	  aggregate: {kind: command, needs: [normalise], run: "exit 1", target: "o/aggregate-{date}"}
	  publish: {kind: command, needs: [aggregate], run: "echo > {target}", target: "o/publish-{date}"}
	  audit: {kind: command, run: "echo > {target}", target: "o/audit-{date}"}
	  notify: {kind: command, needs: [publish], run: "echo > {target}", target: "o/notify-{date}"}
	EOF
'

test_expect_success 'nothing recorded and no range: it says so, it invents no partition' '
	DAG_NOW=2026-02-10T12:00:00Z dag-cli status six.yaml >out &&
	cat >expect <<-\EOF &&
	no runs of six are recorded in .dag-state/state.db
	to see partitions all the same: dag-cli status six --date D, or --from A --to B
	EOF
	test_cmp expect out &&
	DAG_NOW=2026-02-10T12:00:00Z dag-cli status six.yaml --json >out &&
	printf "{\n  \"dag\": \"six\",\n  \"instances\": []\n}\n" >expect &&
	test_cmp expect out &&
	test ! -e .dag-state
'

test_expect_success 'a grid of six tasks fits 80 columns' '
	test_expect_code 1 dag-cli backfill six.yaml --from 2026-01-01 --to 2026-01-03 >run.out &&
	grid_is six.yaml <<-\EOF &&
	partition     extract normalise aggregate publish         audit notify
	2026-01-01    done    done      failed    upstream_failed done  upstream_failed
	2026-01-02    done    done      failed    upstream_failed done  upstream_failed
	2026-01-03    done    done      failed    upstream_failed done  upstream_failed
	EOF
	awk "length > 80 { print; bad = 1 } END { exit bad }" grid
'

test_expect_success '--task keeps those columns; an unknown task is refused' '
	grid_is six.yaml --task publish --task extract <<-\EOF &&
	partition     extract         publish
	2026-01-01    done            upstream_failed
	2026-01-02    done            upstream_failed
	2026-01-03    done            upstream_failed
	EOF
	test_expect_code 2 dag-cli status six.yaml --task publsh >out 2>err &&
	test_grep "DAG .six. has no task .publsh.; did you mean .publish.?" err
'

test_expect_success '--only keeps the instances in those states, in the grid and in --json' '
	rm o/extract-2026-01-02 &&
	grid_is six.yaml --only missing <<-\EOF &&
	partition     extract normalise aggregate publish audit notify
	2026-01-02    missing -         -         -       -     -
	EOF
	dag-cli status six.yaml --only failed,missing --task extract --task aggregate --json >out &&
	grep "\"state\"" out >states &&
	cat >expect <<-\EOF &&
	      "state": "failed",
	      "state": "missing",
	      "state": "failed",
	      "state": "failed",
	EOF
	test_cmp expect states &&
	dag-cli status six.yaml --only running >out &&
	echo "no instance of six in that range matches --task and --only" >expect &&
	test_cmp expect out &&
	test_expect_code 2 dag-cli status six.yaml --only broken 2>err &&
	test_grep "only .broken.: not a state" err
'

test_expect_success 'many tasks over a few partitions: the grid transposed' '
	{
		printf "dag: many\nschedule: daily\ntimezone: UTC\n" &&
		printf "start: 2026-01-01\ntasks:\n" &&
		for i in $(seq -w 1 9); do
			printf "  load_the_table_$i: {kind: command, run: \"echo > {target}\", target: \"m/$i-{date}\"}\n" || return 1
		done
	} >many.yaml &&
	dag-cli run many.yaml --date 2026-01-02 >run.out &&
	dag-cli status many.yaml --from 2026-01-01 --to 2026-01-02 >out &&
	{
		echo "task             2026-01-01 2026-01-02" &&
		for i in $(seq -w 1 9); do
			echo "load_the_table_$i missing    done" || return 1
		done
	} >expect &&
	test_cmp expect out &&
	dag-cli status many.yaml --from 2026-01-01 --to 2026-01-02 --only done >out &&
	{
		echo "task             2026-01-02" &&
		for i in $(seq -w 1 9); do
			echo "load_the_table_$i done" || return 1
		done
	} >expect &&
	test_cmp expect out
'

test_expect_success 'many partitions: the compact view, a row per task, in blocks of 80 columns' '
	test_expect_code 1 dag-cli backfill six.yaml --from 2026-01-04 --to 2026-03-31 >run.out &&
	dag-cli status six.yaml >out &&
	awk "length > 80 { print; bad = 1 } END { exit bad }" out &&
	head -n 7 out >first &&
	cat >expect <<-\EOF &&
	          2026-01-01                                                  2026-03-11
	extract   +.++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
	normalise ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
	aggregate XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
	publish   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
	audit     ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
	notify    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
	EOF
	test_cmp expect first &&
	test_grep "^          2026-03-12 " out &&
	tail -n 1 out >legend &&
	echo "+ done  X failed  ^ upstream_failed  . missing" >expect &&
	test_cmp expect legend
'

test_expect_success '--compact asks for it on a small range; --only blanks the rest' '
	dag-cli status six.yaml --from 2026-01-01 --to 2026-01-03 --compact --only missing,failed >out &&
	cat >expect <<-\EOF &&
	          2026-01-01 .. 2026-01-03
	extract    . 
	aggregate XXX

	X failed  . missing
	EOF
	test_cmp expect out
'

test_done
