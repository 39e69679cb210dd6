#!/bin/sh
test_description='a state database with a damaged page: status warns and shows the targets, a run moves it aside and carries on'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: ten days made, a history to damage' '
	daily_dag dm <<-\EOF
	tasks:
	  a:
	    kind: command
	    run: "echo {date} >> ran.log; echo a > {target}"
	    target: "data/a/{date}"
	  b:
	    kind: command
	    needs: [a]
	    run: "echo b > {target}"
	    target: "data/b/{date}"
	EOF
	dag-cli backfill dm.yaml --from 2026-01-01 --to 2026-01-10 >out &&
	test_grep "20 done, 0 failed" out &&
	sqlite3 .dag-state/state.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	cp .dag-state/state.db good.db
'

# damage DB: overwrite the page holding the instances table (not the
# header: the file still opens as a database) with bytes of no format.
damage() {
	sz=$(sqlite3 "$1" "PRAGMA page_size") &&
	pg=$(sqlite3 "$1" "SELECT rootpage FROM sqlite_master WHERE name = 'instances'") &&
	test "$pg" -gt 1 &&
	head -c "$sz" /dev/zero | tr "\\000" x |
		dd of="$1" bs="$sz" seek=$((pg - 1)) conv=notrunc 2>/dev/null &&
	! sqlite3 "$1" "PRAGMA quick_check" | grep -qx ok
}

test_expect_success 'setup: the damage' '
	damage .dag-state/state.db &&
	test_must_fail sqlite3 .dag-state/state.db "SELECT count(*) FROM instances" 2>err &&
	test_grep "malformed" err
'

test_expect_success 'status warns and shows the targets' '
	dag-cli status dm.yaml --from 2026-01-01 --to 2026-01-03 >out 2>err &&
	test_grep "warning: state database .* is damaged" err &&
	test_grep "2026-01-03  *done  *done" out &&
	dag-cli status dm.yaml --json --date 2026-01-02 >out 2>err &&
	test_grep "is damaged" err &&
	test_grep "\"state\": \"done\"" out
'

test_expect_success 'status leaves the damaged file where it is' '
	ls .dag-state >files &&
	! grep damaged- files
'

test_expect_success 'a backfill moves it aside, says so and makes what is missing' '
	rm -f data/a/2026-01-04 data/b/2026-01-04 data/b/2026-01-05 ran.log &&
	dag-cli backfill dm.yaml --from 2026-01-01 --to 2026-01-10 >out 2>err &&
	test_grep "3 ran, 3 done, 0 failed" out &&
	test_grep "warning: state database .* is damaged; moved it to .*state.db.damaged-" err &&
	echo 2026-01-04 >expect &&
	test_cmp expect ran.log &&
	test -f data/b/2026-01-05 &&
	ls .dag-state | grep -c "^state.db.damaged-[0-9]*$" >n &&
	echo 1 >expect &&
	test_cmp expect n
'

test_expect_success 'the new database is whole and holds the run' '
	echo ok >expect &&
	sqlite3 .dag-state/state.db "PRAGMA quick_check" >check &&
	test_cmp expect check &&
	sqlite3 .dag-state/state.db "SELECT task, partition, state FROM attempts ORDER BY partition, task" >att &&
	cat >expect <<-\EOF &&
	a|2026-01-04|done
	b|2026-01-04|done
	b|2026-01-05|done
	EOF
	test_cmp expect att
'

test_expect_success 'status and the next run are quiet again' '
	dag-cli status dm.yaml --from 2026-01-01 --to 2026-01-10 >out 2>err &&
	test_cmp /dev/null err &&
	dag-cli backfill dm.yaml --from 2026-01-01 --to 2026-01-10 >out 2>err &&
	test_cmp /dev/null err &&
	test_grep "0 ran, 0 done, 0 failed" out
'

test_expect_success 'run --rerun-stale on a damaged database warns and runs' '
	cp good.db .dag-state/state.db &&
	rm -f .dag-state/state.db-wal .dag-state/state.db-shm &&
	damage .dag-state/state.db &&
	rm -f data/a/2026-01-07 &&
	dag-cli run dm.yaml --date 2026-01-07 --rerun-stale >out 2>err &&
	test_grep "is damaged" err &&
	test_grep "moved it to" err &&
	test -f data/a/2026-01-07
'

test_done
