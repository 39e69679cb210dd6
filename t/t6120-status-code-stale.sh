#!/bin/sh
test_description='code staleness: an instance whose resolved definition changed since it ran is stale, naming the field; whitespace, comments, key order and descriptions are not changes'
. "$(dirname "$0")/lib.sh"

# state TASK: the instance's state and reason in status --json.
state() {
	status_of "$1" "" cs.yaml --date 2026-03-01
}

test_expect_success 'setup: a param, a command, and one that needs it' '
	daily_dag cs 2026-03-01 <<-\EOF &&
	params:
	  greeting: hello
	tasks:
	  hello:
	    kind: command
	    run: "echo {greeting} > {target}"
	    target: "said/{date}.txt"
	  shout:
	    kind: command
	    needs: [hello]
	    run: "tr a-z A-Z < {needs.hello.target} > {target}"
	    target: "loud/{date}.txt"
	EOF
	dag-cli run cs.yaml --date 2026-03-01 &&
	echo HELLO >expect &&
	test_cmp expect loud/2026-03-01.txt
'

test_expect_success 'whitespace, comments, key order and a description change nothing' '
	cat >cs.yaml <<-\EOF &&
	# the same pipeline, written differently
	dag: cs
	schedule: daily
	timezone: UTC
	start: 2026-03-01
	params: {greeting: hello}
	tasks:
	  hello:
	    description: says hello
	    target:   "said/{date}.txt"    # moved above run
	    kind: command
	    run: "echo {greeting} > {target}"
	  shout:
	    kind: command
	    needs: [hello]
	    retries: 2
	    target: "loud/{date}.txt"
	    run: "tr a-z A-Z < {needs.hello.target} > {target}"
	EOF
	dag-cli status cs.yaml >grid &&
	! grep stale grid
'

test_expect_success 'a changed param makes the instance stale, naming the field' '
	sed -i "s/greeting: hello/greeting: howdy/" cs.yaml &&
	state_is hello "" stale \
		"^its definition changed since it ran: run$" &&
	state_is shout "" stale \
		"^needs hello 2026-03-01, which is stale$" &&
	dag-cli plan cs.yaml --date 2026-03-01 >plan &&
	test_grep "hello  *stale  *its definition changed since it ran: run" plan
'

test_expect_success '--rerun-stale remakes both in order; a changed target is a new, missing one' '
	dag-cli run cs.yaml --date 2026-03-01 --rerun-stale >out &&
	test_grep "2 ran" out &&
	echo HOWDY >expect &&
	test_cmp expect loud/2026-03-01.txt &&
	dag-cli status cs.yaml >grid &&
	! grep stale grid &&
	sed -i "s|loud/{date}.txt|shout/{date}.txt|" cs.yaml &&
	dag-cli status cs.yaml >grid &&
	test_grep "2026-03-01 *done *missing" grid
'

test_done
