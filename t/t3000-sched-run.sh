#!/bin/sh
test_description='run and backfill: needs first, failures block only their dependants, retries, timeouts, exit codes'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a diamond with one failing branch' '
	daily_dag diamond <<-\EOF &&
	defaults:
	  retry_delay: 10ms
	tasks:
	  src:
	    kind: command
	    run: "echo src {date} > {target}"
	    target: "data/src/{date}.txt"
	  good:
	    kind: command
	    needs: [src]
	    run: "cat {needs.src.target} > {target} && echo good >> {target}"
	    target: "data/good/{date}.txt"
	  bad:
	    kind: command
	    needs: [src]
	    run: "echo about to fail; exit 4"
	    target: "data/bad/{date}.txt"
	  after_bad:
	    kind: command
	    needs: [bad]
	    run: "echo never > {target}"
	    target: "data/after_bad/{date}.txt"
	  after_good:
	    kind: command
	    needs: [good]
	    run: "cp {needs.good.target} {target}"
	    target: "data/after_good/{date}.txt"
	EOF
	mkdir -p dags && cp diamond.yaml dags/
'

test_expect_success 'a failed need blocks its dependants and nothing else' '
	test_expect_code 1 dag-cli run diamond --date 2026-01-02 -j 2 >out 2>err &&
	cat >expect <<-\EOF &&
	failed: bad 2026-01-02 (attempt 1): exit status 4: about to fail
	  log: .dag-state/logs/diamond/bad/2026-01-02.1.log, 1 upstream failed behind it
	diamond: 4 ran, 3 done, 1 failed, 1 upstream failed, 0 waiting, 0 blocked
	EOF
	summary_cmp expect out &&
	printf "src 2026-01-02\ngood\n" >expect &&
	test_cmp expect data/after_good/2026-01-02.txt &&
	test ! -e data/bad/2026-01-02.txt &&
	test ! -e data/after_bad/2026-01-02.txt
'

test_expect_success 'the failed attempt has a log with the output and the reason' '
	dag-cli logs diamond bad --date 2026-01-02 >log &&
	cat >expect <<-\EOF &&
	dag-cli: bad 2026-01-02 attempt 1 started
	about to fail
	dag-cli: bad 2026-01-02 attempt 1: exit status 4
	EOF
	log_unstamp log >unstamped &&
	test_cmp expect unstamped
'

test_expect_success 'no temporary file is left beside any target' '
	find data -name ".*tmp*" >tmps &&
	test_cmp /dev/null tmps
'

test_expect_success 'a rerun runs only what is missing; attempts count on' '
	test_expect_code 1 dag-cli run diamond --date 2026-01-02 --json >out &&
	cat >expect <<-\EOF &&
	{"dag": "diamond", "exit": 1, "done": 0, "failed": 1, "upstream_failed": 1, "waiting": 0, "blocked": 0, "records_in": null, "records_out": null, "records_rejected": null, "elapsed_s": S, "instances": [{"task": "bad", "partition": "2026-01-02", "state": "failed", "attempts": 1, "log": ".dag-state/logs/diamond/bad/2026-01-02.2.log", "error": "exit status 4: about to fail"}, {"task": "after_bad", "partition": "2026-01-02", "state": "upstream_failed", "attempts": 0, "cause": {"task": "bad", "partition": "2026-01-02"}}]}
	EOF
	sed -E "s/\"elapsed_s\": [0-9.e+-]+/\"elapsed_s\": S/" out >got &&
	test_cmp expect got &&
	dag-cli logs diamond bad --date 2026-01-02 --attempt 1 >log1 &&
	test_grep "attempt 1: exit status 4" log1 &&
	dag-cli logs diamond bad --date 2026-01-02 >log2 &&
	test_grep "attempt 2: exit status 4" log2
'

test_expect_success 'every target present: nothing runs, exit 0' '
	daily_dag ok <<-\EOF &&
	tasks:
	  a:
	    kind: command
	    run: "echo {date} >> runs.log; echo {date} > {target}"
	    target: "ok/{date}"
	EOF
	dag-cli backfill ok.yaml --from 2026-01-01 --to 2026-01-03 >out &&
	test_grep "ok: 3 ran, 3 done, 0 failed" out &&
	dag-cli backfill ok.yaml --from 2026-01-01 --to 2026-01-03 >out &&
	test_grep "ok: 0 ran, 0 done, 0 failed" out &&
	test "$(wc -l <runs.log)" -eq 3
'

test_expect_success '--force reruns a task whose target exists' '
	dag-cli run ok.yaml --date 2026-01-02 --force a >out &&
	test_grep "ok: 1 ran, 1 done" out &&
	test "$(grep -c 2026-01-02 runs.log)" = 2
'

test_expect_success 'a flaky task passes on its third attempt' '
	daily_dag flaky <<-\EOF &&
	tasks:
	  f:
	    kind: command
	    retries: 2
	    retry_delay: 20ms
	    run: "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n >n; echo try $n; test $n -ge 3 && echo ok > {target}"
	    target: "flaky/{date}"
	EOF
	dag-cli run flaky.yaml --date 2026-01-01 >out &&
	test_grep "flaky: 1 ran, 1 done, 0 failed" out &&
	echo ok >expect &&
	test_cmp expect flaky/2026-01-01 &&
	dag-cli status flaky.yaml --date 2026-01-01 --json >status &&
	test_grep "\"attempts\": 3" status &&
	dag-cli logs flaky.yaml f --date 2026-01-01 --attempt 2 >log &&
	printf "dag-cli: f 2026-01-01 attempt 2 started\ntry 2\ndag-cli: f 2026-01-01 attempt 2: exit status 1\n" >expect &&
	log_unstamp log >unstamped &&
	test_cmp expect unstamped &&
	dag-cli logs flaky.yaml f --date 2026-01-01 >log &&
	log_unstamp log >unstamped &&
	printf "dag-cli: f 2026-01-01 attempt 3 started\ntry 3\n" >expect &&
	sed "\$d" unstamped >head &&
	test_cmp expect head &&
	tail -n 1 unstamped >last &&
	test_grep "^dag-cli: f 2026-01-01 attempt 3 done in [0-9.]* s\$" last
'

test_expect_success 'retries run out: failed after retries+1 attempts' '
	daily_dag never <<-\EOF &&
	tasks:
	  f:
	    kind: command
	    retries: 1
	    retry_delay: 10ms
	    run: "echo attempt >> attempts; exit 1"
	    target: "never/{date}"
	EOF
	test_expect_code 1 dag-cli run never.yaml --date 2026-01-01 >out &&
	test "$(wc -l <attempts)" = 2 &&
	test_grep "failed: f 2026-01-01 (attempt 2)" out
'

test_expect_success 'a task that times out is killed and recorded as such' '
	daily_dag slow <<-\EOF &&
	tasks:
	  s:
	    kind: command
	    timeout: 200ms
	    run: "echo started; echo partial > {target}; sleep 30"
	    target: "slow/{date}"
	EOF
	test_expect_code 1 dag-cli run slow.yaml --date 2026-01-01 >out &&
	test ! -e slow/2026-01-01 &&
	find slow -name ".*" -type f >tmps &&
	test_cmp /dev/null tmps &&
	dag-cli logs slow.yaml s --date 2026-01-01 >log &&
	printf "dag-cli: s 2026-01-01 attempt 1 started\nstarted\ndag-cli: s 2026-01-01 attempt 1: timed out after 200 ms\n" >expect &&
	log_unstamp log >unstamped &&
	test_cmp expect unstamped
'

test_expect_success 'exit 0 without writing the target is a failure' '
	daily_dag lazy <<-\EOF &&
	tasks:
	  l:
	    kind: command
	    run: "true"
	    target: "lazy/{date}"
	EOF
	test_expect_code 1 dag-cli run lazy.yaml --date 2026-01-01 >out &&
	dag-cli logs lazy.yaml l --date 2026-01-01 >log &&
	test_grep "the command exited 0 but did not write its target .lazy/2026-01-01." log
'

test_expect_success 'a directory target gets _SUCCESS and appears whole' '
	daily_dag dir <<-\EOF &&
	tasks:
	  d:
	    kind: command
	    run: "echo 1 > {target}/a.csv && echo 2 > {target}/b.csv"
	    target: "parts/{date}/"
	EOF
	dag-cli run dir.yaml --date 2026-01-01 >out &&
	ls parts/2026-01-01 >ls &&
	printf "_SUCCESS\na.csv\nb.csv\n" >expect &&
	test_cmp expect ls
'

test_expect_success 'pools: one at a time; -j: at most N at once' '
	daily_dag pool <<-\EOF &&
	pools:
	  db: 1
	tasks:
	  p:
	    kind: command
	    pool: db
	    run: "mkdir lock.d || exit 9; sleep 0.05; rmdir lock.d; echo x > {target}"
	    target: "pool/{date}"
	EOF
	dag-cli backfill pool.yaml --from 2026-01-01 --to 2026-01-06 -j 4 >out &&
	test_grep "pool: 6 ran, 6 done, 0 failed" out
'

test_expect_success 'oldest partition first, newest with --reverse, priority first' '
	daily_dag order <<-\EOF &&
	tasks:
	  low:
	    kind: command
	    run: "echo {task} {date} >> order.log; echo x > {target}"
	    target: "order/low/{date}"
	  high:
	    kind: command
	    priority: 5
	    run: "echo {task} {date} >> order.log; echo x > {target}"
	    target: "order/high/{date}"
	EOF
	dag-cli backfill order.yaml --from 2026-01-01 --to 2026-01-02 -j 1 >out &&
	cat >expect <<-\EOF &&
	high 2026-01-01
	high 2026-01-02
	low 2026-01-01
	low 2026-01-02
	EOF
	test_cmp expect order.log &&
	rm -rf order order.log &&
	dag-cli backfill order.yaml --from 2026-01-01 --to 2026-01-02 -j 1 --reverse >out &&
	cat >expect <<-\EOF &&
	high 2026-01-02
	high 2026-01-01
	low 2026-01-02
	low 2026-01-01
	EOF
	test_cmp expect order.log
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 dag-cli run diamond 2>err &&
	test_grep "give one DAG and --date D" err &&
	test_expect_code 2 dag-cli backfill diamond --from 2026-01-01 2>err &&
	test_expect_code 2 dag-cli run diamond --date 2026-01-01 -j 0 2>err &&
	test_grep "\-j needs at least 1" err &&
	test_expect_code 2 dag-cli run diamond --date 2026-01-01 --force nosuch 2>err &&
	test_grep "unknown task .nosuch. for --force" err &&
	test_expect_code 2 dag-cli run nosuch --date 2026-01-01 2>err
'

test_expect_success '--days-back N is today-N .. today in the DAG zone' '
	DAG_NOW=2026-02-10T12:00:00Z dag-cli backfill ok.yaml --days-back 2 >out &&
	test_grep "ok: 3 ran, 3 done" out &&
	ls ok | grep 2026-02 >ls &&
	printf "2026-02-08\n2026-02-09\n2026-02-10\n" >expect &&
	test_cmp expect ls
'

test_done
