#!/bin/sh
test_description='built-in instances run in long-lived workers: same targets as DAG_EXECUTOR=local, a killed worker fails only its instance, retirement, timeouts'
. "$(dirname "$0")/lib.sh"

# DAG_WORKER_TRACE makes the scheduler append what its workers do, one
# line each: "start PID", "run PID TASK PARTITION", "retire PID WHY",
# "exit PID STATUS SIGNAL".
count() {
	grep -c "^$1 " "${2:-trace}" || true
}

# wait_for_line PATTERN: poll the trace until a line matches (60 s).
wait_for_line() {
	n=600
	while ! grep -q -e "$1" trace 2>/dev/null; do
		n=$((n - 1))
		test $n -gt 0 || { echo "no line $1 in the trace"; cat out; return 1; }
		sleep 0.1
	done
}

test_expect_success 'setup: loads and SQL over a month, commands after them' '
	mkdir -p in &&
	for d in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 \
		21 22 23 24 25 26 27 28 29 30; do
		printf "id,n\n1,$d\n2,$d\n3,$d\n" >in/2026-01-$d.csv || return 1
	done &&
	daily_dag m <<-\EOF
	tasks:
	  load:
	    kind: fact-load
	    input: "in/{date}.csv"
	    database: wh.db
	    table: raw
	    partition_column: day
	  agg:
	    kind: sql
	    needs: [load]
	    database: wh.db
	    target: {table: agg}
	    sql: |
	      CREATE TABLE IF NOT EXISTS agg (day TEXT PRIMARY KEY, rows INTEGER,
	        total INTEGER);
	      DELETE FROM agg WHERE day = :partition;
	      INSERT INTO agg SELECT :partition, count(*), sum(n) FROM raw
	       WHERE day = :partition;
	  report:
	    kind: command
	    needs: [agg]
	    run: "echo {date} > {target}"
	    target: "out/{date}.txt"
	EOF
	mkdir -p local/out workers/out &&
	cp -R in m.yaml local/ &&
	cp -R in m.yaml workers/
'

dump() {
	sqlite3 "$1/wh.db" "SELECT day, id, n FROM raw ORDER BY day, id;
		SELECT * FROM agg ORDER BY day;
		SELECT table_name, partition, records FROM _dag_loads
		 ORDER BY table_name, partition" &&
	ls "$1/out" &&
	cat "$1"/out/*
}

test_expect_success 'a month through two workers: the targets of DAG_EXECUTOR=local' '
	(cd local && DAG_EXECUTOR=local DAG_WORKER_TRACE=$PWD/trace \
		dag-cli backfill m.yaml --from 2026-01-01 --to 2026-01-30 -j 2 >res) &&
	test ! -e local/trace &&
	(cd workers && DAG_WORKER_TRACE=$PWD/trace \
		dag-cli backfill m.yaml --from 2026-01-01 --to 2026-01-30 -j 2 >res) &&
	test_grep "90 ran, 90 done, 0 failed" workers/res &&
	dump local >expect &&
	dump workers >actual &&
	test_cmp expect actual &&
	test "$(count run workers/trace)" = 60 &&
	test "$(count start workers/trace)" -le 2 &&
	test "$(grep -c "^run .* report " workers/trace)" = 0
'

test_expect_success 'workers leave when the run ends' '
	for p in $(sed -n "s/^start //p" workers/trace); do
		! kill -0 $p 2>/dev/null || return 1
	done
'

test_expect_success 'a worker killed while idle: the next instance gets another' '
	cat >kill-worker.sh <<-\EOF &&
	pid=$(sed -n "s/^run \([0-9]*\) a .*/\1/p" trace)
	kill -9 $pid
	# Until it has exited (a zombie, or reaped): its socket is closed.
	n=3000
	while ps -o stat= -p $pid | grep -qv Z; do
		n=$((n - 1))
		test $n -gt 0 || exit 1
		sleep 0.01
	done
	EOF
	daily_dag idle 2026-04-01 <<-\EOF &&
	tasks:
	  a:
	    kind: sql
	    database: idle.db
	    target: {table: a}
	    sql: "CREATE TABLE IF NOT EXISTS a (day TEXT); INSERT INTO a VALUES (:date)"
	  k:
	    kind: command
	    needs: [a]
	    run: "sh kill-worker.sh && touch {target}"
	    target: "killed-{date}"
	  b:
	    kind: sql
	    needs: [k]
	    database: idle.db
	    target: {table: b}
	    sql: "CREATE TABLE IF NOT EXISTS b (day TEXT); INSERT INTO b VALUES (:date)"
	EOF
	rm -f trace &&
	DAG_WORKER_TRACE=$PWD/trace dag-cli run idle.yaml --date 2026-04-01 \
		-j 1 >out 2>&1 &&
	test_grep "3 ran, 3 done, 0 failed" out &&
	test "$(count start)" = 2 &&
	sqlite3 idle.db "SELECT * FROM a; SELECT * FROM b" >actual &&
	printf "2026-04-01\n2026-04-01\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a worker is retired after DAG_WORKER_MAX_INSTANCES' '
	mkdir -p retire/out &&
	cp -R in m.yaml retire/ &&
	(cd retire && DAG_WORKER_MAX_INSTANCES=4 DAG_WORKER_TRACE=$PWD/trace \
		dag-cli backfill m.yaml --from 2026-01-01 --to 2026-01-05 -j 1 >res) &&
	test_grep "15 ran, 15 done, 0 failed" retire/res &&
	test "$(count run retire/trace)" = 10 &&
	test "$(count start retire/trace)" = 3 &&
	test "$(grep -c "^retire [0-9]* instances" retire/trace)" = 2 &&
	sqlite3 retire/wh.db "SELECT count(*), sum(n) FROM raw;
		SELECT count(*), sum(rows) FROM agg" >actual &&
	printf "15|45\n5|15\n" >expect &&
	test_cmp expect actual
'

# spin_dag NAME TABLE [FIELD]: a load of three rows into TABLE whose SQL
# then spins for as long as its day's row of ctl says so, holding the
# load's transaction open.
spin_dag() {
	cat <<-EOF
	dag: $1
	schedule: daily
	timezone: UTC
	start: 2026-02-01
	tasks:
	  facts:
	    kind: sql
	    database: spin.db
	    target: {table: $2}
	    ${3:-retries: 0}
	    sql: |
	      CREATE TABLE IF NOT EXISTS $2 (day TEXT, k INTEGER);
	      INSERT INTO $2 VALUES (:date, 1), (:date, 2), (:date, 3);
	      WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
	       WHERE (SELECT spin FROM ctl WHERE day = :date))
	      SELECT count(*) FROM c;
	EOF
}

test_expect_success 'setup: a load that can be made to spin' '
	sqlite3 spin.db "CREATE TABLE ctl (day TEXT PRIMARY KEY, spin INTEGER);
		INSERT INTO ctl VALUES (\"2026-02-01\", 1), (\"2026-02-02\", 0),
		(\"2026-02-03\", 1), (\"2026-02-04\", 0)" &&
	spin_dag spin facts >spin.yaml &&
	spin_dag spint facts_t "timeout: 1s" >spin-t.yaml &&
	dag-cli validate spin.yaml spin-t.yaml
'

attempt() {
	sqlite3 .dag-state/state.db "SELECT partition, attempt, state, exit_code,
		signal FROM attempts WHERE dag = '$1' ORDER BY partition,
		attempt"
}

# spin_to_load FROM TO: backfill spin.yaml over FROM .. TO (-j 1) in the
# background, its exit status into rc, its workers traced into trace;
# once a worker runs facts of FROM, job is the backfill's pid and pid
# that worker's.
spin_to_load() {
	rm -f trace &&
	(DAG_WORKER_TRACE=$PWD/trace dag-cli backfill spin.yaml \
		--from "$1" --to "$2" -j 1 >out 2>&1; echo $? >rc) &
	job=$! &&
	wait_for_line "^run [0-9]* facts $1\$" &&
	pid=$(sed -n "s/^run \([0-9]*\) facts $1\$/\1/p" trace)
}

test_expect_success 'kill -9 of a worker mid-load fails only its instance, with the signal' '
	spin_to_load 2026-02-01 2026-02-02 &&
	kill -9 $pid &&
	wait $job &&
	test "$(cat rc)" = 1 &&
	test_grep "2 ran, 1 done, 1 failed" out &&
	cat >expect <<-\EOF &&
	2026-02-01|1|failed||9
	2026-02-02|1|done|0|
	EOF
	attempt spin >actual &&
	test_cmp expect actual &&
	test "$(count start)" = 2 &&
	grep "^run [0-9]* facts 2026-02-02" trace >second &&
	! test_grep "^run $pid " second &&
	dag-cli logs spin.yaml facts --date 2026-02-01 >log &&
	test_grep "killed by signal 9" log
'

test_expect_success 'no partial target: nothing of the killed load committed' '
	sqlite3 spin.db "SELECT day, count(*) FROM facts GROUP BY day;
		SELECT partition FROM _dag_loads WHERE table_name = \"facts\"" >actual &&
	printf "2026-02-02|3\n2026-02-02\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the next run completes it, without duplicate rows' '
	sqlite3 spin.db "UPDATE ctl SET spin = 0" &&
	dag-cli backfill spin.yaml --from 2026-02-01 --to 2026-02-02 -j 1 >out &&
	test_grep "1 ran, 1 done, 0 failed" out &&
	sqlite3 spin.db "SELECT day, k, count(*) FROM facts GROUP BY day, k" >actual &&
	cat >expect <<-\EOF &&
	2026-02-01|1|1
	2026-02-01|2|1
	2026-02-01|3|1
	2026-02-02|1|1
	2026-02-02|2|1
	2026-02-02|3|1
	EOF
	test_cmp expect actual
'

test_expect_success 'kill -9 of the scheduler mid-load: its worker dies too, nothing partial' '
	sqlite3 spin.db "INSERT INTO ctl VALUES (\"2026-02-05\", 1)" &&
	spin_to_load 2026-02-05 2026-02-05 &&
	sched=$(ps -o ppid= -p $pid) &&
	kill -9 $sched &&
	wait $job &&
	test "$(cat rc)" = 137 &&
	n=600 &&
	while kill -0 $pid 2>/dev/null; do
		n=$((n - 1)) && test $n -gt 0 && sleep 0.1 || return 1
	done &&
	sqlite3 spin.db "SELECT count(*) FROM facts WHERE day = \"2026-02-05\";
		SELECT count(*) FROM _dag_loads WHERE partition = \"2026-02-05\"" >actual &&
	printf "0\n0\n" >expect &&
	test_cmp expect actual &&
	sqlite3 spin.db "UPDATE ctl SET spin = 0 WHERE day = \"2026-02-05\"" &&
	dag-cli backfill spin.yaml --from 2026-02-05 --to 2026-02-05 -j 1 >out &&
	test_grep "1 ran, 1 done, 0 failed" out &&
	sqlite3 spin.db "SELECT k, count(*) FROM facts WHERE day = \"2026-02-05\"
		GROUP BY k" >actual &&
	printf "1|1\n2|1\n3|1\n" >expect &&
	test_cmp expect actual
'

# env_of PID: its environment, one variable a line.  (glibc may cut
# GLIBC_TUNABLES at its colons in place, so a tunable after the first
# can show as a line of its own.)
env_of() {
	tr "\0" "\n" <"/proc/$1/environ"
}

test_expect_success 'workers ask malloc for huge pages, the user'"'"'s tunables kept' '
	sqlite3 spin.db "INSERT INTO ctl VALUES (\"2026-02-06\", 1),
		(\"2026-02-07\", 1)" &&
	GLIBC_TUNABLES=glibc.malloc.tcache_count=5 &&
	export GLIBC_TUNABLES &&
	spin_to_load 2026-02-06 2026-02-06 &&
	sched=$(ps -o ppid= -p $pid) &&
	env_of $pid >worker &&
	env_of $sched >scheduler &&
	kill -9 $pid &&
	wait $job &&
	grep "^GLIBC_TUNABLES=glibc.malloc.hugetlb=1\(:\|$\)" worker &&
	grep "glibc.malloc.tcache_count=5$" worker &&
	grep "^GLIBC_TUNABLES=glibc.malloc.tcache_count=5$" scheduler &&
	GLIBC_TUNABLES=glibc.malloc.hugetlb=0 &&
	spin_to_load 2026-02-07 2026-02-07 &&
	env_of $pid >worker &&
	kill -9 $pid &&
	wait $job &&
	unset GLIBC_TUNABLES &&
	grep "^GLIBC_TUNABLES=glibc.malloc.hugetlb=0$" worker &&
	! grep "hugetlb=1" worker
'

test_expect_success 'a timeout kills the worker that overran; the next instance gets another' '
	sqlite3 spin.db "UPDATE ctl SET spin = 1 WHERE day = \"2026-02-03\"" &&
	rm -f trace &&
	test_expect_code 1 env DAG_WORKER_TRACE=$PWD/trace dag-cli backfill \
		spin-t.yaml --from 2026-02-03 --to 2026-02-04 -j 1 >out 2>&1 &&
	test_grep "2 ran, 1 done, 1 failed" out &&
	cat >expect <<-\EOF &&
	2026-02-03|1|timeout
	2026-02-04|1|done
	EOF
	attempt spint | cut -d"|" -f1-3 >actual &&
	test_cmp expect actual &&
	test "$(count start)" = 2 &&
	sqlite3 spin.db "SELECT DISTINCT day FROM facts_t" >actual &&
	echo 2026-02-04 >expect &&
	test_cmp expect actual
'

test_expect_success 'setup: instances that would see what the one before left' '
	daily_dag iso 2026-03-01 <<-\EOF
	tasks:
	  prep:
	    kind: command
	    needs: [{task: use, offset: -1d}]
	    run: "sqlite3 iso.db \"DROP TABLE IF EXISTS src; CREATE TABLE src (v TEXT, w TEXT); INSERT INTO src VALUES ('"'"'{date}'"'"', 1)\" && touch {target}"
	    target: "prep-{date}"
	  use:
	    kind: sql
	    needs: [prep]
	    database: iso.db
	    target: {table: seen}
	    sql: |
	      CREATE TABLE IF NOT EXISTS seen (day TEXT, v TEXT);
	      INSERT INTO seen SELECT :date, v FROM src;
	  tmp:
	    kind: sql
	    database: iso.db
	    target: {table: seen_tmp}
	    sql: |
	      CREATE TABLE IF NOT EXISTS seen_tmp (day TEXT);
	      CREATE TEMP TABLE scratch AS SELECT :date AS d;
	      INSERT INTO seen_tmp SELECT d FROM scratch;
	  fail:
	    kind: sql
	    database: iso.db
	    target: {table: seen_f}
	    sql: |
	      CREATE TABLE IF NOT EXISTS seen_f (day TEXT);
	      INSERT INTO seen_f VALUES (:date);
	      SELECT CASE WHEN :date = '"'"'2026-03-02'"'"' THEN json('"'"'{bad'"'"') END;
	EOF
	dag-cli validate iso.yaml
'

test_expect_success 'one worker: no temp table, open transaction or old schema crosses instances' '
	rm -f trace &&
	test_expect_code 1 env DAG_WORKER_TRACE=$PWD/trace dag-cli backfill \
		iso.yaml --from 2026-03-01 --to 2026-03-04 -j 1 >out 2>&1 &&
	test_grep "16 ran, 15 done, 1 failed" out &&
	test "$(count start)" = 1 &&
	sqlite3 iso.db "SELECT * FROM seen; SELECT * FROM seen_tmp;
		SELECT * FROM seen_f" >actual &&
	cat >expect <<-\EOF &&
	2026-03-01|2026-03-01
	2026-03-02|2026-03-02
	2026-03-03|2026-03-03
	2026-03-04|2026-03-04
	2026-03-01
	2026-03-02
	2026-03-03
	2026-03-04
	2026-03-01
	2026-03-03
	2026-03-04
	EOF
	sort actual >sorted &&
	sort expect >expect.sorted &&
	test_cmp expect.sorted sorted
'

test_expect_success 'setup: a marker table dropped and made again between instances' '
	daily_dag mk 2026-04-01 <<-\EOF
	tasks:
	  wipe:
	    kind: command
	    needs: [{task: mark, offset: -1d}]
	    run: "case {date} in *[13]) q=\"DROP TABLE IF EXISTS _dag_loads\";; *) q=\"DROP TABLE IF EXISTS _dag_loads; CREATE TABLE _dag_loads (extra INTEGER DEFAULT 7, table_name TEXT NOT NULL, partition TEXT NOT NULL, dag TEXT, task TEXT, records INTEGER, loaded_at TEXT, PRIMARY KEY (table_name, partition))\";; esac; sqlite3 mk.db \"$q\" && touch {target}"
	    target: "wipe-{date}"
	  mark:
	    kind: sql
	    needs: [wipe]
	    database: mk.db
	    target: {table: marks}
	    sql: |
	      CREATE TABLE IF NOT EXISTS marks (day TEXT);
	      INSERT INTO marks VALUES (:date);
	EOF
	dag-cli validate mk.yaml
'

test_expect_success 'one worker: its kept statements follow a marker table made again' '
	rm -f trace &&
	env DAG_WORKER_TRACE=$PWD/trace dag-cli backfill mk.yaml \
		--from 2026-04-01 --to 2026-04-04 -j 1 >out 2>&1 &&
	test_grep "8 ran, 8 done, 0 failed" out &&
	test "$(count start)" = 1 &&
	sqlite3 mk.db "SELECT count(*) FROM marks;
		SELECT extra, table_name, partition, task FROM _dag_loads" >actual &&
	cat >expect <<-\EOF &&
	4
	7|marks|2026-04-04|mark
	EOF
	test_cmp expect actual
'

test_expect_success 'one worker: an sql instance after another still may not COMMIT' '
	daily_dag tx 2026-05-01 <<-\EOF &&
	tasks:
	  ok:
	    kind: sql
	    database: tx.db
	    target: {table: oks}
	    sql: |
	      CREATE TABLE IF NOT EXISTS oks (day TEXT);
	      INSERT INTO oks VALUES (:date);
	  bad:
	    kind: sql
	    needs: [ok]
	    database: tx.db
	    target: {table: bads}
	    sql: |
	      CREATE TABLE IF NOT EXISTS bads (day TEXT);
	      INSERT INTO bads VALUES (:date);
	      COMMIT;
	EOF
	rm -f trace &&
	test_expect_code 1 env DAG_WORKER_TRACE=$PWD/trace dag-cli backfill \
		tx.yaml --from 2026-05-01 --to 2026-05-02 -j 1 >out 2>&1 &&
	test_grep "4 ran, 2 done, 2 failed" out &&
	test_grep "COMMIT and ROLLBACK are not allowed" out &&
	test "$(count start)" = 1 &&
	sqlite3 tx.db "SELECT count(*) FROM oks;
		SELECT count(*) FROM sqlite_master WHERE name = '"'"'bads'"'"';
		SELECT count(*) FROM _dag_loads WHERE table_name = '"'"'bads'"'"'" >actual &&
	printf "2\n0\n0\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'DAG_EXECUTOR takes workers or local, nothing else' '
	test_expect_code 2 env DAG_EXECUTOR=remote dag-cli run spin.yaml \
		--date 2026-02-05 >out 2>err &&
	test_grep "DAG_EXECUTOR" err
'

test_done
