#!/bin/sh
test_description='sql: statements in one transaction, partition values bound, marker row'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-warehouse.sh"

test_expect_success 'setup' '
	cat >agg.yaml <<-\EOT
	database: wh.db
	target: {table: daily}
	sql: |
	  CREATE TABLE IF NOT EXISTS daily (part TEXT, day TEXT, hour TEXT,
	    s TEXT, e TEXT);
	  DELETE FROM daily WHERE day = :date;
	  -- a comment between statements
	  INSERT INTO daily VALUES (:partition, :date, @hour, $start, :end);
	  INSERT INTO daily SELECT part || '"'"'+'"'"', day, hour, s, e FROM daily
	   WHERE part = :partition;
	EOT
	true
'

test_expect_success 'parameters are bound; the marker row commits with the data' '
	helper run-kind sql agg.yaml 2026-11-01 >res &&
	echo "{\"records_in\": -1, \"records_out\": 2, \"records_rejected\": -1}" >expect &&
	test_cmp expect res &&
	q_is "SELECT * FROM daily" <<-\EOT &&
	2026-11-01|2026-11-01|00|2026-11-01T00:00:00+00:00|2026-11-02T00:00:00+00:00
	2026-11-01+|2026-11-01|00|2026-11-01T00:00:00+00:00|2026-11-02T00:00:00+00:00
	EOT
	q "SELECT table_name, partition, dag, task, records FROM _dag_loads" >got &&
	echo "daily|2026-11-01|test|task|2" >expect &&
	test_cmp expect got
'

test_expect_success 'a rerun gives the same rows' '
	helper run-kind sql agg.yaml 2026-11-01 >res &&
	q "SELECT count(*) FROM daily" >got &&
	echo 2 >expect &&
	test_cmp expect got
'

test_expect_success 'values are bound, never spliced into the text' '
	helper run-kind sql agg.yaml "2026-11-02'"'"'); DROP TABLE daily; --" >res &&
	q_is "SELECT part FROM daily ORDER BY 1" <<-\EOT
	2026-11-01
	2026-11-01+
	2026-11-02'"'"'); DROP TABLE daily; --
	2026-11-02'"'"'); DROP TABLE daily; --+
	EOT
'

test_expect_success 'a failing statement rolls back the earlier ones and writes no marker' '
	cat >fail.yaml <<-\EOT &&
	database: wh.db
	table: daily
	sql: |
	  INSERT INTO daily VALUES (:partition, 1, 2, 3, 4);
	  INSERT INTO nowhere VALUES (1);
	EOT
	test_expect_code 1 helper run-kind sql fail.yaml 2026-11-09 >res &&
	echo "error: task '"'"'task'"'"': statement 2: no such table: nowhere" >expect &&
	head -1 res >got &&
	test_cmp expect got &&
	q "SELECT count(*) FROM daily WHERE part = '"'"'2026-11-09'"'"'" >got &&
	echo 0 >expect &&
	test_cmp expect got &&
	marker_is wh.db daily 2026-11-09 0
'

test_expect_success 'an unknown parameter is an error naming it' '
	printf "database: wh.db\ntable: t\nsql: SELECT :day\n" >param.yaml &&
	test_expect_code 1 helper run-kind sql param.yaml >res &&
	echo "error: task '"'"'task'"'"': statement 1: unknown parameter '"'"':day'"'"' (expected :partition, :date, :hour, :start or :end)" >expect &&
	head -1 res >got &&
	test_cmp expect got
'

test_expect_success 'COMMIT inside sql: is refused, nothing is committed' '
	printf "database: wh.db\ntable: t\nsql: \"INSERT INTO daily VALUES (1,2,3,4,5); COMMIT; BEGIN\"\n" >commit.yaml &&
	test_expect_code 1 helper run-kind sql commit.yaml >res &&
	test_grep "statement 2: BEGIN, COMMIT and ROLLBACK are not allowed" res &&
	q "SELECT count(*) FROM daily WHERE part = '"'"'1'"'"'" >got &&
	echo 0 >expect &&
	test_cmp expect got
'

test_expect_success 'braces in sql are not templates' '
	printf "%s\n" "database: wh.db" "table: braces" "sql: CREATE TABLE IF NOT EXISTS braces AS SELECT '"'"'{date}'"'"' AS x" >braces.yaml &&
	helper run-kind sql braces.yaml >res &&
	q "SELECT x FROM braces" >got &&
	echo "{date}" >expect &&
	test_cmp expect got
'

test_done
