#!/bin/sh
test_description='the Slurm executor: signals cancel the jobs, a lost job is retried, a killed run is adopted'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-slurm.sh"

# running NAME N: at least N jobs named NAME are running.
running() {
	test "$(squeue -h -n "$1" -t R -o %A | wc -l)" -ge "$2"
}

statuses() {
	sqlite3 .dag-state/state.db \
		"SELECT task, partition, attempt, state FROM attempts ORDER BY 1, 2, 3"
}

# The steps are joined with &&: Slurm signals a job's processes one after
# another, so with ";" the shell may outlive sleep and write the target
# (dag-cli.1, the Slurm section).
test_expect_success 'SIGTERM cancels every submitted job, and the run says interrupted' '
	cat >t3803a.yaml <<-EOF &&
	dag: t3803a
	schedule: daily
	start: 2026-03-01
	tasks:
	  hold:
	    kind: command
	    target: o/hold/{date}
	    run: "echo \$\$ >$TRASH/pid.{date} && sleep 300 && echo x >{target}"
	EOF
	{ dag-cli backfill t3803a.yaml --from 2026-03-01 --to 2026-03-04 \
		--executor slurm >run.out 2>run.err & } &&
	pid=$! &&
	wait_for running t3803a.hold 4 &&
	wait_for test -s pid.2026-03-04 &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	slurm_jobs t3803a.hold >left &&
	test_cmp /dev/null left &&
	for d in 01 02 03 04; do
		wait_for eval "! kill -0 $(cat pid.2026-03-$d) 2>/dev/null" ||
		return 1
	done &&
	statuses >got &&
	cat >expect <<-\EOF &&
	hold|2026-03-01|1|interrupted
	hold|2026-03-02|1|interrupted
	hold|2026-03-03|1|interrupted
	hold|2026-03-04|1|interrupted
	EOF
	test_cmp expect got &&
	ls -A o/hold >files &&
	test_cmp /dev/null files
'

test_expect_success 'a job that leaves the queue without a result is lost, then retried' '
	rm -rf .dag-state &&
	mkdir bin &&
	cat >bin/squeue <<-EOF &&
	#!/bin/sh
	# squeue without the job named in ./hide: as if it had vanished.
	/usr/bin/squeue "\$@" | if test -s "$TRASH/hide"; then
		grep -v "^\$(cat "$TRASH/hide") " || true
	else
		cat
	fi
	EOF
	chmod +x bin/squeue &&
	cat >t3803b.yaml <<-EOF &&
	dag: t3803b
	schedule: daily
	start: 2026-03-01
	tasks:
	  once:
	    kind: command
	    target: o/once/{date}
	    run: "if test -e $TRASH/hide; then echo ok >{target}; else echo \$\$ >$TRASH/hidden.pid; echo \$SLURM_JOB_ID >$TRASH/hide; exec sleep 300; fi"
	EOF
	PATH=$TRASH/bin:$PATH DAG_SLURM_LOST_MS=2000 \
		dag-cli run t3803b.yaml --date 2026-03-01 --executor slurm \
		>run.out 2>run.err &&
	echo ok >expect &&
	test_cmp expect o/once/2026-03-01 &&
	statuses >got &&
	cat >expect <<-\EOF &&
	once|2026-03-01|1|lost
	once|2026-03-01|2|done
	EOF
	test_cmp expect got &&
	wait_for eval "! kill -0 $(cat hidden.pid) 2>/dev/null" &&
	dag-cli logs t3803b.yaml once --date 2026-03-01 --attempt 1 >log &&
	test_grep "left the queue without a result (lost)" log
'

test_expect_success 'a job the controller keeps held is given up as lost, then retried' '
	rm -rf .dag-state hide &&
	cat >bin/squeue <<-EOF &&
	#!/bin/sh
	# squeue showing the job named in ./hide held, as after a failed launch.
	/usr/bin/squeue "\$@" | if test -s "$TRASH/hide"; then
		sed "s/^\$(cat "$TRASH/hide") .*/\$(cat "$TRASH/hide") PENDING JobHeldAdmin/"
	else
		cat
	fi
	EOF
	PATH=$TRASH/bin:$PATH DAG_SLURM_LOST_MS=2000 \
		dag-cli run t3803b.yaml --date 2026-03-02 --executor slurm \
		>run.out 2>run.err &&
	echo ok >expect &&
	test_cmp expect o/once/2026-03-02 &&
	statuses >got &&
	cat >expect <<-\EOF &&
	once|2026-03-02|1|lost
	once|2026-03-02|2|done
	EOF
	test_cmp expect got &&
	dag-cli logs t3803b.yaml once --date 2026-03-02 --attempt 1 >log &&
	test_grep "stayed held by the controller without a result (lost)" log
'

test_expect_success 'kill -9 of the scheduler, then a rerun: the orphans finish, nothing runs twice' '
	rm -rf .dag-state &&
	cat >t3803c.yaml <<-EOF &&
	dag: t3803c
	schedule: daily
	start: 2026-03-01
	tasks:
	  step:
	    kind: command
	    target: o/step/{date}
	    run: "echo {date} >>$TRASH/started.log; sleep 8; echo {date} >>$TRASH/runs.log; echo {date} >{target}"
	  after:
	    kind: command
	    needs: [step]
	    target: o/after/{date}
	    run: "echo after {date} >>$TRASH/runs.log; echo {date} >{target}"
	EOF
	{ dag-cli backfill t3803c.yaml --from 2026-03-01 --to 2026-03-06 -j 3 \
		--executor slurm >run.out 2>run.err & } &&
	pid=$! &&
	wait_for running t3803c.step 3 &&
	# A job Slurm calls running may not have started its command yet:
	# kill once all three commands are under way.
	wait_for eval "test \$(wc -l <started.log 2>/dev/null || echo 0) -ge 3" &&
	kill -KILL $pid &&
	{ wait $pid || :; } &&
	test -n "$(slurm_jobs t3803c.step)" &&
	! test -e runs.log &&
	dag-cli backfill t3803c.yaml --from 2026-03-01 --to 2026-03-06 \
		--executor slurm >run.out 2>run.err &&
	test_grep "waiting for 3 Slurm jobs of an interrupted run" run.err &&
	ls o/step o/after >targets &&
	test "$(grep -c 2026 targets)" = 12 &&
	sort runs.log >got &&
	{ for d in 01 02 03 04 05 06; do
		echo "2026-03-$d" && echo "after 2026-03-$d"
	done; } | sort >expect &&
	test_cmp expect got &&
	find .dag-state/slurm -type f >left &&
	test_cmp /dev/null left &&
	# The orphans finished: their attempts are recorded as they ended,
	# not as interrupted.
	sqlite3 .dag-state/state.db "SELECT task, partition, attempt, state, \
		exit_code, error FROM attempts ORDER BY 1, 2, 3" >got &&
	{ for d in 01 02 03 04 05 06; do
		echo "after|2026-03-$d|1|done|0|"
	done &&
	for d in 01 02 03 04 05 06; do
		echo "step|2026-03-$d|1|done|0|"
	done; } >expect &&
	test_cmp expect got
'

test_done
