#!/bin/sh
test_description='a worker keeps a clean task'"'"'s compiled rules for its next instances, and nothing of one instance reaches the next'
. "$(dirname "$0")/lib.sh"

# DAG_WORKER_TRACE: the worker adds "prepared PID KIND new" when it
# compiles a task's definition and "prepared PID KIND kept" when it uses
# what it compiled for an earlier instance.
count() {
	grep -c "^$1" trace || true
}

test_expect_success 'setup: one clean task over dates whose inputs differ in shape' '
	mkdir -p in &&
	printf "id,name,zip,country\n1,  ann ,2134,US\n2,bob,75001,FR\n" \
		>in/2026-01-01.csv &&
	printf "country,zip,id,name\nUS,98101-1234,3,cy\nDE,10115,4, dee\n" \
		>in/2026-01-02.csv &&
	printf "id,extra,name,zip,country\n5,x,eve,501,US\nsix,y,fay,1,US\n" \
		>in/2026-01-03.csv &&
	printf "id,name,country\n7,gus,US\n" >in/2026-01-04.csv &&
	printf "id,name,zip,country\n8,hal,02134,US\n9,ivy,,US\n" \
		>in/2026-01-05.csv &&
	daily_dag c <<-\EOF
	tasks:
	  tidy:
	    kind: clean
	    input: "in/{date}.csv"
	    output: "out/{date}.csv"
	    max_reject_ratio: 0.5
	    rules:
	      - trim: name
	      - require: {column: id, pattern: "^[0-9]+$"}
	      - replace: {column: zip, pattern: '"'"'^\D*(\d+).*$'"'"', with: "$1"}
	        where: {column: country, matches: "^US$"}
	      - pad_left: {column: zip, width: 5, char: "0"}
	        where: {column: country, matches: "^US$"}
	      - rename: {name: customer}
	      - select: [id, customer, zip]
	  shout:
	    kind: clean
	    needs: [tidy]
	    input: "out/{date}.csv"
	    output: "loud/{date}.csv"
	    rules:
	      - upper: customer
	      - default: {column: zip, value: none}
	EOF
	dag-cli validate c.yaml &&
	mkdir local workers &&
	cp -R in c.yaml local/ &&
	cp -R in c.yaml workers/
'

dump() {
	(cd "$1" && for f in out/* loud/*; do echo "== $f"; cat "$f"; done)
}

test_expect_success 'one worker runs them all: rules compiled once per task' '
	(cd local && test_expect_code 1 env DAG_EXECUTOR=local \
		dag-cli backfill c.yaml --from 2026-01-01 --to 2026-01-05 \
		-j 1 >res) &&
	(cd workers && test_expect_code 1 env DAG_WORKER_TRACE=$PWD/trace \
		dag-cli backfill c.yaml --from 2026-01-01 --to 2026-01-05 \
		-j 1 >res) &&
	test_grep "9 ran, 8 done, 1 failed, 1 upstream failed" workers/res &&
	cd workers &&
	test "$(count start)" = 1 &&
	test "$(count "prepared [0-9]* clean new")" = 2 &&
	test "$(count "prepared [0-9]* clean kept")" = 7
'

test_expect_success 'each instance sees only its own input: the outputs of a process each' '
	dump local >expect &&
	dump workers >actual &&
	test_cmp expect actual &&
	lines_are workers/out/2026-01-03.csv id,customer,zip 5,eve,00501 &&
	lines_are workers/loud/2026-01-02.csv id,customer,zip 3,CY,98101 4,DEE,10115
'

test_expect_success 'a failed bind leaves nothing behind: the next instance binds afresh' '
	(cd workers && dag-cli logs c.yaml tidy --date 2026-01-04) >log &&
	test_grep "no column .zip." log &&
	test ! -e workers/out/2026-01-04.csv &&
	lines_are workers/out/2026-01-05.csv id,customer,zip 8,hal,02134 9,ivy,00000
'

test_expect_success 'rejects of one instance are its own' '
	for d in 01 02 03 05; do
		cmp local/out/2026-01-$d.csv.rejects.csv \
			workers/out/2026-01-$d.csv.rejects.csv || return 1
	done &&
	test_grep "six" workers/out/2026-01-03.csv.rejects.csv &&
	! grep -q six workers/out/2026-01-05.csv.rejects.csv
'

test_done
