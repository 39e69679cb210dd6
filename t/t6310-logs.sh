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

test_done
