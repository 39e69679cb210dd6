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
