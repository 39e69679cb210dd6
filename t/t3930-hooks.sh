#!/bin/sh
test_description='on_success, on_retry and on_failure hooks: once per event, described in their environment'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-scheduler.sh"

test_expect_success 'setup: tasks that succeed, fail once, and always fail' '
	cat >h.yaml <<-\EOF
	dag: h
	start: 2026-01-01
	defaults:
	  retries: 2
	  retry_delay: 0s
	  on_failure: "echo failure $DAG_NAME $DAG_TASK $DAG_PARTITION $DAG_ATTEMPT $DAG_STATE \"$DAG_ERROR\" $DAG_LOG >> $PWD/hooks.txt"
	  on_retry: "echo retry $DAG_TASK $DAG_ATTEMPT >> $PWD/hooks.txt"
	tasks:
	  fine:
	    kind: command
	    run: "echo ok > {target}"
	    target: "fine-{date}"
	    on_success: "echo success $DAG_TASK $DAG_ATTEMPT $DAG_STATE >> $PWD/hooks.txt"
	  flaky:
	    kind: command
	    run: "if test -f flaked; then echo ok > {target}; else touch flaked; exit 4; fi"
	    target: "flaky-{date}"
	  broken:
	    kind: command
	    run: "echo going wrong > {target}; exit 7"
	    target: "broken-{date}"
	EOF
'

test_expect_success 'each event runs its hook once, the last failure on_failure' '
	test_expect_code 1 dag-cli run h.yaml --date 2026-01-01 >out &&
	wait_for "test \$(wc -l <hooks.txt) -ge 5" &&
	sleep 0.5 &&
	sort hooks.txt >got &&
	log=$PWD/.dag-state/logs/h/broken/2026-01-01.3.log &&
	cat >expect <<-EOF &&
	failure h broken 2026-01-01 3 failed exit status 7 $log
	retry broken 1
	retry broken 2
	retry flaky 1
	success fine 1 done
	EOF
	test_cmp expect got
'

test_expect_success 'a failing hook is logged and changes nothing' '
	rm -rf fine-* flaky-* flaked hooks.txt .dag-state &&
	sed -i "s|on_retry: .*|on_retry: \"exit 9\"|" h.yaml &&
	test_expect_code 1 dag-cli run h.yaml --date 2026-01-01 >out &&
	test -f flaky-2026-01-01 &&
	log=.dag-state/logs/h/flaky/2026-01-01.1.log &&
	wait_for "grep -q \"the on_retry hook failed (exit 9)\" $log"
'

test_expect_success 'hooks are checked like any field' '
	cat >bad.yaml <<-\EOF &&
	dag: bad
	start: 2026-01-01
	tasks:
	  a: {kind: command, run: "true", on_falure: "echo x"}
	EOF
	test_expect_code 2 dag-cli validate bad.yaml 2>err &&
	test_grep "unknown field .on_falure. for kind .command.; did you mean .on_failure.?" err
'

test_done
