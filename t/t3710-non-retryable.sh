#!/bin/sh
test_description='errors no retry can fix (an unknown column, an SQL syntax error) fail at once, and say so'
. "$(dirname "$0")/lib.sh"

attempts() {
	sqlite3 .dag-state/state.db \
		"SELECT task, attempt, state FROM attempts ORDER BY task, attempt"
}

test_expect_success 'setup: built-in tasks whose definition is wrong, with retries to spare' '
	printf "a,b\n1,2\n" >in.csv &&
	daily_dag nr <<-\EOF
	defaults:
	  retries: 3
	  retry_delay: 10ms
	tasks:
	  rule:
	    kind: clean
	    input: in.csv
	    output: "res/clean-{date}.csv"
	    target: "res/clean-{date}.csv"
	    rules:
	      - lower: zip
	  syntax:
	    kind: sql
	    database: wh.db
	    target: {table: t_syntax}
	    sql: "SELEC 1"
	  column:
	    kind: sql
	    database: wh.db
	    target: {table: t_column}
	    sql: "CREATE TABLE IF NOT EXISTS t_column (a TEXT); INSERT INTO t_column (nosuch) VALUES (1)"
	  gone:
	    kind: clean
	    input: "missing-{date}.csv"
	    output: "res/gone-{date}.csv"
	    target: "res/gone-{date}.csv"
	EOF
'

test_expect_success 'an unknown column or an SQL error is one attempt; a missing file is retried' '
	test_expect_code 1 dag-cli run nr.yaml --date 2026-01-01 >out &&
	attempts >got &&
	cat >expect <<-\EOF &&
	column|1|failed
	gone|1|failed
	gone|2|failed
	gone|3|failed
	gone|4|failed
	rule|1|failed
	syntax|1|failed
	EOF
	test_cmp expect got
'

test_expect_success 'the attempt records that it was not retried and why' '
	sqlite3 .dag-state/state.db "SELECT task, error FROM attempts WHERE attempt = 1 ORDER BY task" >got &&
	why="not retried: the definition or the data is wrong, so every attempt would fail the same way" &&
	cat >expect <<-EOF &&
	column|task '"'"'column'"'"': statement 2: table t_column has no column named nosuch; $why
	gone|cannot open '"'"'missing-2026-01-01.csv'"'"': No such file or directory
	rule|rule 1 (lower) at line 15: no column '"'"'zip'"'"' (the columns here are: a, b); $why
	syntax|task '"'"'syntax'"'"': statement 1: near "SELEC": syntax error; $why
	EOF
	test_cmp expect got &&
	dag-cli logs nr.yaml syntax --date 2026-01-01 >log &&
	test_grep "dag-cli: syntax 2026-01-01 attempt 1: .*syntax error; $why\$" log &&
	test_grep "^failed: syntax 2026-01-01 (attempt 1): .*syntax error; $why\$" out
'

test_expect_success 'a hook sees one failure, no retry' '
	rm -rf .dag-state &&
	sed -i "s|^defaults:|defaults:\n  on_retry: \"echo retry \$DAG_TASK >> $PWD/hooks.txt\"\n  on_failure: \"echo failure \$DAG_TASK >> $PWD/hooks.txt\"|" nr.yaml &&
	test_expect_code 1 dag-cli run nr.yaml --date 2026-01-01 >out &&
	i=0 &&
	while test "$(cat hooks.txt 2>/dev/null | wc -l)" -lt 7 && test $i -lt 300
	do
		sleep 0.1 && i=$((i + 1))
	done &&
	grep syntax hooks.txt >got &&
	echo "failure syntax" >expect &&
	test_cmp expect got &&
	grep -c "retry gone" hooks.txt >n &&
	echo 3 >expect &&
	test_cmp expect n
'

test_done
