#!/bin/sh
test_description='run and backfill --executor slurm: instances as Slurm jobs, results through files'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-slurm.sh"

# Every job of this script carries its DAG's name; the DAG names are unique
# to this script, so other tests' jobs on the shared cluster are never
# touched or counted.
cat >conc.sh <<\EOF
#!/bin/sh
# conc.sh DATE TARGET: count this job in, hold a while, count it out; the
# counts seen go to ./seen.
(
	flock 9
	n=$(( $(cat cur 2>/dev/null || echo 0) + 1 ))
	echo $n >cur
	echo $n >>seen
) 9>>lock
sleep 1
(
	flock 9
	echo $(( $(cat cur) - 1 )) >cur
) 9>>lock
echo "$1" >"$2"
EOF
chmod +x conc.sh

test_expect_success 'a DAG of commands and a built-in, run through Slurm and locally' '
	mkdir -p in &&
	for d in 01 02 03; do
		printf "id,name\n1,a$d\n2,b$d\nbad\n" >in/src_2026-03-$d.csv || return 1
	done &&
	cat >t3802a.yaml <<-\EOF &&
	dag: t3802a
	schedule: daily
	start: 2026-03-01
	tasks:
	  copy:
	    kind: command
	    target: out/copy/{date}.csv
	    run: "cp in/src_{date}.csv {target} && echo copied {date}"
	  clean:
	    kind: clean
	    needs: [copy]
	    input:
	      - out/copy/{date}.csv
	    output: out/clean/{date}.csv
	    rejects: out/clean/{date}.rejects.csv
	    max_reject_ratio: 0.5
	  count:
	    kind: command
	    needs: [clean]
	    target: out/count/{date}
	    run: "wc -l <out/clean/{date}.csv >{target}"
	EOF
	mkdir slurm local &&
	(cd slurm && ln -s ../in in &&
	 dag-cli backfill ../t3802a.yaml --from 2026-03-01 --to 2026-03-03 \
		--executor slurm >../out.slurm 2>../err.slurm) &&
	(cd local && ln -s ../in in &&
	 dag-cli backfill ../t3802a.yaml --from 2026-03-01 --to 2026-03-03 \
		>../out.local 2>../err.local) &&
	diff -r local/out slurm/out &&
	test -s slurm/out/count/2026-03-02
'

test_expect_success 'the status shows the built-in counts the job reported' '
	(cd slurm && dag-cli status ../t3802a.yaml --from 2026-03-01 \
		--to 2026-03-03 --json) >status.json &&
	python3 -c "
import json
doc = json.load(open(\"status.json\"))
for i in doc[\"instances\"]:
    assert i[\"state\"] == \"done\", i
    if i[\"task\"] == \"clean\":
        assert (i[\"records_in\"], i[\"records_out\"], i[\"records_rejected\"]) == (3, 2, 1), i
"
'

test_expect_success 'a job writes its output into the attempt log' '
	(cd slurm && dag-cli logs ../t3802a.yaml copy --date 2026-03-02) >log &&
	test_grep "copied 2026-03-02" log
'

test_expect_success 'no job files are left behind' '
	find slurm/.dag-state/slurm -type f >left &&
	test_cmp /dev/null left
'

test_expect_success 'a failing command fails its instance with its exit status' '
	cat >t3802b.yaml <<-\EOF &&
	dag: t3802b
	schedule: daily
	start: 2026-03-01
	tasks:
	  bad:
	    kind: command
	    target: out/bad/{date}
	    run: "echo about to fail; exit 7"
	EOF
	test_expect_code 1 dag-cli run t3802b.yaml --date 2026-03-01 \
		--executor slurm >run.out 2>run.err &&
	dag-cli status t3802b.yaml --date 2026-03-01 --json >status.json &&
	python3 -c "
import json
i = json.load(open(\"status.json\"))[\"instances\"][0]
assert i[\"state\"] == \"failed\", i
" &&
	dag-cli logs t3802b.yaml bad --date 2026-03-01 >log &&
	test_grep "about to fail" log &&
	test_grep "attempt 1: exit status 7" log
'

test_expect_success '-j bounds the jobs in flight' '
	cat >t3802c.yaml <<-EOF &&
	dag: t3802c
	schedule: daily
	start: 2026-03-01
	tasks:
	  hold:
	    kind: command
	    target: out/hold/{date}
	    run: "$TRASH/conc.sh {date} {target}"
	EOF
	rm -f seen cur &&
	dag-cli backfill t3802c.yaml --from 2026-03-01 --to 2026-03-06 -j 2 \
		--executor slurm >run.out 2>run.err &&
	test "$(ls out/hold | wc -l)" = 6 &&
	sort -n seen | tail -n 1 >max &&
	test "$(cat max)" -le 2
'

test_expect_success 'pools bound them too' '
	cat >t3802d.yaml <<-EOF &&
	dag: t3802d
	schedule: daily
	start: 2026-03-01
	pools:
	  one: 1
	tasks:
	  hold:
	    kind: command
	    pool: one
	    target: out/hold1/{date}
	    run: "$TRASH/conc.sh {date} {target}"
	EOF
	rm -f seen cur &&
	dag-cli backfill t3802d.yaml --from 2026-03-01 --to 2026-03-04 -j 8 \
		--executor slurm >run.out 2>run.err &&
	test "$(ls out/hold1 | wc -l)" = 4 &&
	sort -n seen | tail -n 1 >max &&
	test "$(cat max)" = 1
'

test_expect_success 'executor: in the DAG picks Slurm, its partition, its sbatch options' '
	cat >t3802e.yaml <<-\EOF &&
	dag: t3802e
	schedule: daily
	start: 2026-03-01
	executor:
	  name: slurm
	  partition: other
	  options:
	    - --export=ALL,T3802_VIA=sbatch-option
	tasks:
	  where:
	    kind: command
	    target: out/where/{date}
	    timeout: 90s
	    run: "echo p=$SLURM_JOB_PARTITION v=$T3802_VIA t=$(test -z \"$SLURM_JOB_ID\" || squeue -h -j $SLURM_JOB_ID -o %l) >{target}"
	EOF
	dag-cli run t3802e.yaml --date 2026-03-01 >run.out 2>run.err &&
	echo "p=other v=sbatch-option t=2:00" >expect &&
	test_cmp expect out/where/2026-03-01
'

test_expect_success 'the command line overrides the DAG' '
	rm -rf out/where &&
	dag-cli run t3802e.yaml --date 2026-03-01 --partition debug \
		--sbatch-option=--export=ALL,T3802_VIA=cli >run.out 2>run.err &&
	echo "p=debug v=cli t=2:00" >expect &&
	test_cmp expect out/where/2026-03-01 &&
	rm -rf out/where &&
	dag-cli run t3802e.yaml --date 2026-03-01 --executor local >run.out 2>run.err &&
	echo "p= v= t=" >expect &&
	test_cmp expect out/where/2026-03-01
'

test_expect_success 'an unknown executor is an error at its position' '
	cat >t3802f.yaml <<-\EOF &&
	dag: t3802f
	schedule: daily
	start: 2026-03-01
	executor: slurmm
	tasks:
	  x:
	    kind: command
	    run: "true"
	EOF
	test_must_fail dag-cli validate t3802f.yaml 2>err &&
	test_grep "t3802f.yaml:4:11: unknown executor .slurmm." err &&
	test_must_fail dag-cli run t3802a.yaml --date 2026-03-01 --executor nope 2>run.err &&
	test_grep "unknown executor .nope." run.err
'

test_expect_success 'a cluster that refuses job arrays gets one job per attempt' '
	mkdir -p bin &&
	cat >bin/sbatch <<-EOF &&
	#!/bin/sh
	# sbatch of a cluster with MaxArraySize=0.
	for a; do
		case \$a in --array=*)
			echo array >>$TRASH/sbatch.log
			echo "sbatch: error: Batch job submission failed: Invalid job array specification" >&2
			exit 1 ;;
		esac
	done
	echo single >>$TRASH/sbatch.log
	exec /usr/bin/sbatch "\$@"
	EOF
	chmod +x bin/sbatch &&
	cat >t3802g.yaml <<-\EOF &&
	dag: t3802g
	schedule: daily
	start: 2026-03-01
	tasks:
	  one:
	    kind: command
	    target: o/one/{date}
	    run: "echo {date} >{target}"
	EOF
	PATH=$TRASH/bin:$PATH dag-cli backfill t3802g.yaml --from 2026-03-01 \
		--to 2026-03-04 --executor slurm >run.out 2>run.err &&
	cat o/one/* >got &&
	printf "2026-03-0%s\n" 1 2 3 4 >expect &&
	test_cmp expect got &&
	printf "%s\n" array single single single single >expect &&
	test_cmp expect sbatch.log
'

test_done
