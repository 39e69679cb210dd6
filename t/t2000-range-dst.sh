#!/bin/sh
test_description='partitions: local days and hours across DST in two zones'
. "$(dirname "$0")/lib.sh"

mkdag() {
	printf 'dag: %s\nschedule: %s\ntimezone: %s\nstart: %s\ntasks:\n  a: {kind: command, run: "true"}\n' "$1" "$2" "$3" "$4" >"$1.yaml"
}

test_expect_success 'setup' '
	mkdag ny_h hourly America/New_York 2026-01-01 &&
	mkdag ny_d daily America/New_York 2026-01-01 &&
	mkdag be_h hourly Europe/Berlin 2026-01-01 &&
	mkdag be_d daily Europe/Berlin 2026-01-01
'

test_expect_success 'New York spring: 2026-03-08 has 23 hours, no T02' '
	helper dag parts ny_h.yaml 2026-03-08 2026-03-08 >out &&
	test $(wc -l <out) = 23 &&
	sed -n 1,4p out >head &&
	cat >expect <<-\EOF &&
	2026-03-08T00 2026-03-08T00:00:00-05:00 2026-03-08T01:00:00-05:00
	2026-03-08T01 2026-03-08T01:00:00-05:00 2026-03-08T03:00:00-04:00
	2026-03-08T03 2026-03-08T03:00:00-04:00 2026-03-08T04:00:00-04:00
	2026-03-08T04 2026-03-08T04:00:00-04:00 2026-03-08T05:00:00-04:00
	EOF
	test_cmp expect head &&
	tail -n 1 out >last &&
	echo "2026-03-08T23 2026-03-08T23:00:00-04:00 2026-03-09T00:00:00-04:00" >expect &&
	test_cmp expect last
'

test_expect_success 'New York autumn: 2026-11-01 has 25 hours, T01 then T01b' '
	helper dag parts ny_h.yaml 2026-11-01 2026-11-01 >out &&
	test $(wc -l <out) = 25 &&
	sed -n 1,4p out >head &&
	cat >expect <<-\EOF &&
	2026-11-01T00 2026-11-01T00:00:00-04:00 2026-11-01T01:00:00-04:00
	2026-11-01T01 2026-11-01T01:00:00-04:00 2026-11-01T01:00:00-05:00
	2026-11-01T01b 2026-11-01T01:00:00-05:00 2026-11-01T02:00:00-05:00
	2026-11-01T02 2026-11-01T02:00:00-05:00 2026-11-01T03:00:00-05:00
	EOF
	test_cmp expect head
'

test_expect_success 'Berlin spring: 2026-03-29 skips T02' '
	helper dag parts be_h.yaml 2026-03-29T01 2026-03-29T04 >out &&
	cat >expect <<-\EOF &&
	2026-03-29T01 2026-03-29T01:00:00+01:00 2026-03-29T03:00:00+02:00
	2026-03-29T03 2026-03-29T03:00:00+02:00 2026-03-29T04:00:00+02:00
	2026-03-29T04 2026-03-29T04:00:00+02:00 2026-03-29T05:00:00+02:00
	EOF
	test_cmp expect out &&
	helper dag parts be_h.yaml 2026-03-29 2026-03-29 >out &&
	test $(wc -l <out) = 23
'

test_expect_success 'Berlin autumn: 2026-10-25 repeats T02 as T02b' '
	helper dag parts be_h.yaml 2026-10-25T01 2026-10-25T03 >out &&
	cat >expect <<-\EOF &&
	2026-10-25T01 2026-10-25T01:00:00+02:00 2026-10-25T02:00:00+02:00
	2026-10-25T02 2026-10-25T02:00:00+02:00 2026-10-25T02:00:00+01:00
	2026-10-25T02b 2026-10-25T02:00:00+01:00 2026-10-25T03:00:00+01:00
	2026-10-25T03 2026-10-25T03:00:00+01:00 2026-10-25T04:00:00+01:00
	EOF
	test_cmp expect out &&
	helper dag parts be_h.yaml 2026-10-25 2026-10-25 >out &&
	test $(wc -l <out) = 25
'

test_expect_success 'a repeated hour can be named; a range may start at it' '
	helper dag parts ny_h.yaml 2026-11-01T01b 2026-11-01T02 >out &&
	cat >expect <<-\EOF &&
	2026-11-01T01b 2026-11-01T01:00:00-05:00 2026-11-01T02:00:00-05:00
	2026-11-01T02 2026-11-01T02:00:00-05:00 2026-11-01T03:00:00-05:00
	EOF
	test_cmp expect out
'

test_expect_success 'a skipped or unrepeated hour is an error' '
	test_must_fail helper dag parts ny_h.yaml 2026-03-08T02 2026-03-08T05 >out &&
	echo "hour '\''2026-03-08T02'\'' does not exist in America/New_York (the clocks skip it)" >expect &&
	test_cmp expect out &&
	test_must_fail helper dag parts be_h.yaml 2026-10-26T02b 2026-10-26T03 >out &&
	echo "hour '\''2026-10-26T02b'\'' does not exist in Europe/Berlin (the clocks do not repeat it)" >expect &&
	test_cmp expect out
'

test_expect_success 'daily partitions span 23 and 25 hours on DST days' '
	helper dag parts ny_d.yaml 2026-03-07 2026-03-09 >out &&
	cat >expect <<-\EOF &&
	2026-03-07 2026-03-07T00:00:00-05:00 2026-03-08T00:00:00-05:00
	2026-03-08 2026-03-08T00:00:00-05:00 2026-03-09T00:00:00-04:00
	2026-03-09 2026-03-09T00:00:00-04:00 2026-03-10T00:00:00-04:00
	EOF
	test_cmp expect out &&
	helper dag parts be_d.yaml 2026-10-25 2026-10-26 >out &&
	cat >expect <<-\EOF &&
	2026-10-25 2026-10-25T00:00:00+02:00 2026-10-26T00:00:00+01:00
	2026-10-26 2026-10-26T00:00:00+01:00 2026-10-27T00:00:00+01:00
	EOF
	test_cmp expect out
'

test_expect_success 'stepping hours crosses the transitions' '
	helper dag step ny_h.yaml 2026-11-01T00 2 >out &&
	echo 2026-11-01T01b >expect &&
	test_cmp expect out &&
	helper dag step ny_h.yaml 2026-11-01T02 -1 >out &&
	echo 2026-11-01T01b >expect &&
	test_cmp expect out &&
	helper dag step be_h.yaml 2026-03-29T01 1 >out &&
	echo 2026-03-29T03 >expect &&
	test_cmp expect out &&
	helper dag step be_d.yaml 2026-03-30 -1 >out &&
	echo 2026-03-29 >expect &&
	test_cmp expect out
'

test_expect_success 'today and yesterday follow the DAG zone' '
	# 2026-11-01T03:30Z is still October 31 in New York, November 1 in Berlin.
	DAG_NOW=1793503800 helper dag parts ny_d.yaml today today >out &&
	echo "2026-10-31 2026-10-31T00:00:00-04:00 2026-11-01T00:00:00-04:00" >expect &&
	test_cmp expect out &&
	DAG_NOW=1793503800 helper dag parts be_d.yaml yesterday today >out &&
	cat >expect <<-\EOF &&
	2026-10-31 2026-10-31T00:00:00+01:00 2026-11-01T00:00:00+01:00
	2026-11-01 2026-11-01T00:00:00+01:00 2026-11-02T00:00:00+01:00
	EOF
	test_cmp expect out
'

test_expect_success 'the start bounds a range; a range before it is an error' '
	helper dag parts ny_d.yaml 2025-12-30 2026-01-02 >out &&
	cat >expect <<-\EOF &&
	2026-01-01 2026-01-01T00:00:00-05:00 2026-01-02T00:00:00-05:00
	2026-01-02 2026-01-02T00:00:00-05:00 2026-01-03T00:00:00-05:00
	EOF
	test_cmp expect out &&
	test_must_fail helper dag parts ny_d.yaml 2025-12-01 2025-12-31 >out &&
	echo "'\''2025-12-31'\'' is before the start of DAG '\''ny_d'\'' (2026-01-01)" >expect &&
	test_cmp expect out &&
	helper dag step ny_d.yaml 2026-01-01 -1 >out &&
	echo "before start (2025-12-31)" >expect &&
	test_cmp expect out
'

test_expect_success 'bad dates and reversed ranges are errors' '
	test_must_fail helper dag parts ny_d.yaml 2026-02-30 2026-03-01 >out &&
	echo "bad date '\''2026-02-30'\''; expected YYYY-MM-DD, '\''today'\'' or '\''yesterday'\''" >expect &&
	test_cmp expect out &&
	test_must_fail helper dag parts ny_d.yaml 2026-03-01T05 2026-03-01 >out &&
	echo "'\''2026-03-01T05'\'' names an hour, but DAG '\''ny_d'\'' is daily; expected YYYY-MM-DD" >expect &&
	test_cmp expect out &&
	test_must_fail helper dag parts ny_d.yaml 2026-03-02 2026-03-01 >out &&
	echo "the range ends ('\''2026-03-01'\'') before it starts ('\''2026-03-02'\'')" >expect &&
	test_cmp expect out
'

test_expect_success 'ten years of days hold every date once' '
	helper dag parts be_d.yaml 2026-01-01 2035-12-31 >out &&
	test $(wc -l <out) = 3652 &&
	tail -n 1 out >last &&
	echo "2035-12-31 2035-12-31T00:00:00+01:00 2036-01-01T00:00:00+01:00" >expect &&
	test_cmp expect last
'

test_done
