#!/bin/sh
test_description='a directory target replaced by run --force or a by-key rerun moves away whole: a reader never sees _SUCCESS beside a part of the files, and a kill leaves the old or the new directory'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-kill.sh"

N=4000

# watch DIR PID: while PID runs, sample DIR by its path; a sample of
# other than N files and _SUCCESS, with the directory the same before and
# after (not swapped meanwhile), is a partial target (the old one emptied
# in place, _SUCCESS last or first): say so in "partial" and kill -9 PID,
# which leaves it so for the next run.
watch() {
	while kill -0 "$2" 2>/dev/null; do
		i1=$(stat -c %i "$1" 2>/dev/null) || continue
		n=$(ls -A "$1" 2>/dev/null | wc -l)
		i2=$(stat -c %i "$1" 2>/dev/null) || continue
		if [ "$i1" = "$i2" ] && [ "$n" -ne $((N + 1)) ]; then
			echo "$n entries" >>partial
			kill -9 "$2" 2>/dev/null
		fi
	done
}

# force_rounds YAML TASK DIR: three runs with --force TASK, DIR watched.
force_rounds() {
	rm -f partial
	for k in 1 2 3; do
		(dag-cli backfill "$1" --from 2026-01-01 --to 2026-01-01 \
			--force "$2" >out 2>&1) &
		pid=$!
		watch "$3" "$(real_pid $pid)"
		wait $pid
		test ! -e partial || { cat partial; return 1; }
		test_grep "1 ran, 1 done" out || return 1
	done
}

# complete DIR: _SUCCESS and N files.
complete() {
	test -e "$1/_SUCCESS" &&
	test "$(ls "$1" | grep -c "^f")" = $N
}

test_expect_success 'setup' '
	cat >many.yaml <<-EOF &&
	dag: many
	schedule: daily
	timezone: UTC
	start: 2026-01-01
	tasks:
	  m:
	    kind: command
	    run: "i=0; while [ \$i -lt $N ]; do echo {date} >{target}/f\$i; i=\$((i + 1)); done"
	    target: "o/{date}/"
	EOF
	dag-cli backfill many.yaml --from 2026-01-01 --to 2026-01-01 >out &&
	complete o/2026-01-01
'

test_expect_success 'run --force: readers never see a partial directory' '
	force_rounds many.yaml m o/2026-01-01 &&
	complete o/2026-01-01
'

test_expect_success 'kill -9 once the new directory is written: the old or the new one stays whole' '
	(dag-cli backfill many.yaml --from 2026-01-01 --to 2026-01-01 \
		--force m >out 2>&1) &
	pid=$! &&
	n=0 &&
	while [ "$(ls -A o/.2026-01-01.tmp-* 2>/dev/null | grep -c "^f")" -lt $N ]; do
		n=$((n + 1)); [ $n -lt 1200 ] || return 1
		kill -0 $pid 2>/dev/null || break
		sleep 0.01
	done &&
	kill -9 $(real_pid $pid) 2>/dev/null
	wait $pid
	if test -e o/2026-01-01/_SUCCESS; then complete o/2026-01-01; fi &&
	dag-cli backfill many.yaml --from 2026-01-01 --to 2026-01-01 >out &&
	complete o/2026-01-01
'

test_expect_success 'setup: a by-key split into many files' '
	{
		echo key,v &&
		i=0 && while [ $i -lt $N ]; do echo "k$i,$i"; i=$((i + 1)); done
	} >in.csv &&
	split_dag &&
	dag-cli backfill split.yaml --from 2026-01-01 --to 2026-01-01 >out &&
	test -e k/2026-01-01/_SUCCESS &&
	ls k/2026-01-01 | grep -v _SUCCESS | wc -l >n &&
	echo $N >expect &&
	test_cmp expect n
'

test_expect_success 'by-key rerun with --force: readers never see a partial directory' '
	force_rounds split.yaml s k/2026-01-01
'

test_done
