#!/bin/sh
test_description='temporaries are removed after a timeout, SIGTERM, SIGINT and kill -9 (by the run that takes the lease over), for built-in kinds and commands'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-kill.sh"

# feed: make in.csv a pipe that gives a header and 50 rows, then holds
# still until the file "stop" exists, so by-key is caught mid-split with
# its temporary directory written to.
feed() {
	rm -f in.csv stop &&
	mkfifo in.csv || return 1
	{
		echo key,v
		i=0; while [ $i -lt 50 ]; do echo "k$i,$i"; i=$((i + 1)); done
		while [ ! -e stop ]; do sleep 0.05; done
	} >in.csv &
}

# tmps: the temporary names left under k/ and c/.
tmps() {
	ls -A k c 2>/dev/null | grep "^\."
	true
}

# started: by-key's temporary directory holds files.
started() {
	[ "$(ls -A k/.2026-01-0*.tmp-* 2>/dev/null | wc -l)" -gt 2 ]
}

test_expect_success 'setup' '
	split_dag
'

test_expect_success 'kill -9 of the run: the rerun removes the temporaries of its lease' '
	feed || return 1
	backfill_until split started &&
	kill -9 $(real_pid $pid) &&
	{ wait $pid; test $? = 137; } &&
	touch stop && wait &&
	rm in.csv &&
	printf "key,v\nk1,1\n" >in.csv &&
	dag-cli backfill split.yaml --from 2026-01-01 --to 2026-01-01 >out2 2>&1 &&
	test_grep "1 ran, 1 done" out2 &&
	tmps >left &&
	test_cmp /dev/null left
'

for sig in TERM:143:02 INT:130:03; do
	name=${sig%%:*} rest=${sig#*:}
	test_expect_success "SIG$name of the run: its built-in child leaves no temporaries" "
		feed || return 1
		(dag-cli backfill split.yaml --from 2026-01-${rest#*:} --to 2026-01-${rest#*:} >out 2>&1) &
		pid=\$! &&
		poll started &&
		kill -$name \$(real_pid \$pid) &&
		{ wait \$pid; test \$? = ${rest%:*}; } &&
		touch stop && wait &&
		tmps >left &&
		test_cmp /dev/null left
	"
done

test_expect_success 'a timeout: the built-in leaves no temporaries' '
	sed "s/    kind: by-key/    kind: by-key\n    timeout: 1s/" split.yaml >slow.yaml &&
	sed -i "s/^dag: split/dag: slow/" slow.yaml &&
	feed &&
	test_must_fail dag-cli backfill slow.yaml --from 2026-01-04 --to 2026-01-04 >out 2>&1 &&
	touch stop && wait &&
	sqlite3 .dag-state/state.db "SELECT state FROM attempts WHERE dag = '\''slow'\''" >st &&
	echo timeout >expect &&
	test_cmp expect st &&
	tmps >left &&
	test_cmp /dev/null left
'

test_expect_success 'kill -9 while a command writes its temporary: the rerun removes it' '
	daily_dag cmd <<-\EOF &&
	tasks:
	  c:
	    kind: command
	    run: "echo part > {target}; while [ ! -e stop ]; do sleep 0.05; done; echo rest >> {target}"
	    target: "c/{date}"
	EOF
	rm -f stop || return 1
	backfill_until cmd "ls -A c/.2026-01-01.tmp-*" &&
	kill -9 $(real_pid $pid) &&
	{ wait $pid; test $? = 137; } &&
	touch stop &&
	dag-cli backfill cmd.yaml --from 2026-01-01 --to 2026-01-01 >out2 2>&1 &&
	tmps >left &&
	test_cmp /dev/null left &&
	printf "part\nrest\n" >expect &&
	test_cmp expect c/2026-01-01
'

test_done
