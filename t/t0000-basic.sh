#!/bin/sh
test_description='the binary starts, prints help and reports usage errors'
. "$(dirname "$0")/lib.sh"

test_expect_success 'dag-cli --help lists the commands' '
	dag-cli --help >out &&
	test_grep "validate" out &&
	test_grep "backfill" out
'

test_expect_success 'every command answers --help' '
	for c in validate plan run backfill status logs clear graph kinds; do
		dag-cli $c --help >out || return 1
		test_grep "usage: dag-cli $c" out || return 1
	done
'

test_expect_success 'an unknown command is a usage error' '
	test_expect_code 2 dag-cli frobnicate 2>err &&
	test_grep "unknown command .frobnicate." err
'

test_expect_success 'no command is a usage error' '
	test_expect_code 2 dag-cli 2>err &&
	test_grep "usage: dag-cli" err
'

test_expect_success '--version prints the version' '
	dag-cli --version >out &&
	test_grep "^dag-cli [0-9]" out
'

test_expect_success 'kinds lists the command kind and its fields' '
	dag-cli kinds command >out &&
	test_grep "^command:" out &&
	test_grep "run .*required" out
'

test_done
