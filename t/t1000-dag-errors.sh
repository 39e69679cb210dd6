#!/bin/sh
test_description='validate: every bad DAG in t/bad-dags reports exactly its .err'
. "$(dirname "$0")/lib.sh"

BAD="$SRC_DIR/t/bad-dags"

test_expect_success 'the table holds at least 30 cases' '
	ls "$BAD"/*.yaml >list &&
	test $(wc -l <list) -ge 30
'

for f in "$BAD"/*.yaml; do
	name=$(basename "$f" .yaml)
	test_expect_success "bad DAG: $name" '
		(cd "$BAD" && test_expect_code 2 dag-cli validate "$name.yaml") \
			>out 2>err &&
		test_cmp "$BAD/$name.err" err &&
		test_must_fail test -s out
	'
done

test_expect_success 'validate reports every file and exits 2 if any is bad' '
	cat >good.yaml <<-\EOF &&
	dag: good
	start: 2026-01-01
	tasks:
	  a: {kind: command, run: "true"}
	EOF
	cp "$BAD/field-typo.yaml" "$BAD/bad-zone.yaml" . &&
	test_expect_code 2 dag-cli validate field-typo.yaml good.yaml bad-zone.yaml >out 2>err &&
	echo "good.yaml: ok (dag good, 1 task)" >expect &&
	test_cmp expect out &&
	cat "$BAD/field-typo.err" "$BAD/bad-zone.err" >expect &&
	test_cmp expect err
'

test_expect_success 'a missing file is an error, a name is looked up in --dags' '
	test_expect_code 2 dag-cli validate nothere.yaml 2>err &&
	test_grep "no DAG file .nothere.yaml." err &&
	mkdir d && cp good.yaml d/good.yaml &&
	dag-cli validate --dags d good >out &&
	echo "d/good.yaml: ok (dag good, 1 task)" >expect &&
	test_cmp expect out
'

test_expect_success 'poll with a timeout from defaults is valid' '
	cat >poll.yaml <<-\EOF &&
	dag: poll
	start: 2026-01-01
	defaults:
	  timeout: 2h
	tasks:
	  arrived:
	    kind: external-check
	    target: "in/{date}.csv"
	    poll: 5m
	EOF
	dag-cli validate poll.yaml >out 2>err &&
	echo "poll.yaml: ok (dag poll, 1 task)" >expect &&
	test_cmp expect out &&
	test_cmp /dev/null err
'

test_expect_success 'setup: commands that write their target in place' '
	mkdir -p in &&
	cat >inplace.yaml <<-\EOF &&
	dag: inplace
	start: 2026-01-01
	tasks:
	  direct:
	    kind: command
	    run: "echo a > out-{date}.txt"
	    target: "out-{date}.txt"
	  folder:
	    kind: command
	    run: "mkdir -p dir-{date} && touch dir-{date}/_SUCCESS"
	    target: "dir-{date}/"
	  atomic:
	    kind: command
	    needs: [direct]
	    run: "cat {needs.direct.target} > {target}"
	    target: "atomic-{date}.txt"
	  no_target:
	    kind: command
	    run: "true"
	EOF
	cat >expect-warn <<-\EOF
	inplace.yaml:6:10: warning: task '\''direct'\'' writes its target itself: mention {target} so it appears whole or not at all
	inplace.yaml:10:10: warning: task '\''folder'\'' writes its target itself: mention {target} so it appears whole or not at all
	EOF
'

test_expect_success 'validate warns once per such task, exit status unchanged' '
	dag-cli validate inplace.yaml >out 2>err &&
	echo "inplace.yaml: ok (dag inplace, 4 tasks)" >expect &&
	test_cmp expect out &&
	test_cmp expect-warn err
'

test_expect_success 'plan, run and backfill warn too, once per task' '
	dag-cli plan inplace.yaml --date 2026-01-01 >out 2>err &&
	test_cmp expect-warn err &&
	dag-cli run inplace.yaml --date 2026-01-01 >out 2>err &&
	test_cmp expect-warn err &&
	test -f out-2026-01-01.txt && test -f atomic-2026-01-01.txt &&
	dag-cli backfill inplace.yaml --from 2026-01-02 --to 2026-01-04 >out 2>err &&
	test_cmp expect-warn err &&
	test -f dir-2026-01-04/_SUCCESS
'

test_expect_success 'commands that only look at history do not warn' '
	dag-cli status inplace.yaml --date 2026-01-01 >out 2>err &&
	test_cmp /dev/null err &&
	dag-cli graph inplace.yaml >out 2>err &&
	test_cmp /dev/null err
'

test_expect_success 'a DAG with errors reports its errors, not warnings' '
	sed "s/^  no_target:/  no_target:\n    bogus: 1/" inplace.yaml >both.yaml &&
	test_expect_code 2 dag-cli validate both.yaml >out 2>err &&
	echo "both.yaml:18:5: unknown field '\''bogus'\'' for kind '\''command'\''; '\''dag-cli kinds command'\'' lists its fields" >expect &&
	test_cmp expect err
'

test_expect_success 'the example DAGs validate without errors or warnings' '
	dag-cli validate "$SRC_DIR"/dags/*.yaml >out 2>err &&
	test_cmp /dev/null err &&
	test $(wc -l <out) = $(ls "$SRC_DIR"/dags/*.yaml | wc -l)
'

test_expect_success 'errors are capped, not unbounded' '
	{
		printf "dag: x\nstart: 2026-01-01\ntasks:\n" &&
		i=0 && while [ $i -lt 150 ]; do
			printf "  t%d: {kind: command, run: x, bogus: 1}\n" $i
			i=$((i + 1))
		done
	} >many.yaml &&
	test_expect_code 2 dag-cli validate many.yaml 2>err &&
	test $(grep -c "unknown field" err) = 100 &&
	test_grep "50 more" err
'

test_done
