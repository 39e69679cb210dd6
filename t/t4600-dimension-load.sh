#!/bin/sh
test_description='dimension-load: SCD1 and SCD2 upserts, types, reruns, a kill mid-load'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-warehouse.sh"

test_expect_success 'setup' '
	printf "%s\n" "line_id,plan,rev,since" "L1,free,10,2024-01-02" \
		"L2,gold,1.5,2024-02-29" "L3,gold,abc,2024-03-01" \
		"L4,silver,7,2023-02-29" "L5,silver,,2024-01-05" ",gold,1,2024-01-01" >day1.csv &&
	cat >scd2.yaml <<-\EOT
	input: day.csv
	database: wh.db
	table: dim_line
	natural_key: [line_id]
	surrogate_key: line_key
	history: scd2
	max_reject_ratio: 0.5
	columns: {line_id: text, plan: text, rev: real, since: date}
	EOT
	cp day1.csv day.csv
'

test_expect_success 'first load: table created with the declared types, rejects listed' '
	helper run-kind dimension-load scd2.yaml 2026-11-01 >res &&
	counts_are 6 3 3 &&
	q ".schema dim_line" >schema &&
	cat >expect <<-\EOT &&
	CREATE TABLE IF NOT EXISTS "dim_line" ("line_key" INTEGER PRIMARY KEY, "line_id" TEXT, "plan" TEXT, "rev" REAL, "since" DATE, valid_from TEXT NOT NULL, valid_to TEXT, current INTEGER NOT NULL);
	CREATE INDEX "dim_line_natural_key" ON "dim_line" ("line_id", current);
	EOT
	sed "s/CREATE TABLE \"dim_line\"/CREATE TABLE IF NOT EXISTS \"dim_line\"/" schema >got &&
	test_cmp expect got &&
	q_is "SELECT * FROM dim_line ORDER BY line_key" <<-\EOT &&
	1|L1|free|10.0|2024-01-02|2026-11-01T00:00:00Z||1
	2|L2|gold|1.5|2024-02-29|2026-11-01T00:00:00Z||1
	3|L5|silver||2024-01-05|2026-11-01T00:00:00Z||1
	EOT
	cat >expect <<-\EOT &&
	line,reason,record
	4,column '"'"'rev'"'"': '"'"'abc'"'"' is not a real,"L3,gold,abc,2024-03-01"
	5,column '"'"'since'"'"': '"'"'2023-02-29'"'"' is not a date,"L4,silver,7,2023-02-29"
	7,empty natural key,",gold,1,2024-01-01"
	EOT
	test_cmp expect wh.db.dim_line.2026-11-01.rejects.csv &&
	q "SELECT table_name, partition, records FROM _dag_loads" >got &&
	echo "dim_line|2026-11-01|3" >expect &&
	test_cmp expect got &&
	marker_is wh.db dim_line 2026-11-01 1
'

test_expect_success 'a changed load closes the old version and opens a new one' '
	printf "%s\n" "line_id,plan,rev,since" "L1,gold,10,2024-01-02" \
		"L2,gold,1.50,2024-02-29" "L6,free,3,2024-06-01" >day.csv &&
	helper run-kind dimension-load scd2.yaml 2026-11-02 >res &&
	q_is "SELECT * FROM dim_line ORDER BY line_key" <<-\EOT &&
	1|L1|free|10.0|2024-01-02|2026-11-01T00:00:00Z|2026-11-02T00:00:00Z|0
	2|L2|gold|1.5|2024-02-29|2026-11-01T00:00:00Z||1
	3|L5|silver||2024-01-05|2026-11-01T00:00:00Z||1
	4|L1|gold|10.0|2024-01-02|2026-11-02T00:00:00Z||1
	5|L6|free|3.0|2024-06-01|2026-11-02T00:00:00Z||1
	EOT
	q "SELECT table_name, partition, records FROM _dag_loads ORDER BY 2" >got &&
	printf "%s\n" "dim_line|2026-11-01|3" "dim_line|2026-11-02|3" >expect &&
	test_cmp expect got
'

test_expect_success 'a rerun of the same partition adds no versions' '
	cp dim.before dim.before 2>/dev/null; q "SELECT * FROM dim_line ORDER BY line_key" >before &&
	helper run-kind dimension-load scd2.yaml 2026-11-02 >res &&
	q "SELECT * FROM dim_line ORDER BY line_key" >after &&
	test_cmp before after
'

test_expect_success 'a rerun with a changed row updates the version it made, in place' '
	printf "%s\n" "line_id,plan,rev,since" "L1,platinum,10,2024-01-02" >day.csv &&
	helper run-kind dimension-load scd2.yaml 2026-11-02 >res &&
	q_is "SELECT * FROM dim_line WHERE line_id = '"'"'L1'"'"' ORDER BY line_key" <<-\EOT
	1|L1|free|10.0|2024-01-02|2026-11-01T00:00:00Z|2026-11-02T00:00:00Z|0
	4|L1|platinum|10.0|2024-01-02|2026-11-02T00:00:00Z||1
	EOT
'

test_expect_success 'an older partition undoes the versions from it on and the later loads' '
	printf "%s\n" "line_id,plan,rev,since" "L1,free,10,2024-01-02" \
		"L9,gold,2,2024-09-09" >day.csv &&
	helper run-kind dimension-load scd2.yaml 2026-10-31 >res 2>log &&
	test_grep "undid 4 versions valid from 2026-10-31T00:00:00Z on, 0 made current again; the 2 later loads 2026-11-01 .. 2026-11-02 are to do again" log &&
	q_is "SELECT * FROM dim_line ORDER BY line_key" <<-\EOT &&
	1|L1|free|10.0|2024-01-02|2026-10-31T00:00:00Z||1
	2|L9|gold|2.0|2024-09-09|2026-10-31T00:00:00Z||1
	EOT
	q "SELECT table_name, partition, records FROM _dag_loads ORDER BY 2" >got &&
	echo "dim_line|2026-10-31|2" >expect &&
	test_cmp expect got
'

test_expect_success 'the later loads again, in order: the rows of a load in order' '
	cp day1.csv day.csv &&
	helper run-kind dimension-load scd2.yaml 2026-11-01 >res 2>log &&
	printf "%s\n" "line_id,plan,rev,since" "L1,gold,10,2024-01-02" \
		"L2,gold,1.50,2024-02-29" "L6,free,3,2024-06-01" >day.csv &&
	helper run-kind dimension-load scd2.yaml 2026-11-02 >res 2>log &&
	q_is "SELECT * FROM dim_line ORDER BY line_key" <<-\EOT
	1|L1|free|10.0|2024-01-02|2026-10-31T00:00:00Z|2026-11-02T00:00:00Z|0
	2|L9|gold|2.0|2024-09-09|2026-10-31T00:00:00Z||1
	3|L2|gold|1.5|2024-02-29|2026-11-01T00:00:00Z||1
	4|L5|silver||2024-01-05|2026-11-01T00:00:00Z||1
	5|L1|gold|10.0|2024-01-02|2026-11-02T00:00:00Z||1
	6|L6|free|3.0|2024-06-01|2026-11-02T00:00:00Z||1
	EOT
'

test_expect_success 'reloading the middle load reopens what it closed' '
	printf "%s\n" "line_id,plan,rev,since" "L2,gold,1.5,2024-02-29" >day.csv &&
	helper run-kind dimension-load scd2.yaml 2026-11-01 >res 2>log &&
	test_grep "undid 4 versions valid from 2026-11-01T00:00:00Z on, 1 made current again; the later load 2026-11-02 is to do again" log &&
	q_is "SELECT * FROM dim_line ORDER BY line_key" <<-\EOT &&
	1|L1|free|10.0|2024-01-02|2026-10-31T00:00:00Z||1
	2|L9|gold|2.0|2024-09-09|2026-10-31T00:00:00Z||1
	3|L2|gold|1.5|2024-02-29|2026-11-01T00:00:00Z||1
	EOT
	q "SELECT partition FROM _dag_loads WHERE table_name = '"'"'dim_line'"'"' ORDER BY 1" >got &&
	printf "%s\n" 2026-10-31 2026-11-01 >expect &&
	test_cmp expect got
'

test_expect_success 'scd1 overwrites in place and keeps surrogate keys' '
	sed -e "s/scd2/scd1/" -e "s/dim_line/dim_plain/" scd2.yaml >scd1.yaml &&
	cp day1.csv day.csv &&
	helper run-kind dimension-load scd1.yaml 2026-11-01 >res &&
	printf "%s\n" "line_id,plan,rev,since" "L2,platinum,2,2024-02-29" \
		"L7,free,1,2024-07-01" "L7,gold,1,2024-07-01" >day.csv &&
	helper run-kind dimension-load scd1.yaml 2026-11-02 >res &&
	q_is "SELECT * FROM dim_plain ORDER BY line_key" <<-\EOT &&
	1|L1|free|10.0|2024-01-02
	2|L2|platinum|2.0|2024-02-29
	3|L5|silver||2024-01-05
	4|L7|gold|1.0|2024-07-01
	EOT
	q "SELECT sql FROM sqlite_master WHERE name = '"'"'dim_plain_natural_key'"'"'" >got &&
	echo "CREATE UNIQUE INDEX \"dim_plain_natural_key\" ON \"dim_plain\" (\"line_id\")" >expect &&
	test_cmp expect got
'

test_expect_success 'an existing table without a declared column is an error' '
	sed -e "s/since: date/since: date, extra: text/" -e "s/^input: .*/input: more.csv/" scd1.yaml >extra.yaml &&
	printf "%s\n" "line_id,plan,rev,since,extra" "L1,free,10,2024-01-02,x" >more.csv &&
	test_expect_code 1 helper run-kind dimension-load extra.yaml 2026-11-03 >res &&
	test_grep "task .task.: table .dim_plain. exists but has no column .extra." res
'

test_expect_success 'too many rejects: nothing loaded, no marker' '
	sed "s/0.5/0.1/" scd1.yaml >strict.yaml &&
	cp day1.csv day.csv &&
	q "SELECT * FROM dim_plain ORDER BY line_key" >before &&
	test_expect_code 1 helper run-kind dimension-load strict.yaml 2026-11-03 >res &&
	test_grep "3 of 6 records rejected, more than max_reject_ratio 0.1 allows" res &&
	q "SELECT * FROM dim_plain ORDER BY line_key" >after &&
	test_cmp before after &&
	marker_is wh.db dim_plain 2026-11-03 0
'

test_expect_success 'setup: a big input through a FIFO' '
	awk "BEGIN { print \"line_id,plan,rev,since\"; for (i = 0; i < 20000; i++) print \"K\" i \",free,1,2024-01-01\" }" >big.csv &&
	mkfifo fifo.csv &&
	sed -e "s/^input: .*/input: fifo.csv/" scd1.yaml >kill.yaml &&
	q "SELECT * FROM dim_plain ORDER BY line_key" >before
'

test_expect_success 'killed mid-load: no row and no marker of that load' '
	kill_mid_load dimension-load kill.yaml 2026-11-04 &&
	q "SELECT * FROM dim_plain ORDER BY line_key" >after &&
	test_cmp before after &&
	marker_is wh.db dim_plain 2026-11-04 0 &&
	sed -e "s/^input: .*/input: big.csv/" scd1.yaml >again.yaml &&
	helper run-kind dimension-load again.yaml 2026-11-04 >res &&
	counts_are 20000 20000 0 &&
	q "SELECT count(*), max(line_key) FROM dim_plain" >got &&
	echo "20004|20004" >expect &&
	test_cmp expect got
'

test_expect_success 'a locked database makes the load wait, not fail' '
	(echo "BEGIN IMMEDIATE; INSERT INTO dim_plain (line_id) VALUES (NULL);" &&
	 sleep 2 && echo "ROLLBACK;") | sqlite3 wh.db &
	locker=$!
	sleep 0.5 &&
	cp day1.csv day.csv &&
	helper run-kind dimension-load scd1.yaml 2026-11-05 >res &&
	wait $locker &&
	marker_is wh.db dim_plain 2026-11-05 1
'

test_expect_success 'a file that is not a database is an error naming the task' '
	echo "not a database, not at all, no; this is plain text padding it out" >bad.db &&
	sed "s/wh.db/bad.db/" scd1.yaml >bad.yaml &&
	test_expect_code 1 helper run-kind dimension-load bad.yaml 2026-11-01 >res &&
	echo "error: task '"'"'task'"'"': cannot use database '"'"'bad.db'"'"': file is not a database" >expect &&
	head -1 res >got &&
	test_cmp expect got
'

test_expect_success 'scd2: a key repeated in one input rewrites the version that load made' '
	sed -e "s/dim_line/dim_rep/" -e "s/^input: .*/input: rep.csv/" scd2.yaml >rep.yaml &&
	printf "%s\n" "line_id,plan,rev,since" "R1,free,1,2024-01-01" \
		"R2,gold,2,2024-01-02" "R1,gold,3,2024-01-03" "R1,gold,3,2024-01-03" >rep.csv &&
	helper run-kind dimension-load rep.yaml 2026-11-01 >res &&
	printf "%s\n" "line_id,plan,rev,since" "R1,gold,3,2024-01-03" \
		"R2,silver,2,2024-01-02" "R2,silver,2,2024-01-02" >rep.csv &&
	helper run-kind dimension-load rep.yaml 2026-11-02 >res &&
	q_is "SELECT * FROM dim_rep ORDER BY line_key" <<-\EOT
	1|R1|gold|3.0|2024-01-03|2026-11-01T00:00:00Z||1
	2|R2|gold|2.0|2024-01-02|2026-11-01T00:00:00Z|2026-11-02T00:00:00Z|0
	3|R2|silver|2.0|2024-01-02|2026-11-02T00:00:00Z||1
	EOT
'

test_expect_success 'a first load, keys in order or not: the same rows and a sound unique index' '
	# In order (memcmp: K1 < K10 < K2), with a key repeated; then out of
	# order from the first row, and from the fourth (the index made
	# before the rows is dropped and made after them).
	printf "%s\n" "line_id,plan,rev,since" "K1,free,1,2024-01-01" \
		"K10,gold,2,2024-01-02" "K2,free,3,2024-01-03" \
		"K1,gold,4,2024-01-04" "K3,free,5,2024-01-05" >ord1.csv &&
	printf "%s\n" "line_id,plan,rev,since" "K2,free,3,2024-01-03" \
		"K1,free,1,2024-01-01" "K10,gold,2,2024-01-02" \
		"K1,gold,4,2024-01-04" "K3,free,5,2024-01-05" >ord2.csv &&
	printf "%s\n" "line_id,plan,rev,since" "K1,free,1,2024-01-01" \
		"K10,gold,2,2024-01-02" "K2,free,3,2024-01-03" \
		"K0,free,6,2024-01-06" "K1,gold,4,2024-01-04" "K3,free,5,2024-01-05" >ord3.csv &&
	for i in 1 2 3; do
		sed -e "s/scd2/scd1/" -e "s/dim_line/dim_ord$i/" \
			-e "s/^input: .*/input: ord$i.csv/" scd2.yaml >ord$i.yaml &&
		helper run-kind dimension-load ord$i.yaml 2026-11-01 >res &&
		q "PRAGMA integrity_check;
			SELECT sql FROM sqlite_master WHERE name = '"'"'dim_ord${i}_natural_key'"'"';
			SELECT * FROM dim_ord$i ORDER BY line_key" || return 1
	done >got &&
	cat >expect <<-\EOT &&
	ok
	CREATE UNIQUE INDEX "dim_ord1_natural_key" ON "dim_ord1" ("line_id")
	1|K1|gold|4.0|2024-01-04
	2|K10|gold|2.0|2024-01-02
	3|K2|free|3.0|2024-01-03
	4|K3|free|5.0|2024-01-05
	ok
	CREATE UNIQUE INDEX "dim_ord2_natural_key" ON "dim_ord2" ("line_id")
	1|K2|free|3.0|2024-01-03
	2|K1|gold|4.0|2024-01-04
	3|K10|gold|2.0|2024-01-02
	4|K3|free|5.0|2024-01-05
	ok
	CREATE UNIQUE INDEX "dim_ord3_natural_key" ON "dim_ord3" ("line_id")
	1|K1|gold|4.0|2024-01-04
	2|K10|gold|2.0|2024-01-02
	3|K2|free|3.0|2024-01-03
	4|K0|free|6.0|2024-01-06
	5|K3|free|5.0|2024-01-05
	EOT
	test_cmp expect got &&
	q "SELECT line_key FROM dim_ord3 INDEXED BY dim_ord3_natural_key ORDER BY line_id" >got &&
	printf "%s\n" 4 1 2 3 5 >expect &&
	test_cmp expect got
'

test_done
