#!/bin/sh
test_description='values in a command are data: quoted for where they stand, spliced raw only when asked'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: hostile file names, params and a root with a space' '
	mkdir -p "in dir" "root dir" &&
	: >"in dir/sends_20260101_\$(touch X).csv" &&
	: >"in dir/sends_20260101_b;touch Z.csv" &&
	daily_dag q <<-\EOF
	params:
	  root: "root dir"
	  evil: "$(touch Y)"
	  quote: "it'\''s \"x\" `touch W` \\ $HOME"
	  opts: "-n first"
	  redir: "> raw.txt"
	tasks:
	  found:
	    kind: external-check
	    dir: "in dir"
	    pattern: "^sends_{date:%Y%m%d}_.*[.]csv$"
	    all: true
	  words:
	    kind: command
	    needs: [found]
	    target: "{root}/words; {date}.txt"
	    run: "printf \"<%s>\\n\" {needs.found.files} {evil} {quote} > {target}"
	  inside:
	    kind: command
	    target: "{root}/inside {date}.txt"
	    run: "printf \"<%s>\\n\" \"{evil} {quote}\" '\''{evil} {quote}'\'' > \"{target}\""
	  raw:
	    kind: command
	    target: "{root}/raw {date}.txt"
	    run: "echo {opts|raw} x > {target}; echo {date+1d|raw:%Y} {redir|raw}"
	EOF
'

test_expect_success 'nothing in a value runs' '
	dag-cli run q.yaml --date 2026-01-01 &&
	test ! -e X && test ! -e Y && test ! -e Z && test ! -e W &&
	test ! -e "in dir/X"
'

test_expect_success 'outside quotes, each file and each value is one word' '
	cat >expect <<-\EOF &&
	<in dir/sends_20260101_$(touch X).csv>
	<in dir/sends_20260101_b;touch Z.csv>
	<$(touch Y)>
	<it'\''s "x" `touch W` \ $HOME>
	EOF
	test_cmp expect "root dir/words; 2026-01-01.txt"
'

test_expect_success 'inside double and single quotes the value is escaped for them' '
	cat >expect <<-\EOF &&
	<$(touch Y) it'\''s "x" `touch W` \ $HOME>
	<$(touch Y) it'\''s "x" `touch W` \ $HOME>
	EOF
	test_cmp expect "root dir/inside 2026-01-01.txt"
'

test_expect_success '{name|raw} is spliced as shell text' '
	printf "first x" >expect &&
	test_cmp expect "root dir/raw 2026-01-01.txt" &&
	echo 2026 >expect &&
	test_cmp expect raw.txt
'

test_expect_success 'a bad |raw is a positioned load error' '
	sed "s/{opts|raw}/{opts|rawx}/" q.yaml >bad.yaml &&
	test_expect_code 2 dag-cli validate bad.yaml 2>err &&
	test_grep "bad.yaml:.*bad reference .{opts|rawx}." err
'

test_done
