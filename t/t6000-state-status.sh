#!/bin/sh
test_description='state: status grid and --json, logs, clear, built-in kinds in forked workers, __run-instance'
. "$(dirname "$0")/lib.sh"

# instance_json TASK PARTITION STATE SEP: one instance of status --json
# (run once, no records, duration_s made D), followed by SEP.
instance_json() {
	printf '    {\n      "task": "%s",\n      "partition": "%s",\n' "$1" "$2"
	printf '      "state": "%s",\n      "attempts": 1,\n' "$3"
	printf '      "records_%s": null,\n' in out rejected
	printf '      "duration_s": D\n    }%s\n' "$4"
}

test_expect_success 'setup: a pipeline with an archive, a command and a failing task' '
	mkdir -p incoming &&
	printf "id,name\n1,a\n2,b\n" >incoming/2026-03-01.csv &&
	printf "id,name\n3,c\n" >incoming/2026-03-02.csv &&
	daily_dag st 2026-03-01 <<-\EOF
	tasks:
	  keep:
	    kind: archive
	    source: "incoming/{date}.csv"
	    target: "archive/{date}.csv"
	  count:
	    kind: command
	    needs: [keep]
	    run: "wc -l < {needs.keep.target} > {target}"
	    target: "counts/{date}.txt"
	  report:
	    kind: command
	    needs: [count]
	    run: "test {date} = 2026-03-01 && cp {needs.count.target} {target}"
	    target: "reports/{date}.txt"
	EOF
'

test_expect_success 'a backfill with a built-in kind forked per instance' '
	test_expect_code 1 dag-cli backfill st.yaml --from 2026-03-01 --to 2026-03-02 >out &&
	test_cmp incoming/2026-03-01.csv archive/2026-03-01.csv &&
	echo 3 >expect &&
	test_cmp expect counts/2026-03-01.txt &&
	test_cmp expect reports/2026-03-01.txt &&
	test ! -e reports/2026-03-02.txt
'

test_expect_success 'status --json is exact' '
	dag-cli status st.yaml --json >raw &&
	sed -e "s/\"duration_s\": [0-9.e-]*/\"duration_s\": D/" raw >st.json &&
	{
		printf "{\n  \"dag\": \"st\",\n  \"instances\": [\n" &&
		instance_json keep 2026-03-01 done , &&
		instance_json count 2026-03-01 done , &&
		instance_json report 2026-03-01 done , &&
		instance_json keep 2026-03-02 done , &&
		instance_json count 2026-03-02 done , &&
		instance_json report 2026-03-02 failed "" &&
		printf "  ]\n}\n"
	} >expect &&
	test_cmp expect st.json
'

test_expect_success 'status grid: tasks across, partitions down, no colour off a terminal' '
	grid_is st.yaml --from 2026-03-01 --to 2026-03-03 <<-\EOF
	partition     keep            count           report
	2026-03-01    done            done            done
	2026-03-02    done            done            failed
	2026-03-03    missing         missing         missing
	EOF
'

test_expect_success 'a deleted target makes its instance missing again: targets are the truth' '
	rm counts/2026-03-02.txt &&
	grid_is st.yaml --date 2026-03-02 <<-\EOF
	partition     keep            count           report
	2026-03-02    done            missing         failed
	EOF
'

test_expect_success 'logs: no such attempt, unknown task, bad date' '
	test_expect_code 1 dag-cli logs st.yaml report --date 2026-03-02 --attempt 7 2>err &&
	test_grep "no such attempt of report 2026-03-02 is recorded" err &&
	test_expect_code 2 dag-cli logs st.yaml nosuch --date 2026-03-02 2>err &&
	test_grep "DAG .st. has no task .nosuch." err &&
	test_expect_code 2 dag-cli logs st.yaml report 2>err &&
	dag-cli logs st.yaml report --date 2026-03-02 >log &&
	test_grep "exit status 1" log
'

test_expect_success 'clear lists what it would remove and asks' '
	echo n | dag-cli clear st.yaml keep --date 2026-03-01 --downstream >out &&
	cat >expect <<-\EOF &&
	would remove:
	  keep 2026-03-01 archive/2026-03-01.csv
	  count 2026-03-01 counts/2026-03-01.txt
	  report 2026-03-01 reports/2026-03-01.txt
	remove 3 targets? [y/N] nothing removed
	EOF
	test_cmp expect out &&
	test -e archive/2026-03-01.csv
'

test_expect_success 'clear --yes removes; without --downstream only the task' '
	dag-cli clear st.yaml count --date 2026-03-01 --yes >out &&
	cat >expect <<-\EOF &&
	would remove:
	  count 2026-03-01 counts/2026-03-01.txt
	removed 1 target
	EOF
	test_cmp expect out &&
	test ! -e counts/2026-03-01.txt &&
	test -e reports/2026-03-01.txt &&
	echo y | dag-cli clear st.yaml keep --date 2026-03-01 --downstream >out &&
	test_grep "removed 2 targets" out &&
	test ! -e archive/2026-03-01.csv &&
	dag-cli clear st.yaml keep --date 2026-03-01 >out &&
	test_grep "nothing to clear" out
'

test_expect_success 'after clear a run makes the targets again' '
	dag-cli run st.yaml --date 2026-03-01 >out &&
	echo 3 >expect &&
	test_cmp expect reports/2026-03-01.txt
'

test_expect_success '__run-instance runs a resolved built-in instance in process' '
	dag-cli __run-instance --print st.yaml keep --date 2026-03-02 >inst.json &&
	test_grep "\"kind\": *\"archive\"" inst.json &&
	rm archive/2026-03-02.csv &&
	dag-cli __run-instance inst.json >res &&
	test_grep "\"rc\": 0" res &&
	test_cmp incoming/2026-03-02.csv archive/2026-03-02.csv
'

test_expect_success 'a damaged state database is moved aside with a warning' '
	mkdir -p bad &&
	echo "this is not a database at all, not even a little bit; it is just text" >bad/state.db &&
	dag-cli run st.yaml --date 2026-03-01 --state bad/state.db >out 2>err &&
	test_grep "warning: state database .bad/state.db. is damaged" err &&
	ls bad | grep -c damaged >n &&
	echo 1 >expect &&
	test_cmp expect n
'

test_expect_success 'setup: a task that runs until told' '
	daily_dag busy 2026-03-01 <<-\EOF
	tasks:
	  wait:
	    kind: command
	    run: "touch started; while test ! -e go; do sleep 0.05; done; echo x > {target}"
	    target: "busy/{date}"
	EOF
'

test_expect_success 'status shows an instance leased by a live run as running' '
	(dag-cli run busy.yaml --date 2026-03-01 >busy.out 2>&1) &
	pid=$! &&
	i=0 && while [ ! -e started ]; do
		i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05
	done &&
	dag-cli status busy.yaml --date 2026-03-01 >grid &&
	touch go &&
	wait $pid &&
	cat >expect <<-\EOF &&
	partition     wait
	2026-03-01    running
	EOF
	test_cmp expect grid &&
	grid_is busy.yaml --date 2026-03-01 <<-\EOF
	partition     wait
	2026-03-01    done
	EOF
'

test_done
