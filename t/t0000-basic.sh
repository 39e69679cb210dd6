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

test_expect_success 'an option a command does not take is a usage error' '
	test_expect_code 2 dag-cli validate --reverse x.yaml 2>err &&
	test_grep "unknown option .--reverse." err &&
	test_expect_code 2 dag-cli status x --downstream 2>err &&
	test_grep "unknown option .--downstream." err
'

test_expect_success 'help lists the options a command takes, and only those' '
	dag-cli backfill --help >out &&
	test_grep "^  -j, --jobs" out &&
	test_grep "^  --reverse" out &&
	dag-cli logs --help >out &&
	test_grep "^  --attempt" out &&
	! grep -q -e "--reverse" out
'

test_expect_success 'an option missing its value is a usage error' '
	test_expect_code 2 dag-cli plan x --date 2>err &&
	test_grep "option .--date. needs a value" err
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
