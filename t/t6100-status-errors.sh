#!/bin/sh
test_description='status: a state database that cannot be read is an error, not an empty grid; -j and --attempt refuse bad counts'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a one-task DAG run once' '
	daily_dag one 2026-03-01 <<-\EOF &&
	tasks:
	  hello:
	    kind: command
	    run: "echo hi > {target}"
	    target: "made/{date}.txt"
	EOF
	dag-cli run one.yaml --date 2026-03-01 --state db/state.db &&
	dag-cli status one.yaml --state db/state.db >out &&
	test_grep "^2026-03-01 *done" out
'

test_expect_success 'no state database yet: every instance is missing, exit 0' '
	dag-cli status one.yaml --date 2026-03-02 --state nowhere/state.db >out &&
	test_grep "^2026-03-02 *missing" out
'

test_expect_success 'a database from a newer dag-cli: exit 2, saying so' '
	cp db/state.db newer.db &&
	sqlite3 newer.db "PRAGMA user_version = 999" &&
	test_expect_code 2 dag-cli status one.yaml --state newer.db >out 2>err &&
	test_grep "cannot read the state database .newer.db." err &&
	test_grep "schema version 999" err &&
	test ! -s out
'

test_expect_success 'a file that is not a database: exit 2, saying so' '
	printf "this is not sqlite, only text, and long enough to be read\n%.0s" \
		1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 >junk.db &&
	test_expect_code 2 dag-cli status one.yaml --json --state junk.db >out 2>err &&
	test_grep "cannot read the state database .junk.db." err &&
	test ! -s out &&
	test_expect_code 2 dag-cli status one.yaml --date 2026-03-01 --state junk.db 2>err &&
	test_grep "cannot read the state database" err
'

test_expect_success '-j takes a whole number of at least 1' '
	test_expect_code 2 dag-cli run one.yaml --date 2026-03-01 -j abc 2>err &&
	echo "dag-cli run: -j expects a whole number, not '\''abc'\''" >expect &&
	test_cmp expect err &&
	test_expect_code 2 dag-cli run one.yaml --date 2026-03-01 -j 0 2>err &&
	echo "dag-cli run: -j needs at least 1, not '\''0'\''" >expect &&
	test_cmp expect err &&
	test_expect_code 2 dag-cli backfill one.yaml --from 2026-03-01 \
		--to 2026-03-01 -j -3 2>err &&
	test_grep "needs at least 1" err &&
	test_expect_code 2 dag-cli run one.yaml --date 2026-03-01 -j 2x 2>err &&
	test_grep "not .2x." err
'

test_expect_success '--days-back 0 is today; a negative count is refused' '
	DAG_NOW=2026-03-01T12:00:00Z dag-cli backfill one.yaml --days-back 0 \
		--state db/state.db &&
	test_expect_code 2 dag-cli backfill one.yaml --days-back -1 2>err &&
	test_grep "needs at least 0" err
'

test_expect_success '--attempt counts from 1' '
	test_expect_code 2 dag-cli logs one.yaml hello --date 2026-03-01 \
		--attempt 0 --state db/state.db 2>err &&
	test_grep "needs at least 1" err &&
	dag-cli logs one.yaml hello --date 2026-03-01 --attempt 1 --state db/state.db
'

test_done
