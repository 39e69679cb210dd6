# t/lib-warehouse.sh: for the tests of the warehouse kinds and table
# targets (t4600 to t5000).  Source after t/lib.sh.

# q ARGS...: sqlite3 on the tests' warehouse, wh.db.
q() { sqlite3 wh.db "$@"; }

# q_is SQL: q SQL prints exactly the lines read from stdin.
q_is() {
	q "$1" >got &&
	cat >expect &&
	test_cmp expect got
}

# counts_are IN OUT REJECTED: the record counts run-kind printed into res.
counts_are() {
	echo "{\"records_in\": $1, \"records_out\": $2, \"records_rejected\": $3}" >expect &&
	test_cmp expect res
}

# marker_is DB TABLE PARTITION N: the table target TABLE of PARTITION in
# the database DB is complete (N = 1: its marker row is there) or not (0).
marker_is() {
	helper table-target "$1" "$2" "$3" >got &&
	echo "$4" >expect &&
	test_cmp expect got
}

# kill_mid_load KIND YAML PARTITION: run the KIND load of YAML, whose input
# is the FIFO fifo.csv fed from big.csv, and kill -9 it a second into its
# records (res holds what it printed).
kill_mid_load() {
	(cat big.csv && exec sleep 30) >fifo.csv &
	writer=$!
	helper run-kind "$1" "$2" "$3" >res &
	pid=$!
	sleep 1 &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	{ kill $writer 2>/dev/null; true; }
}
