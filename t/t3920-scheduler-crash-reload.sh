#!/bin/sh
test_description='scheduler: kill -9 at any moment, reloading DAG files, draining on SIGTERM'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-scheduler.sh"

test_expect_success 'setup: an hourly DAG whose task takes a while' '
	mkdir dags &&
	echo 0 >slow &&
	cat >dags/slow.yaml <<-\EOF
	dag: slow
	schedule: hourly
	start: 2026-01-01
	catchup: latest
	tasks:
	  work:
	    kind: command
	    run: "echo {partition} >> ran.txt && sleep $(cat slow) && echo x > {target}"
	    target: "out/{partition}.txt"
	EOF
'

test_expect_success 'killed right after queuing: the restart runs it, once' '
	DAG_TEST_CRASH=queued start_scheduler 2026-01-01T01:30:00Z --dags dags &&
	wait_log "slow 2026-01-01T00: due" &&
	wait_for "! kill -0 $(cat sched.pid)" &&
	echo "slow 2026-01-01T00 queued 0" >expect &&
	schedule_rows >rows &&
	test_cmp expect rows &&
	run_scheduler 2026-01-01T01:30:00Z \
		"slow 2026-01-01T00: done" &&
	lines_are ran.txt 2026-01-01T00
'

test_expect_success 'killed between marking it running and starting it: resumed, once' '
	: >sched.log && rm -f ran.txt &&
	DAG_TEST_CRASH=running start_scheduler 2026-01-01T02:00:00Z --dags dags &&
	wait_for "! kill -0 $(cat sched.pid)" &&
	echo "slow 2026-01-01T00 done 1
slow 2026-01-01T01 running 1" >expect &&
	schedule_rows >rows &&
	test_cmp expect rows &&
	run_scheduler 2026-01-01T02:00:01Z \
		"slow 2026-01-01T01: done" &&
	test_grep "slow 2026-01-01T01: was running when the scheduler stopped; queued again" sched.log &&
	lines_are ran.txt 2026-01-01T01
'

test_expect_success 'killed while its run works: the run is adopted, not started again' '
	: >sched.log && rm -f ran.txt &&
	echo 3 >slow &&
	start_scheduler 2026-01-01T03:00:00Z --dags dags &&
	wait_log "slow 2026-01-01T02: started" &&
	kill9_scheduler &&
	run_scheduler 2026-01-01T03:00:01Z \
		"slow 2026-01-01T02: its run (pid [0-9]*) outlived the previous scheduler" \
		"slow 2026-01-01T02: done" &&
	lines_are ran.txt 2026-01-01T02 &&
	test -f out/2026-01-01T02.txt
'

test_expect_success 'SIGTERM waits for the runs in flight, then exits 0' '
	: >sched.log && rm -f ran.txt &&
	echo 2 >slow &&
	run_scheduler 2026-01-01T04:00:00Z \
		"slow 2026-01-01T03: started" &&
	test_grep "draining: 1 run in flight" sched.log &&
	test_grep "slow 2026-01-01T03: done" sched.log &&
	test_grep "drained; exiting" sched.log &&
	test -f out/2026-01-01T03.txt
'

test_expect_success 'a broken edit is reported; the old definition keeps running' '
	: >sched.log && rm -f ran.txt && echo 0 >slow &&
	start_scheduler 2026-01-01T04:59:50Z --dags dags &&
	wait_log "slow: next partition 2026-01-01T04" &&
	sed -i "s/kind: command/kind: comand/" dags/slow.yaml &&
	wait_log "dags/slow.yaml: changed, but has errors; the definition loaded before keeps running" &&
	test_grep "dags/slow.yaml:7:11: unknown task kind .comand.; did you mean .command.?" sched.log &&
	wait_log "slow 2026-01-01T04: done" &&
	lines_are ran.txt 2026-01-01T04
'

test_expect_success 'a fixed edit is reloaded, a new file loaded, a removed one dropped' '
	sed -e "s/kind: comand/kind: command/" -e "s/ran.txt/ran2.txt/" \
		dags/slow.yaml >dags/slow.tmp && mv dags/slow.tmp dags/slow.yaml &&
	wait_log "dags/slow.yaml: reloaded dag .slow." &&
	sed "s/^dag: slow/dag: other/" dags/slow.yaml >dags/other.yaml &&
	wait_log "dags/other.yaml: loaded dag .other." &&
	rm dags/other.yaml &&
	wait_log "dags/other.yaml: removed; other no longer scheduled" &&
	stop_scheduler
'

test_expect_success 'a new DAG file with errors is reported and not scheduled' '
	: >sched.log &&
	printf "dag: x\nstart: nope\ntasks: {}\n" >dags/x.yaml &&
	start_scheduler 2026-01-01T05:00:30Z --dags dags &&
	wait_log "dags/x.yaml: has errors; not scheduled" &&
	test_grep "dags/x.yaml:2:8: bad start date" sched.log &&
	stop_scheduler
'

test_done
