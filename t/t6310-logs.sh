#!/bin/sh
test_description='logs: every attempt has one, with time-stamped lines; an instance that did not run says why'
. "$(dirname "$0")/lib.sh"

stamp='[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{3\}Z'

# log_line N PATTERN: line N of the file log (or its last) matches PATTERN.
log_line() {
	if test "$1" = last; then
		tail -n 1 log >line
	else
		sed -n "$1p" log >line
	fi &&
	test_grep "$2" line
}

test_expect_success 'setup: a chain with a failing middle, a built-in kind' '
	printf "a,b\n1,2\n" >in.csv &&
	daily_dag l <<-\EOF
	tasks:
	  first:
	    kind: command
	    run: "echo making {date}; echo x > {target}"
	    target: "o/first-{date}"
	  middle:
	    kind: command
	    needs: [first]
	    run: "echo cannot; exit 2"
	    target: "o/middle-{date}"
	  last:
	    kind: command
	    needs: [middle]
	    run: "echo x > {target}"
	    target: "o/last-{date}"
	  tidy:
	    kind: clean
	    input: in.csv
	    output: "o/tidy-{date}.csv"
	    target: "o/tidy-{date}.csv"
	EOF
'

test_expect_success 'a successful attempt has a log: started, its output, done, each stamped' '
	test_expect_code 1 dag-cli run l.yaml --date 2026-01-02 >out &&
	dag-cli logs l.yaml first --date 2026-01-02 >log &&
	test $(wc -l <log) = 3 &&
	log_line 1 "^$stamp dag-cli: first 2026-01-02 attempt 1 started\$" &&
	log_line 2 "^making 2026-01-02\$" &&
	log_line last "^$stamp dag-cli: first 2026-01-02 attempt 1 done in [0-9]*\.[0-9] s\$"
'

test_expect_success 'a built-in kind too' '
	dag-cli logs l.yaml tidy --date 2026-01-02 >log &&
	log_line 1 "^$stamp dag-cli: tidy 2026-01-02 attempt 1 started\$" &&
	test_grep "^clean: 1 records read, 1 written, 0 rejected" log &&
	log_line last "^$stamp dag-cli: tidy 2026-01-02 attempt 1 done in "
'

test_expect_success 'a failed attempt ends with the stamped reason' '
	dag-cli logs l.yaml middle --date 2026-01-02 >log &&
	log_line last "^$stamp dag-cli: middle 2026-01-02 attempt 1: exit status 2\$"
'

test_expect_success 'logs of an upstream_failed instance names the need that failed, and its log' '
	test_expect_code 1 dag-cli logs l.yaml last --date 2026-01-02 >out 2>err &&
	test_cmp /dev/null out &&
	cat >expect <<-\EOF &&
	dag-cli logs: no attempt of last 2026-01-02 is recorded, so there is no log; it is upstream_failed: needs middle 2026-01-02, which failed
	middle 2026-01-02 failed (attempt 1); its log: .dag-state/logs/l/middle/2026-01-02.1.log
	(dag-cli logs l middle --date 2026-01-02)
	EOF
	test_cmp expect err
'

test_expect_success 'an instance never run, before any state database, says what it is' '
	test_expect_code 1 dag-cli logs l.yaml first --date 2026-01-05 --state none/state.db 2>err &&
	echo "dag-cli logs: no attempt of first 2026-01-05 is recorded, so there is no log; it is missing: target missing: o/first-2026-01-05" >expect &&
	test_cmp expect err
'

# The scheduler's own pid, not a shell's that may stand between.
sched_pid() {
	c=$(pgrep -x -P "$1" dag-cli)
	echo "${c:-$1}"
}

# wait_for FILE: up to 20 s for FILE to exist.
wait_for() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -lt 400 ] || return 1
		sleep 0.05
	done
}

test_expect_success 'setup: a task that waits for a go' '
	daily_dag w <<-\EOF
	tasks:
	  w:
	    kind: command
	    run: "touch running-{date}; while [ ! -e go ]; do sleep 0.05; done; echo x > {target}"
	    target: "o/w-{date}"
	EOF
'

test_expect_success 'the next log is made ahead, empty, while an attempt runs; gone at the end' '
	rm -f go &&
	(dag-cli backfill w.yaml --from 2026-01-01 --to 2026-01-02 -j 1 >out 2>&1) &
	pid=$! &&
	wait_for running-2026-01-01 &&
	spare=.dag-state/logs/w/w/.next-$(sched_pid $pid).log &&
	{ test -f $spare && test_cmp /dev/null $spare; made=$?; } &&
	touch go &&
	wait $pid &&
	test $made = 0 &&
	! test -e $spare &&
	find .dag-state/logs/w -name ".*" >left &&
	test_cmp /dev/null left &&
	dag-cli logs w.yaml w --date 2026-01-02 >log &&
	test $(wc -l <log) = 2 &&
	log_line 1 "^$stamp dag-cli: w 2026-01-02 attempt 1 started\$" &&
	log_line last "^$stamp dag-cli: w 2026-01-02 attempt 1 done in "
'

test_expect_success 'a log left at an attempt'"'"'s name by an older state is replaced whole' '
	rm -f .dag-state/state.db* &&
	echo stale >>.dag-state/logs/w/w/2026-01-02.1.log &&
	dag-cli backfill w.yaml --from 2026-01-01 --to 2026-01-02 -j 1 \
		--force w >out &&
	dag-cli logs w.yaml w --date 2026-01-02 >log &&
	! grep stale log &&
	test $(wc -l <log) = 2
'

test_expect_success 'after a kill -9, the run that takes a lease over removes the dead run'"'"'s next log' '
	rm -f go running-* &&
	(dag-cli backfill w.yaml --from 2026-01-03 --to 2026-01-04 -j 1 >out 2>&1) &
	pid=$! &&
	wait_for running-2026-01-03 &&
	dead=$(sched_pid $pid) &&
	kill -9 $dead &&
	{ wait $pid; test $? = 137; } &&
	touch go &&
	test -f .dag-state/logs/w/w/.next-$dead.log &&
	dag-cli backfill w.yaml --from 2026-01-03 --to 2026-01-04 -j 1 >out &&
	test -f o/w-2026-01-04 &&
	find .dag-state/logs/w -name ".*" >left &&
	test_cmp /dev/null left
'

test_done
