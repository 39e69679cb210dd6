#!/bin/sh
test_description='external inputs: missing is exit 3 (not a failure), poll waits without a slot, found inputs run'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	daily_dag ext <<-\EOF
	tasks:
	  arrived:
	    kind: external-check
	    target: "incoming/{date}.csv"
	  copy:
	    kind: command
	    needs: [arrived]
	    run: "cp {needs.arrived.target} {target}"
	    target: "copied/{date}.csv"
	  other:
	    kind: command
	    run: "echo other > {target}"
	    target: "other/{date}"
	EOF
'

test_expect_success 'a missing external input: exit 3, its dependants wait, the rest runs' '
	run_summary 3 run ext.yaml --date 2026-01-02 <<-EOF &&
	1 blocked: arrived 2026-01-02 missing: $PWD/incoming/2026-01-02.csv
	ext: 1 ran, 1 done, 0 failed, 0 upstream failed, 1 waiting, 1 blocked
	EOF
	test -e other/2026-01-02 &&
	test ! -e copied/2026-01-02.csv
'

test_expect_success 'status shows the waiting instances' '
	grid_is ext.yaml --date 2026-01-02 <<-\EOF
	partition     arrived         copy            other
	2026-01-02    waiting         waiting         done
	EOF
'

test_expect_success 'once the input arrives the run completes: exit 0' '
	mkdir -p incoming &&
	echo "id" >incoming/2026-01-02.csv &&
	dag-cli run ext.yaml --date 2026-01-02 >out &&
	test_cmp incoming/2026-01-02.csv copied/2026-01-02.csv
'

test_expect_success 'setup: the same input with poll' '
	daily_dag poll <<-\EOF
	tasks:
	  arrived:
	    kind: external-check
	    poll: 100ms
	    timeout: 20s
	    target: "incoming/{date}.csv"
	  copy:
	    kind: command
	    needs: [arrived]
	    run: "cp {needs.arrived.target} {target}"
	    target: "copied/{date}.csv"
	EOF
'

test_expect_success 'poll: the input appears while the run waits' '
	(sleep 0.5 && echo "id" >incoming/.part && mv incoming/.part incoming/2026-01-03.csv) &
	dag-cli run poll.yaml --date 2026-01-03 -j 1 >out &&
	test_grep "poll: 1 ran, 2 done, 0 failed" out &&
	test_cmp incoming/2026-01-03.csv copied/2026-01-03.csv
'

test_expect_success 'poll: an input that never comes waits until the timeout, exit 3' '
	sed -i -e "s/timeout: 20s/timeout: 300ms/" poll.yaml &&
	test_expect_code 3 dag-cli run poll.yaml --date 2026-01-04 >out &&
	test_grep "^1 blocked: arrived 2026-01-04 missing: $PWD/incoming/2026-01-04.csv" out
'

test_done
