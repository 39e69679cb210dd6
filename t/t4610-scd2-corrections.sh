#!/bin/sh
test_description='scd2 corrections: reloading an earlier day of a dimension undoes the versions from it on, the later days load again in order, and the facts that used them reload: the warehouse equals a fresh load'
. "$(dirname "$0")/lib.sh"

# days FIRST LAST: write the inputs of those days (1-based, January 2026)
days() {
	awk -v first="$1" -v last="$2" '
	BEGIN {
		for (d = first; d <= last; d++) {
			f = sprintf("in/customers_2026-01-%02d.csv", d)
			print "customer_id,plan,city" >f
			for (c = 1; c <= 6; c++) {
				if (c == 5 && d < 4)
					continue	# a member from day 4 on
				plan = int((d + c) / 3) % 2 ? "gold" : "free"
				city = c == 2 && d == 2 ? "Paris" : "Lyon"
				print "C" c "," plan "," city >f
			}
			close(f)
			f = sprintf("in/events_2026-01-%02d.csv", d)
			print "event_id,customer_id,amount" >f
			# C7 never exists, C5 not before day 4: the unknown member
			for (i = 1; i <= 6; i++)
				print "E" d "-" i ",C" ((i + d) % 7) + 1 "," i * d >f
			close(f)
		}
	}'
}

# dump ROOT: the warehouse under ROOT as sorted text, load times aside
dump() {
	for t in dim_customer fact_event
	do
		sqlite3 "$1/wh.db" ".dump $t" | sort || return 1
	done &&
	sqlite3 "$1/wh.db" "SELECT table_name, partition, records FROM _dag_loads ORDER BY 1, 2"
}

# fresh NAME: a fresh load of the 10 days into NAME/, with a state of its own
fresh() {
	dag-cli backfill corr.yaml --from 2026-01-01 --to 2026-01-10 \
		--param root="$1" --state "$1.state.db" >"$1.out" &&
	dump "$1" >"$1.dump"
}

# state TASK PARTITION: the instance's state and reason in status --json.
state() {
	status_of "$1" "$2" corr.yaml --from 2026-01-01 --to 2026-01-10 \
		--param root=run
}

# rerun_stale N: backfill --rerun-stale over the 10 days must run N
# instances; the warehouse it leaves in run/ is dumped to run.dump.
rerun_stale() {
	dag-cli backfill corr.yaml --from 2026-01-01 --to 2026-01-10 \
		--rerun-stale >out &&
	test_grep "$1 ran" out &&
	dump run >run.dump
}

test_expect_success 'setup: a dimension needing its own previous day, a fact with lookups, 10 days' '
	mkdir in &&
	days 1 10 &&
	daily_dag corr <<-\EOF &&
	params:
	  root: run
	tasks:
	  customers:
	    kind: external-check
	    target: "in/customers_{date}.csv"
	  events:
	    kind: external-check
	    target: "in/events_{date}.csv"
	  dim_customer:
	    kind: dimension-load
	    needs: [customers, {task: dim_customer, offset: -1d}]
	    input: "{needs.customers.target}"
	    database: "{root}/wh.db"
	    table: dim_customer
	    natural_key: [customer_id]
	    surrogate_key: customer_key
	    history: scd2
	    columns: {customer_id: text, plan: text, city: text}
	  fact_event:
	    kind: fact-load
	    needs: [events, dim_customer]
	    input: "{needs.events.target}"
	    database: "{root}/wh.db"
	    table: fact_event
	    partition_column: day
	    columns: {event_id: text, customer_key: integer, amount: integer}
	    lookups:
	      - {column: customer_id, dimension: dim_customer, into: customer_key}
	    on_missing: unknown
	    max_reject_ratio: 0
	EOF
	dag-cli backfill corr.yaml --from 2026-01-01 --to 2026-01-10 >out &&
	test_grep "20 ran" out &&
	dump run >run.dump &&
	fresh fresh1 &&
	test_cmp fresh1.dump run.dump &&
	sqlite3 run/wh.db "SELECT count(*) FROM dim_customer WHERE valid_from >= '"'"'2026-01-02'"'"'" >n &&
	test "$(cat n)" -gt 5 &&
	sqlite3 run/wh.db "SELECT count(*) FROM dim_customer WHERE valid_to = '"'"'2026-01-02T00:00:00Z'"'"'" >n &&
	test "$(cat n)" -gt 0
'

test_expect_success 'without its own previous day the dimension is a warning' '
	sed "/needs: \[customers, {task: dim_customer/s/, {task: dim_customer, offset: -1d}//" \
		corr.yaml >unordered.yaml &&
	! test_cmp corr.yaml unordered.yaml &&
	dag-cli validate unordered.yaml >res 2>err &&
	test_grep "^unordered.yaml:[0-9]*:[0-9]*: warning: task .dim_customer. loads in partition order but does not need its own previous partition.*add {task: dim_customer, offset: -1d} to its needs$" err &&
	dag-cli validate corr.yaml >res 2>err &&
	test_cmp /dev/null err
'

test_expect_success 'clear day 2 --downstream, then backfill: the warehouse equals a fresh load' '
	dag-cli clear corr.yaml dim_customer --date 2026-01-02 --downstream \
		--yes --param root=run >out &&
	test_grep "removed 18 targets" out &&
	dag-cli backfill corr.yaml --from 2026-01-01 --to 2026-01-10 >out &&
	test_grep "18 ran" out &&
	dump run >run.dump &&
	test_cmp fresh1.dump run.dump
'

test_expect_success 'clear day 2 alone: the later days and the facts that used them are stale' '
	dag-cli clear corr.yaml dim_customer --date 2026-01-02 --yes \
		--param root=run >out &&
	test_grep "removed 1 target" out &&
	state_is fact_event 2026-01-02 stale \
		"^dim_customer 2026-01-02 is gone since fact_event consumed it" &&
	state_is dim_customer 2026-01-05 stale &&
	state_is fact_event 2026-01-09 stale
'

test_expect_success 'its reload undoes the later days: they are missing, their facts stale' '
	dag-cli run corr.yaml --date 2026-01-02 >out &&
	test_grep "1 ran" out &&
	dag-cli logs corr.yaml dim_customer --date 2026-01-02 >log &&
	test_grep "dimension-load: undid [0-9]* versions valid from 2026-01-02T00:00:00Z on, [1-9][0-9]* made current again; the 8 later loads 2026-01-03 .. 2026-01-10 are to do again" log &&
	state_is dim_customer 2026-01-03 missing &&
	state_is fact_event 2026-01-07 stale \
		"^dim_customer 2026-01-07 is gone since fact_event consumed it" &&
	state_is fact_event 2026-01-01 done
'

test_expect_success 'backfill --rerun-stale: the warehouse equals a fresh load again' '
	rerun_stale 17 &&
	test_cmp fresh1.dump run.dump &&
	dag-cli status corr.yaml --from 2026-01-01 --to 2026-01-10 >grid &&
	! grep -e stale -e missing grid
'

test_expect_success 'day 2 corrected: the dimension from day 2 on and the facts are stale' '
	sed -e "s/^C1,[a-z]*,/C1,platinum,/" -e "s/^C2,\([a-z]*\),Paris/C2,\1,Lyon/" \
		in/customers_2026-01-02.csv >fixed.csv &&
	! test_cmp fixed.csv in/customers_2026-01-02.csv &&
	mv fixed.csv in/customers_2026-01-02.csv &&
	state_is dim_customer 2026-01-02 stale \
		"^input .in/customers_2026-01-02.csv. changed after dim_customer consumed it" &&
	state_is dim_customer 2026-01-10 stale &&
	state_is fact_event 2026-01-06 stale &&
	state_is fact_event 2026-01-01 done
'

test_expect_success 'backfill --rerun-stale: equal to a fresh load of the corrected days' '
	rerun_stale 18 &&
	fresh fresh2 &&
	test_cmp fresh2.dump run.dump &&
	! test_cmp fresh1.dump fresh2.dump &&
	sqlite3 run/wh.db "SELECT plan FROM dim_customer WHERE customer_id = '"'"'C1'"'"' AND valid_from = '"'"'2026-01-02T00:00:00Z'"'"'" >got &&
	echo platinum >expect &&
	test_cmp expect got
'

test_done
