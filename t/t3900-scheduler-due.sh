#!/bin/sh
test_description='scheduler: partitions start when they fall due, in the DAG zone, DST included'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-scheduler.sh"

test_expect_success 'setup: an hourly DAG that starts nothing missed' '
	mkdir -p dags &&
	cat >dags/hourly.yaml <<-\EOF
	dag: hourly
	schedule: hourly
	start: 2025-12-01
	catchup: none
	tasks:
	  stamp:
	    kind: command
	    run: "echo {partition} >> ran.txt && echo {partition} > {target}"
	    target: "out/h-{partition}.txt"
	EOF
'

test_expect_success 'the hour ends: its partition starts, and nothing before it' '
	run_scheduler 2026-01-01T00:59:57Z \
		"hourly 2026-01-01T00: done" &&
	test -f out/h-2026-01-01T00.txt &&
	lines_are ran.txt 2026-01-01T00 &&
	test_grep "2025-12-31T23 and earlier fell due while the scheduler was not running; not started (catchup: none)" sched.log &&
	echo "hourly 2026-01-01T00 done 1" >expect &&
	schedule_rows >rows &&
	test_cmp expect rows
'

test_expect_success 'SIGTERM drains: the scheduler exits 0 and says so' '
	test_grep "drained; exiting" sched.log
'

test_expect_success 'a restart does not run a decided partition again' '
	: >sched.log &&
	run_scheduler 2026-01-01T01:00:05Z \
		"hourly: next partition 2026-01-01T01 falls due at 2026-01-01T02:00:00Z" &&
	lines_are ran.txt 2026-01-01T00
'

test_expect_success 'daily in a zone with a delay: due after local midnight plus the delay' '
	rm -rf dags/* out ran.txt st sched.log &&
	cat >dags/berlin.yaml <<-\EOF &&
	dag: berlin
	timezone: Europe/Berlin
	start: 2026-03-01
	delay: 1h
	catchup: none
	tasks:
	  stamp:
	    kind: command
	    run: "echo {date} >> ran.txt && echo {date} > {target}"
	    target: "out/d-{date}.txt"
	EOF
	# 2026-03-29 00:59:57 in Berlin (CET, +01:00): 2026-03-28 falls due
	# at 01:00 local, 00:00Z.
	run_scheduler 2026-03-28T23:59:57Z \
		"berlin 2026-03-28: done" &&
	lines_are ran.txt 2026-03-28
'

test_expect_success 'the 23-hour day ends at its local midnight (22:00Z), plus the delay' '
	: >sched.log &&
	# 2026-03-29 has 23 hours in Berlin: it ends at 2026-03-30 00:00
	# CEST, 22:00Z; due at 23:00Z with the delay.  At 22:59:57Z it is
	# not due; three seconds later it is.
	run_scheduler 2026-03-29T22:59:57Z \
		"berlin 2026-03-29: done" &&
	printf "2026-03-28\n2026-03-29\n" >expect &&
	test_cmp expect ran.txt &&
	! grep -q "berlin 2026-03-29: due while" sched.log
'

test_expect_success 'the repeated hour of a DST end is its own partition' '
	rm -rf dags/* out ran.txt st sched.log &&
	dag_yaml dags/ny hourly America/New_York 2026-10-01 <<-\EOF &&
	catchup: none
	tasks:
	  stamp:
	    kind: command
	    run: "echo {partition} >> ran.txt && echo {ts} > {target}"
	    target: "out/{partition}.txt"
	EOF
	# 2026-11-01: 01:00 EDT (05:00Z), then 01:00 EST (06:00Z) again.
	start_scheduler 2026-11-01T05:59:57Z --dags dags &&
	wait_log "ny 2026-11-01T01: done" &&
	: >sched.log.1 &&
	stop_scheduler &&
	: >sched.log &&
	run_scheduler 2026-11-01T06:59:57Z \
		"ny 2026-11-01T01b: done" &&
	printf "2026-11-01T01\n2026-11-01T01b\n" >expect &&
	test_cmp expect ran.txt &&
	test_grep "2026-11-01T01:00:00-04:00" out/2026-11-01T01.txt &&
	test_grep "2026-11-01T01:00:00-05:00" out/2026-11-01T01b.txt
'

test_expect_success 'a second scheduler on the same state database is refused' '
	: >sched.log &&
	start_scheduler 2026-11-01T06:59:57Z --dags dags &&
	wait_log "loaded dag" &&
	test_expect_code 1 dag-cli scheduler --dags dags --state st/state.db \
		>second.out 2>err &&
	test_grep "another scheduler uses the state database" err &&
	stop_scheduler
'

test_expect_success 'usage errors: an operand, no such directory' '
	test_expect_code 2 dag-cli scheduler ny 2>err &&
	test_grep "unexpected argument .ny." err &&
	test_expect_code 2 dag-cli scheduler --dags nowhere 2>err &&
	test_grep "no DAG directory .$PWD/nowhere." err
'

test_done
