#!/bin/sh
test_description='external-check: a path or a pattern over a directory, min_size, load-time errors'
. "$(dirname "$0")/lib.sh"

# probe_is LINE...: the external-check of t.yaml, probed, finds these lines.
probe_is() {
	helper probe-kind external-check t.yaml >out &&
	printf "%s\n" "$@" >expect &&
	test_cmp expect out
}

test_expect_success 'a missing path is missing, a present one is found' '
	printf "target: in/events.csv\n" >t.yaml &&
	probe_is missing &&
	mkdir in && echo data >in/events.csv &&
	probe_is in/events.csv
'

test_expect_success 'min_size: a file below it does not count' '
	printf "target: in/events.csv\nmin_size: 1k\n" >t.yaml &&
	probe_is missing &&
	head -c 1024 /dev/zero >in/events.csv &&
	probe_is in/events.csv
'

test_expect_success 'pattern: the first match in name order, dot files skipped' '
	mkdir drop &&
	: >drop/b_20261101.csv && : >drop/a_20261101.csv &&
	: >drop/.c_20261101.csv.tmp-1-x && : >drop/notes.txt &&
	printf "dir: drop\npattern: ^[a-z]_\\\\d{8}\\\\.csv$\n" >t.yaml &&
	probe_is drop/a_20261101.csv
'

test_expect_success 'pattern with all: true takes every match, sorted' '
	printf "dir: drop/\npattern: \"_2026\"\nall: true\n" >t.yaml &&
	probe_is drop/a_20261101.csv drop/b_20261101.csv
'

test_expect_success 'a missing directory or no match is missing, not an error' '
	printf "dir: nowhere\npattern: x\n" >t.yaml &&
	probe_is missing &&
	printf "dir: drop\npattern: ^zzz\n" >t.yaml &&
	probe_is missing
'

test_expect_success 'run (in a worker) fails naming what is missing' '
	printf "dir: drop\npattern: ^zzz\n" >t.yaml &&
	test_expect_code 1 helper run-kind external-check t.yaml >out 2>err &&
	test_grep "^error: no file in .$PWD/drop. matches .\^zzz.$" out &&
	printf "target: in/events.csv\n" >t.yaml &&
	helper run-kind external-check t.yaml >out 2>err &&
	test_grep "found .in/events.csv." err
'

test_expect_success 'load-time errors name the position' '
	printf "dir: drop\npattern: \"a(b\"\n" >t.yaml &&
	test_expect_code 2 helper probe-kind external-check t.yaml >out &&
	echo "t.yaml:2:14: pattern '"'"'a(b'"'"' does not compile: missing closing parenthesis (at offset 3)" >expect &&
	test_cmp expect out &&
	printf "pattern: x\nmin_size: lots\n" >t.yaml &&
	test_expect_code 2 helper probe-kind external-check t.yaml >out &&
	cat >expect <<-\EOF &&
	t.yaml:1:10: '"'"'pattern'"'"' needs '"'"'dir'"'"', the directory to search
	t.yaml:2:11: min_size '"'"'lots'"'"' is not a size (bytes, or with k, M or G)
	EOF
	test_cmp expect out &&
	printf "all: true\n" >t.yaml &&
	test_expect_code 2 helper probe-kind external-check t.yaml >out &&
	echo "t.yaml:1:1: external-check needs a '"'"'target'"'"' path, or '"'"'pattern'"'"' and '"'"'dir'"'"'" >expect &&
	test_cmp expect out
'

test_done
