#!/bin/sh
test_description='__run-instance runs command instances from data and publishes their temporary target'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a command task' '
	daily_dag c 2026-03-01 <<-\EOF
	tasks:
	  greet:
	    kind: command
	    run: "echo hello {date} > {target}"
	    target: "out/{date}.txt"
	EOF
'

test_expect_success '--print describes a command instance with its command and target' '
	dag-cli __run-instance --print c.yaml greet --date 2026-03-02 >inst.json &&
	test_grep "\"kind\": *\"command\"" inst.json &&
	test_grep "\"command\": *\"echo hello '\''2026-03-02'\'' > '\''out/2026-03-02.txt'\''\"" inst.json &&
	test_grep "\"target\": *\"out/2026-03-02.txt\"" inst.json
'

test_expect_success 'running it writes the target and prints the result message' '
	mkdir -p out &&
	dag-cli __run-instance inst.json >res &&
	echo "hello 2026-03-02" >expect &&
	test_cmp expect out/2026-03-02.txt &&
	test_grep "\"exit_code\": 0" res &&
	test_grep "\"rc\": 0" res &&
	test_grep "\"published\": false" res
'

instance () {
	# $1 command, $2 tmp_target, $3 target, $4 target_dir, $5 result file
	cat <<-EOF
	{"dag": "c", "task": "greet", "kind": "command", "partition": "2026-03-03",
	 "date": "2026-03-03", "hour": "00", "start": "1772496000", "end": "1772582400",
	 "start_iso": "2026-03-03T00:00:00+00:00", "end_iso": "2026-03-04T00:00:00+00:00",
	 "fields": {}, "command": "$1", "tmp_target": "$2", "target": "$3",
	 "target_dir": "$4", "fsync": "true", "result_file": "$5"}
	EOF
}

test_expect_success 'a temporary target is published on the executing side' '
	instance "echo tmp > out/.t3.tmp" out/.t3.tmp out/t3.txt false r1.json >i1.json &&
	dag-cli __run-instance i1.json >stdout &&
	echo tmp >expect &&
	test_cmp expect out/t3.txt &&
	test ! -e out/.t3.tmp &&
	test_grep "\"published\": true" r1.json &&
	test_grep "\"exit_code\": 0" r1.json
'

test_expect_success 'a directory target gets _SUCCESS and moves whole' '
	instance "echo a > out/.d.tmp/a" out/.d.tmp out/d/ true r2.json >i2.json &&
	dag-cli __run-instance i2.json &&
	test -f out/d/_SUCCESS &&
	test -f out/d/a &&
	test ! -e out/.d.tmp &&
	test_grep "\"published\": true" r2.json
'

test_expect_success 'a failing command publishes nothing and leaves no temporary' '
	instance "echo half > out/.f.tmp; exit 3" out/.f.tmp out/f.txt false r3.json >i3.json &&
	test_expect_code 1 dag-cli __run-instance i3.json &&
	test ! -e out/f.txt &&
	test ! -e out/.f.tmp &&
	test_grep "\"exit_code\": 3" r3.json &&
	test_grep "\"published\": false" r3.json
'

test_expect_success 'exit 0 without writing {target} is a failure with its reason' '
	instance "true" out/.g.tmp out/g.txt false r4.json >i4.json &&
	test_expect_code 1 dag-cli __run-instance i4.json &&
	test ! -e out/g.txt &&
	test_grep "did not write {target}" r4.json
'

test_done
