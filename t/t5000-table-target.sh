#!/bin/sh
test_description='table targets: complete exactly when the marker row exists'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-warehouse.sh"

test_expect_success 'a missing database, or one without markers, is not complete' '
	marker_is none.db t 2026-11-01 0 &&
	sqlite3 empty.db "CREATE TABLE t (x)" &&
	marker_is empty.db t 2026-11-01 0
'

test_expect_success 'a load marks its own table and partition only' '
	printf "database: wh.db\ntarget: {table: t}\nsql: CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS x\n" >t.yaml &&
	helper run-kind sql t.yaml 2026-11-01 >res &&
	marker_is wh.db t 2026-11-01 1 &&
	marker_is wh.db t 2026-11-02 0 &&
	marker_is wh.db u 2026-11-01 0
'

test_expect_success 'the marker table has the documented shape' '
	sqlite3 wh.db ".schema _dag_loads" >got &&
	cat >expect <<-\EOT &&
	CREATE TABLE _dag_loads ( table_name TEXT NOT NULL, partition TEXT NOT NULL, dag TEXT, task TEXT, records INTEGER, loaded_at TEXT NOT NULL DEFAULT (strftime('"'"'%Y-%m-%dT%H:%M:%SZ'"'"','"'"'now'"'"')), PRIMARY KEY (table_name, partition));
	EOT
	test_cmp expect got &&
	sqlite3 wh.db "PRAGMA journal_mode" >got &&
	echo wal >expect &&
	test_cmp expect got
'

test_expect_success 'a check does not wait for a writer (WAL)' '
	(echo "BEGIN IMMEDIATE; INSERT INTO t VALUES (2);" && sleep 2 &&
	 echo "ROLLBACK;") | sqlite3 wh.db &
	locker=$!
	sleep 0.5 &&
	marker_is wh.db t 2026-11-01 1 &&
	wait $locker
'

test_expect_success 'a file that is not a database is an error, not "missing"' '
	echo "this is no database, just a line of text long enough" >bad.db &&
	test_expect_code 1 helper table-target bad.db t 2026-11-01 >got &&
	echo "error: cannot read the marker table: file is not a database" >expect &&
	test_cmp expect got
'

test_expect_success 'plan reads a marker table once for many partitions, per table' '
	daily_dag w <<-\EOF &&
	tasks:
	  agg:
	    kind: sql
	    database: wh.db
	    sql: "CREATE TABLE IF NOT EXISTS t(x)"
	    target: {table: t}
	EOF
	rm -f wh.db &&
	sqlite3 wh.db "CREATE TABLE _dag_loads (table_name TEXT NOT NULL,
		partition TEXT NOT NULL, dag TEXT, task TEXT, records INTEGER,
		loaded_at TEXT NOT NULL DEFAULT (datetime()),
		PRIMARY KEY (table_name, partition));
		INSERT INTO _dag_loads (table_name, partition) VALUES
		(\"t\", \"2026-01-01\"), (\"t\", \"2026-01-03\"),
		(\"u\", \"2026-01-02\");" &&
	dag-cli plan w.yaml --from 2026-01-01 --to 2026-01-04 >out &&
	grep "^2026-01-0[1-4]  agg" out >states &&
	cat >expect <<-\EOF &&
	2026-01-01  agg   done     complete: table t, partition 2026-01-01
	2026-01-02  agg   run      target missing: table t, partition 2026-01-02
	2026-01-03  agg   done     complete: table t, partition 2026-01-03
	2026-01-04  agg   run      target missing: table t, partition 2026-01-04
	EOF
	test_cmp expect states
'

test_done
