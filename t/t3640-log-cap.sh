#!/bin/sh
test_description='an attempt log is cut at DAG_LOG_MAX bytes and says so; a log under the cap is whole'
. "$(dirname "$0")/lib.sh"

# size FILE: its size in bytes.
size() {
	wc -c <"$1" | tr -d " "
}

# xs FILE: how many of the command's x characters it holds.
xs() {
	tr -cd x <"$1" | wc -c | tr -d " "
}

test_expect_success 'setup' '
	daily_dag loud <<-\EOF
	tasks:
	  loud:
	    kind: command
	    run: "head -c {n} /dev/zero | tr \"\\\\000\" x; echo; echo last line; echo done > {target}"
	    target: "out/{date}"
	params:
	  n: "3000000"
	EOF
'

test_expect_success 'a command printing 3 MB: the log keeps 100 KiB and says it was cut' '
	DAG_LOG_MAX=100K dag-cli backfill loud.yaml --from 2026-01-01 --to 2026-01-01 >run.out 2>&1 &&
	log=.dag-state/logs/loud/loud/2026-01-01.1.log &&
	test "$(size $log)" -lt 103000 &&
	test_grep "dag-cli: log cut at 102400 bytes" $log &&
	test "$(xs $log)" -gt 100000 &&
	test "$(xs $log)" -lt 102400 &&
	echo done >expect &&
	test_cmp expect out/2026-01-01
'

test_expect_success 'DAG_LOG_MAX=0 means no cap; without it 3 MB is under the default' '
	DAG_LOG_MAX=0 dag-cli backfill loud.yaml --from 2026-01-02 --to 2026-01-02 >run.out 2>&1 &&
	log=.dag-state/logs/loud/loud/2026-01-02.1.log &&
	test "$(xs $log)" = 3000000 &&
	! grep -q "log cut" $log &&
	dag-cli backfill loud.yaml --from 2026-01-03 --to 2026-01-03 >run.out 2>&1 &&
	test "$(xs .dag-state/logs/loud/loud/2026-01-03.1.log)" = 3000000
'

test_expect_success 'a log under the cap is whole' '
	DAG_LOG_MAX=100K dag-cli backfill loud.yaml --from 2026-01-04 --to 2026-01-04 \
		--param n=1000 >run.out 2>&1 &&
	log=.dag-state/logs/loud/loud/2026-01-04.1.log &&
	test "$(xs $log)" = 1000 &&
	test_grep "^last line" $log
'

test_expect_success 'the log of a running command is cut while it runs' '
	cat >wait.yaml <<-\EOF || return 1
	dag: wait
	schedule: daily
	timezone: UTC
	start: 2026-01-01
	tasks:
	  w:
	    kind: command
	    run: "head -c 3000000 /dev/zero | tr \"\\\\000\" x; touch printed; while [ ! -e stop ]; do sleep 0.05; done; echo done > {target}"
	    target: "w/{date}"
	EOF
	(DAG_LOG_MAX=100K dag-cli backfill wait.yaml --from 2026-01-01 --to 2026-01-01 >run.out 2>&1) &
	pid=$! &&
	log=.dag-state/logs/wait/w/2026-01-01.1.log &&
	n=0 &&
	until [ -e printed ] && [ "$(size $log)" -le 102400 ]; do
		n=$((n + 1)); [ $n -lt 600 ] || { touch stop; return 1; }
		sleep 0.05
	done &&
	touch stop &&
	wait $pid &&
	test_grep "log cut at 102400 bytes" $log
'

test_done
