#!/bin/sh
test_description='scheduler: catch-up after downtime, inputs that arrive late, giving up'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-scheduler.sh"

# dag NAME CATCHUP [EXTRA]: an hourly DAG writing what ran to ran-NAME.txt.
dag() {
	cat >dags/$1.yaml <<-EOF
	dag: $1
	schedule: hourly
	start: 2026-01-01
	catchup: $2
	$3
	tasks:
	  stamp:
	    kind: command
	    run: "echo {partition} >> ran-$1.txt && echo x > {target}"
	    target: "out/$1-{partition}.txt"
	EOF
}

test_expect_success 'first start: latest starts the newest due partition only' '
	mkdir dags &&
	dag latest latest &&
	dag none none &&
	dag all all "catchup_max: 3" &&
	start_scheduler 2026-01-01T05:30:00Z --dags dags &&
	wait_log "latest 2026-01-01T04: done" &&
	wait_for "test \$(grep -c \"all 2026-01-01T0[2-4]: done\" sched.log) = 3" &&
	stop_scheduler &&
	lines_are ran-latest.txt 2026-01-01T04 &&
	! test -e ran-none.txt &&
	test_grep "none: 2026-01-01T04 and earlier fell due while the scheduler was not running; not started (catchup: none)" sched.log &&
	printf "2026-01-01T02\n2026-01-01T03\n2026-01-01T04\n" >expect &&
	sort ran-all.txt >got &&
	test_cmp expect got &&
	test_grep "all: 2026-01-01T01 and earlier fell due while the scheduler was not running; not started (catchup: all, catchup_max reached)" sched.log
'

test_expect_success 'after downtime: none starts nothing, latest the newest, all each (capped)' '
	: >sched.log && rm -f ran-*.txt &&
	# down from 05:30 to 10:30: 05 .. 09 fell due meanwhile
	start_scheduler 2026-01-01T10:30:00Z --dags dags &&
	wait_log "latest 2026-01-01T09: done" &&
	wait_for "test \$(grep -c \"all 2026-01-01T0[5-9]: done\" sched.log) = 3" &&
	wait_log "none: next partition" &&
	stop_scheduler &&
	lines_are ran-latest.txt 2026-01-01T09 &&
	! test -e ran-none.txt &&
	printf "2026-01-01T07\n2026-01-01T08\n2026-01-01T09\n" >expect &&
	sort ran-all.txt >got &&
	test_cmp expect got
'

test_expect_success 'what falls due while it runs starts whatever the policy' '
	: >sched.log && rm -f ran-*.txt &&
	run_scheduler 2026-01-01T10:59:58Z \
		"none 2026-01-01T10: done" \
		"latest 2026-01-01T10: done" \
		"all 2026-01-01T10: done" &&
	for n in none latest all; do
		lines_are ran-$n.txt 2026-01-01T10 || return 1
	done
'

test_expect_success 'setup: a daily DAG waiting for an input' '
	rm -rf dags/* out ran-*.txt st sched.log &&
	cat >dags/late.yaml <<-\EOF
	dag: late
	start: 2026-01-01
	catchup: latest
	recheck: 1s
	give_up_after: 1d
	tasks:
	  arrived: {kind: external-check, target: "in/{date}.csv"}
	  copy:
	    kind: command
	    needs: [arrived]
	    run: "cp {needs.arrived.target} {target}"
	    target: "out/{date}.csv"
	EOF
'

test_expect_success 'inputs not there yet: tried again every recheck, then done' '
	start_scheduler 2026-01-03T06:00:00Z --dags dags &&
	wait_log "late 2026-01-02: external inputs missing (try 2); next try at" &&
	mkdir -p in && echo a >in/2026-01-02.csv &&
	wait_log "late 2026-01-02: done" &&
	stop_scheduler &&
	test_cmp in/2026-01-02.csv out/2026-01-02.csv &&
	echo "late 2026-01-02 done" >expect &&
	sqlite3 st/state.db "SELECT dag, partition, state FROM schedule" |
		tr "|" " " >got &&
	test_cmp expect got
'

test_expect_success 'an input that never comes: given up after give_up_after' '
	: >sched.log &&
	sed -i "s/give_up_after: 1d/give_up_after: 3s/" dags/late.yaml &&
	# 2026-01-03 falls due at 2026-01-04T00:00Z; give up 3 s later.
	run_scheduler 2026-01-03T23:59:59Z \
		"late 2026-01-03: gave up: external inputs still missing" &&
	echo "late 2026-01-03 gave_up" >expect &&
	sqlite3 st/state.db "SELECT dag, partition, state FROM schedule \
		WHERE partition = '\''2026-01-03'\''" | tr "|" " " >got &&
	test_cmp expect got
'

test_expect_success 'a failed run is recorded failed, and not started again' '
	rm -rf dags/* st sched.log &&
	cat >dags/bad.yaml <<-\EOF &&
	dag: bad
	start: 2026-01-01
	tasks:
	  boom: {kind: command, run: "exit 7", target: "out/boom-{date}"}
	EOF
	run_scheduler 2026-01-02T00:00:01Z \
		"bad 2026-01-01: failed (exit 1, try 1)" &&
	: >sched.log &&
	run_scheduler 2026-01-02T00:00:02Z \
		"bad: next partition" &&
	! grep -q "bad 2026-01-01: started" sched.log
'

# The first try's command, once its target is written, has another
# process (out of its process group, which ends with it) take the state
# database's write lock and keep it until the file "release" appears: the
# run cannot record its result within DAG_STATE_TIMEOUT and exits 4, saying
# so.  Only then is the lock let go, well within the scheduler's own wait.
# The holder waits out the command's own probe of the lock (.timeout).
test_expect_success 'a run that exits 4 (state database locked) is tried again, not failed' '
	rm -rf dags/* st out sched.log &&
	cat >dags/lk.yaml <<-\EOF &&
	dag: lk
	start: 2026-01-01
	recheck: 1s
	tasks:
	  a:
	    kind: command
	    run: |
	      echo {date} >> tries.txt && echo x > {target} || exit 1
	      test -e held && exit 0
	      touch held
	      setsid sh -c "(echo .timeout 30000; echo \"BEGIN IMMEDIATE; DELETE FROM leases WHERE run_id = -1;\"; n=0; while ! test -e RELEASE && test \$n -lt 2400; do sleep 0.05; n=\$((n+1)); done; echo COMMIT) | sqlite3 STATE_DB" &
	      n=0
	      while sqlite3 STATE_DB "BEGIN IMMEDIATE" 2>/dev/null && test $n -lt 600; do sleep 0.05; n=$((n+1)); done
	    target: "out/a-{date}"
	EOF
	sed -i "s|STATE_DB|$PWD/st/state.db|; s|RELEASE|$PWD/release|" dags/lk.yaml &&
	rm -f release &&
	DAG_STATE_TIMEOUT=10 && export DAG_STATE_TIMEOUT &&
	start_scheduler 2026-01-02T00:00:01Z --dags dags &&
	unset DAG_STATE_TIMEOUT &&
	wait_log "locked by pid [0-9]* (sqlite3) for more than 10 s" &&
	touch release &&
	wait_log "lk 2026-01-01: the state database stayed locked (exit 4, try 1); next try at" &&
	wait_log "lk 2026-01-01: done (try 2" &&
	stop_scheduler &&
	test_must_fail grep -q "lk 2026-01-01: failed" sched.log &&
	lines_are tries.txt 2026-01-01 &&
	echo "lk 2026-01-01 done 2" >expect &&
	sqlite3 st/state.db "SELECT dag, partition, state, tries FROM schedule \
		WHERE dag = '\''lk'\''" | tr "|" " " >got &&
	test_cmp expect got
'

test_done
