#!/bin/sh
test_description='loader limits: params that explode are a load error, many params load'
. "$(dirname "$0")/lib.sh"

# A DAG whose params are given on stdin, one "name: value" a line.
with_params() {
	{
		printf "dag: p\nschedule: daily\ntimezone: UTC\nstart: 2026-01-01\nparams:\n" &&
		sed "s/^/  /" &&
		printf "tasks:\n  a:\n    kind: command\n    run: \"echo {%s} > {target}\"\n    target: \"out/{date}\"\n" "$1"
	} >"$2"
}

# doubling N: N params on stdout, p0 "xx" and each next one the one
# before twice.
doubling() {
	echo "p0: \"xx\"" &&
	i=1 && while [ $i -lt "$1" ]; do
		echo "p$i: \"{p$((i - 1))}{p$((i - 1))}\"" && i=$((i + 1)) || return 1
	done
}

test_expect_success 'forty params each doubling the one before are a load error' '
	doubling 40 | with_params p39 double.yaml &&
	test_expect_code 2 dag-cli validate double.yaml 2>err &&
	test_grep "double.yaml:26:.*param .p20. expands to more than 1 MiB" err &&
	test_expect_code 2 dag-cli run double.yaml --date 2026-01-01 2>err &&
	test_grep "expands to more than 1 MiB" err
'

test_expect_success 'a param just under the limit is fine' '
	doubling 19 | with_params p18 fine.yaml &&
	dag-cli validate fine.yaml
'

test_expect_success 'forty thousand params, each naming the one before, load' '
	awk "BEGIN { print \"p0: x\"; for (i = 1; i < 40000; i++) printf \"p%d: \\\"{p%d}y\\\"\\n\", i, i - 1 }" </dev/null |
	with_params p39999 many.yaml &&
	dag-cli validate many.yaml >out &&
	test_grep "ok (dag p, 1 task)" out
'

test_expect_success 'a duplicate among many params is still found' '
	awk "/^tasks:/ { print \"  p0: again\" } { print }" many.yaml >dup.yaml &&
	test_expect_code 2 dag-cli validate dup.yaml 2>err &&
	test_grep "dup.yaml:40006:3: duplicate key .p0. (first at line 6)" err
'

test_done
