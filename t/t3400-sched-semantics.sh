#!/bin/sh
test_description='a consumed external input, --force in the requested partitions only, status of a wide DAG, {target} left unwritten'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: an input that archive moves away' '
	daily_dag mv <<-\EOF &&
	tasks:
	  arrived:
	    kind: external-check
	    target: "incoming/{date}.csv"
	  archive:
	    kind: archive
	    needs: [arrived]
	    mode: move
	    source: "{needs.arrived.target}"
	    target: "archive/{date}.csv"
	  report:
	    kind: command
	    needs: [archive]
	    run: "wc -l <{needs.archive.target} >{target}"
	    target: "reports/{date}.txt"
	EOF
	mkdir incoming &&
	printf "id\n1\n" >incoming/2026-01-05.csv &&
	printf "id\n2\n" >incoming/2026-01-06.csv &&
	dag-cli backfill mv.yaml --from 2026-01-05 --to 2026-01-06 >out &&
	test_grep "mv: 4 ran, 4 done, 0 failed" out &&
	test ! -e incoming/2026-01-05.csv &&
	test ! -e incoming/2026-01-06.csv &&
	echo 2 >expect &&
	test_cmp expect reports/2026-01-05.txt
'

test_expect_success 'input moved away, every consumer complete: run exits 0' '
	dag-cli run mv.yaml --date 2026-01-05 >out &&
	echo "mv: 0 ran, 0 done, 0 failed, 0 upstream failed, 0 waiting, 0 blocked" >expect &&
	summary_cmp expect out
'

test_expect_success 'and backfill over both days exits 0' '
	dag-cli backfill mv.yaml --from 2026-01-05 --to 2026-01-06 >out &&
	echo "mv: 0 ran, 0 done, 0 failed, 0 upstream failed, 0 waiting, 0 blocked" >expect &&
	summary_cmp expect out
'

test_expect_success 'plan lists nothing to run' '
	dag-cli plan mv.yaml --date 2026-01-05 >out &&
	cat >expect <<-\EOF &&
	plan for mv (daily, UTC): 2026-01-05 .. 2026-01-05, 3 instances requested, 3 in the plan

	2026-01-05  arrived  done     input consumed: every instance that needs it is complete (incoming/2026-01-05.csv is gone)
	2026-01-05  archive  done     complete: archive/2026-01-05.csv
	2026-01-05  report   done     complete: reports/2026-01-05.txt

	task        done      run  waiting  blocked
	arrived        1        0        0        0
	archive        1        0        0        0
	report         1        0        0        0
	total          3        0        0        0
	EOF
	test_cmp expect out
'

test_expect_success 'status does not say waiting' '
	grid_is mv.yaml --from 2026-01-05 --to 2026-01-06 <<-\EOF
	partition     arrived         archive         report
	2026-01-05    done            done            done
	2026-01-06    done            done            done
	EOF
'

test_expect_success 'a later consumer missing: the check is done, the consumer runs' '
	rm reports/2026-01-05.txt &&
	dag-cli run mv.yaml --date 2026-01-05 >out &&
	echo "mv: 1 ran, 1 done, 0 failed, 0 upstream failed, 0 waiting, 0 blocked" >expect &&
	summary_cmp expect out &&
	echo 2 >expect &&
	test_cmp expect reports/2026-01-05.txt
'

test_expect_success 'the direct consumer missing and the input gone: still waiting, exit 3' '
	rm archive/2026-01-05.csv &&
	run_summary 3 run mv.yaml --date 2026-01-05 <<-EOF &&
	1 blocked: arrived 2026-01-05 missing: $PWD/incoming/2026-01-05.csv
	mv: 0 ran, 0 done, 0 failed, 0 upstream failed, 1 waiting, 1 blocked
	EOF
	grid_is mv.yaml --date 2026-01-05 <<-\EOF
	partition     arrived         archive         report
	2026-01-05    waiting         waiting         done
	EOF
'

test_expect_success 'a check nothing needs keeps the plain rule: exit 3' '
	daily_dag lone <<-\EOF &&
	tasks:
	  arrived:
	    kind: external-check
	    target: "incoming/lone-{date}.csv"
	EOF
	run_summary 3 run lone.yaml --date 2026-01-05 <<-EOF
	waiting: arrived 2026-01-05: external input missing $PWD/incoming/lone-2026-01-05.csv
	lone: 0 ran, 0 done, 0 failed, 0 upstream failed, 1 waiting, 0 blocked
	EOF
'

test_expect_success 'a consumer of the day before counts: its partition decides' '
	daily_dag prev <<-\EOF &&
	tasks:
	  arrived:
	    kind: external-check
	    target: "in-prev/{date}.csv"
	  next_day:
	    kind: command
	    needs: [{task: arrived, offset: -1d}]
	    run: "cp {needs.arrived.target} {target}"
	    target: "out-prev/{date}.csv"
	EOF
	mkdir in-prev &&
	echo a >in-prev/2026-01-05.csv &&
	run_summary 3 run prev.yaml --date 2026-01-06 <<-EOF &&
	waiting: arrived 2026-01-06: external input missing $PWD/in-prev/2026-01-06.csv
	prev: 1 ran, 1 done, 0 failed, 0 upstream failed, 1 waiting, 0 blocked
	EOF
	rm in-prev/2026-01-05.csv &&
	echo b >in-prev/2026-01-04.csv &&
	dag-cli run prev.yaml --date 2026-01-05 >out &&
	echo "prev: 1 ran, 1 done, 0 failed, 0 upstream failed, 0 waiting, 0 blocked" >expect &&
	summary_cmp expect out &&
	rm in-prev/2026-01-04.csv &&
	dag-cli run prev.yaml --date 2026-01-05 >out &&
	echo "prev: 0 ran, 0 done, 0 failed, 0 upstream failed, 0 waiting, 0 blocked" >expect &&
	summary_cmp expect out
'

test_expect_success 'that consumer missing: the check waits again' '
	rm out-prev/2026-01-06.csv &&
	run_summary 3 run prev.yaml --date 2026-01-05 <<-EOF
	waiting: arrived 2026-01-05: external input missing $PWD/in-prev/2026-01-05.csv
	prev: 0 ran, 0 done, 0 failed, 0 upstream failed, 1 waiting, 0 blocked
	EOF
'

test_expect_success 'setup: a dimension that needs its own previous day' '
	daily_dag dim <<-\EOF &&
	tasks:
	  dim:
	    kind: command
	    needs: [{task: dim, offset: -1d}]
	    run: "echo {date} >>runs.log && echo {date} >{target}"
	    target: "dim/{date}"
	EOF
	dag-cli run dim.yaml --date 2026-01-04 >out &&
	printf "2026-01-01\n2026-01-02\n2026-01-03\n2026-01-04\n" >expect &&
	test_cmp expect runs.log
'

test_expect_success '--force reruns only the requested partition' '
	rm runs.log &&
	dag-cli run dim.yaml --date 2026-01-04 --force dim >out &&
	echo "dim: 1 ran, 1 done, 0 failed, 0 upstream failed, 0 waiting, 0 blocked" >expect &&
	summary_cmp expect out &&
	echo 2026-01-04 >expect &&
	test_cmp expect runs.log
'

test_expect_success '--force over a range reruns that range, not the days before' '
	rm runs.log &&
	dag-cli backfill dim.yaml --from 2026-01-03 --to 2026-01-04 \
		--force dim >out &&
	printf "2026-01-03\n2026-01-04\n" >expect &&
	test_cmp expect runs.log
'

test_expect_success '--force: a missing earlier day still runs as a need' '
	rm runs.log dim/2026-01-03 &&
	dag-cli run dim.yaml --date 2026-01-04 --force dim >out &&
	printf "2026-01-03\n2026-01-04\n" >expect &&
	test_cmp expect runs.log
'

test_expect_success 'setup: a DAG of 80 tasks' '
	{
		printf "dag: wide\nschedule: daily\ntimezone: UTC\n" &&
		printf "start: 2026-01-01\ntasks:\n" &&
		for i in $(seq -w 1 80); do
			printf "  t$i:\n    kind: command\n" &&
			printf "    run: \"echo $i >{target}\"\n" &&
			printf "    target: \"wide/$i-{date}\"\n" || return 1
		done
	} >wide.yaml &&
	dag-cli run wide.yaml --date 2026-01-02 -j 2 >out &&
	test_grep "wide: 80 ran, 80 done, 0 failed" out
'

test_expect_success 'status shows every instance of a DAG with 80 tasks, transposed' '
	dag-cli status wide.yaml --from 2026-01-01 --to 2026-01-02 >out &&
	{
		echo "task 2026-01-01 2026-01-02" &&
		for i in $(seq -w 1 80); do echo "t$i  missing    done" || return 1; done
	} >expect &&
	test_cmp expect out &&
	dag-cli status wide.yaml --from 2026-01-01 --to 2026-01-02 --compact >out &&
	{
		echo "     2026-01-01 .. 2026-01-02" &&
		for i in $(seq -w 1 80); do echo "t$i  .+" || return 1; done &&
		echo &&
		echo "+ done  . missing"
	} >expect &&
	test_cmp expect out &&
	grid_is wide.yaml --from 2026-01-01 --to 2026-01-02 --task t07 --task t42 <<-\EOF
	partition     t07             t42
	2026-01-01    missing         missing
	2026-01-02    done            done
	EOF
'

test_expect_success 'status --json of the wide DAG lists all 160 instances' '
	dag-cli status wide.yaml --from 2026-01-01 --to 2026-01-02 --json >out &&
	grep -c "\"task\":" out >count &&
	echo 160 >expect &&
	test_cmp expect count
'

test_expect_success 'setup: commands that may leave {target} unwritten' '
	daily_dag lazy <<-\EOF
	tasks:
	  via_tmp:
	    kind: command
	    run: "test -e skip || echo new >{target}"
	    target: "lazy/tmp-{date}"
	  in_place:
	    kind: command
	    run: "test -e skip || echo new >lazy/place-{date}"
	    target: "lazy/place-{date}"
	  dir_in_place:
	    kind: command
	    run: "mkdir -p lazy/dir-{date} && echo x >lazy/dir-{date}/part && touch lazy/dir-{date}/_SUCCESS"
	    target: "lazy/dir-{date}/"
	EOF
'

test_expect_success 'first run: every target written' '
	dag-cli run lazy.yaml --date 2026-01-01 >out &&
	echo new >expect &&
	test_cmp expect lazy/tmp-2026-01-01 &&
	test_cmp expect lazy/place-2026-01-01
'

test_expect_success 'a directory written in place is kept as written' '
	echo x >expect &&
	test_cmp expect lazy/dir-2026-01-01/part
'

test_expect_success '--force, {target} not written though the old target exists: failed' '
	touch skip &&
	test_expect_code 1 dag-cli run lazy.yaml --date 2026-01-01 \
		--force via_tmp >out &&
	dag-cli logs lazy.yaml via_tmp --date 2026-01-01 >log &&
	test_grep "the command exited 0 but did not write {target} (the temporary name of .lazy/tmp-2026-01-01.)" log &&
	echo new >expect &&
	test_cmp expect lazy/tmp-2026-01-01 &&
	ls -A lazy >files &&
	printf "dir-2026-01-01\nplace-2026-01-01\ntmp-2026-01-01\n" >expect &&
	test_cmp expect files
'

test_expect_success '--force, a run without {target}: the existing target is success' '
	dag-cli run lazy.yaml --date 2026-01-01 --force in_place \
		--force dir_in_place >out &&
	echo "lazy: 2 ran, 2 done, 0 failed, 0 upstream failed, 0 waiting, 0 blocked" >expect &&
	summary_cmp expect out &&
	echo x >expect &&
	test_cmp expect lazy/dir-2026-01-01/part
'

test_done
