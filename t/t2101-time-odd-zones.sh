#!/bin/sh
test_description='half-hour changes, a skipped day, a day without midnight'
. "$(dirname "$0")/lib.sh"

mkdag() {
	printf 'dag: %s\nschedule: %s\ntimezone: %s\nstart: %s\ntasks:\n  a: {kind: command, run: "true", target: "out/{date}/{hour}/{date-1d}/{ts}"}\n\n' "$1" "$2" "$3" "$4" >"$1.yaml"
}

test_expect_success 'setup' '
	mkdag lh hourly Australia/Lord_Howe 2020-01-01 &&
	mkdag ca hourly America/Caracas 2016-01-01 &&
	mkdag ap daily Pacific/Apia 2011-12-01 &&
	mkdag aph hourly Pacific/Apia 2011-12-01 &&
	mkdag sp daily America/Sao_Paulo 2018-11-01
'

test_expect_success 'Lord Howe, April: the repeated half hour is T01b; 25 hours on :00' '
	helper dag parts lh.yaml 2020-04-05 2020-04-05 >out &&
	test $(wc -l <out) = 25 &&
	sed -n 1,4p out >head &&
	cat >expect <<-\EOF &&
	2020-04-05T00 2020-04-05T00:00:00+11:00 2020-04-05T01:00:00+11:00
	2020-04-05T01 2020-04-05T01:00:00+11:00 2020-04-05T01:30:00+10:30
	2020-04-05T01b 2020-04-05T01:30:00+10:30 2020-04-05T02:00:00+10:30
	2020-04-05T02 2020-04-05T02:00:00+10:30 2020-04-05T03:00:00+10:30
	EOF
	test_cmp expect head &&
	tail -n 1 out >last &&
	echo "2020-04-05T23 2020-04-05T23:00:00+10:30 2020-04-06T00:00:00+10:30" >expect &&
	test_cmp expect last
'

test_expect_success 'Lord Howe, October: the skipped half hour shortens T02; 24 hours' '
	helper dag parts lh.yaml 2020-10-04 2020-10-04 >out &&
	test $(wc -l <out) = 24 &&
	sed -n 2,4p out >mid &&
	cat >expect <<-\EOF &&
	2020-10-04T01 2020-10-04T01:00:00+10:30 2020-10-04T02:30:00+11:00
	2020-10-04T02 2020-10-04T02:30:00+11:00 2020-10-04T03:00:00+11:00
	2020-10-04T03 2020-10-04T03:00:00+11:00 2020-10-04T04:00:00+11:00
	EOF
	test_cmp expect mid
'

test_expect_success 'the hours do not depend on where the range starts' '
	helper dag parts lh.yaml 2020-10-04T02 2020-10-05 >a &&
	helper dag parts lh.yaml 2020-09-30 2020-10-05 >b &&
	tail -n $(wc -l <a) b >b.tail &&
	test_cmp a b.tail &&
	test $(wc -l <a) = 46
'

test_expect_success 'Caracas 2016-05-01: 02:30 became 03:00, T02 lasts 30 minutes' '
	helper dag parts ca.yaml 2016-05-01T02 2016-05-01T03 >out &&
	cat >expect <<-\EOF &&
	2016-05-01T02 2016-05-01T02:00:00-04:30 2016-05-01T03:00:00-04:00
	2016-05-01T03 2016-05-01T03:00:00-04:00 2016-05-01T04:00:00-04:00
	EOF
	test_cmp expect out &&
	helper dag parts ca.yaml 2016-05-01 2016-05-01 >out &&
	test $(wc -l <out) = 24
'

test_expect_success 'Apia skipped 2011-12-30: no partition, and an error when named alone' '
	helper dag parts ap.yaml 2011-12-29 2011-12-31 >out &&
	cat >expect <<-\EOF &&
	2011-12-29 2011-12-29T00:00:00-10:00 2011-12-31T00:00:00+14:00
	2011-12-31 2011-12-31T00:00:00+14:00 2012-01-01T00:00:00+14:00
	EOF
	test_cmp expect out &&
	test_must_fail helper dag parts ap.yaml 2011-12-30 2011-12-30 >out &&
	echo "day '\''2011-12-30'\'' does not exist in Pacific/Apia (the clocks skip it)" >expect &&
	test_cmp expect out &&
	helper dag parts aph.yaml 2011-12-29T23 2011-12-31T00 >out &&
	cat >expect <<-\EOF &&
	2011-12-29T23 2011-12-29T23:00:00-10:00 2011-12-31T00:00:00+14:00
	2011-12-31T00 2011-12-31T00:00:00+14:00 2011-12-31T01:00:00+14:00
	EOF
	test_cmp expect out
'

test_expect_success 'offsets are calendar arithmetic: the day before 2011-12-31 is missing' '
	helper dag step ap.yaml 2011-12-31 -1 >out &&
	echo "no such day (2011-12-30)" >expect &&
	test_cmp expect out &&
	helper dag step ap.yaml 2011-12-31 -2 >out &&
	echo 2011-12-29 >expect &&
	test_cmp expect out &&
	helper dag resolve ap.yaml a 2011-12-31 >out &&
	test_grep "^target: out/2011-12-31/00/2011-12-30/2011-12-31T00:00:00+14:00$" out
'

test_expect_success 'a task needing its previous day plans across the missing day' '
	dag_yaml pb daily Pacific/Apia 2011-12-20 <<-\EOF &&
	tasks:
	  b: {kind: command, run: "touch {target}", target: "d/{date}", needs: [{task: b, offset: -1d}]}
	EOF
	dag-cli plan pb.yaml --from 2011-12-29 --to 2011-12-31 >out &&
	test_grep "^2011-12-31  b     run" out &&
	test_grep "^2011-12-29  b     run" out &&
	! grep "^2011-12-30" out
'

test_expect_success 'a need on a missing day is satisfied, like one before start' '
	dag-cli plan pb.yaml --date 2011-12-31 >out &&
	test_grep "1 instance requested, 1 in the plan" out &&
	dag-cli run pb.yaml --date 2011-12-31 &&
	test -f d/2011-12-31 &&
	! test -f d/2011-12-29
'

test_expect_success 'Sao Paulo 2018-11-04 has no midnight: the day and {hour} start at 01' '
	helper dag parts sp.yaml 2018-11-04 2018-11-04 >out &&
	echo "2018-11-04 2018-11-04T01:00:00-02:00 2018-11-05T00:00:00-02:00" >expect &&
	test_cmp expect out &&
	helper dag resolve sp.yaml a 2018-11-04 >out &&
	test_grep "^target: out/2018-11-04/01/2018-11-03/2018-11-04T01:00:00-02:00$" out
'

test_done
