#!/bin/sh
test_description='YAML: anchors, aliases and merge keys; bounded depth and expansion'
. "$(dirname "$0")/lib.sh"

test_expect_success 'an alias copies its anchor; merge keys fill in what is not set' '
	cat >a.yaml <<-\EOF &&
	base: &base
	  kind: command
	  retries: 2
	  env: {A: "1"}
	other: &other {x: "1", retries: 5}
	t1:
	  <<: *base
	  retries: 3
	t2:
	  name: z
	  <<: [*other, *base]
	t3: *base
	list: [&s hello, *s]
	inline: {<<: {y: 2}, z: 3}
	EOF
	helper yaml a.yaml >out &&
	cat >expect <<-\EOF &&
	{"base":{"kind":"command","retries":"2","env":{"A":"1"}},"other":{"x":"1","retries":"5"},"t1":{"retries":"3","kind":"command","env":{"A":"1"}},"t2":{"name":"z","x":"1","retries":"5","kind":"command","env":{"A":"1"}},"t3":{"kind":"command","retries":"2","env":{"A":"1"}},"list":["hello","hello"],"inline":{"z":"3","y":"2"}}
	EOF
	test_cmp expect out
'

test_expect_success 'a quoted "<<" is an ordinary key; a later anchor replaces one' '
	printf "a: &x 1\nb: *x\na2: &x 2\nc: *x\nd: {\"<<\": 1}\n" >b.yaml &&
	helper yaml b.yaml >out &&
	echo "{\"a\":\"1\",\"b\":\"1\",\"a2\":\"2\",\"c\":\"2\",\"d\":{\"<<\":\"1\"}}" >expect &&
	test_cmp expect out
'

test_expect_success 'unknown aliases and bad merge values are positioned errors' '
	printf "a: 1\nb: *nope\n" >c.yaml &&
	test_expect_code 1 helper yaml c.yaml >out &&
	echo "c.yaml:2:4: unknown alias '\''*nope'\''; an alias names an anchor ('\''&nope'\'') defined before it" >expect &&
	test_cmp expect out &&
	printf "s: &s text\nm:\n  <<: *s\n" >d.yaml &&
	test_expect_code 1 helper yaml d.yaml >out &&
	echo "d.yaml:1:4: a merge key ('\''<<'\'') takes a map or a list of maps, not a string" >expect &&
	test_cmp expect out &&
	printf "m:\n  <<: {a: 1}\n  <<: {b: 1}\n" >e.yaml &&
	test_expect_code 1 helper yaml e.yaml >out &&
	test_grep "^e.yaml:3:3: duplicate key '\''<<'\'' (first at line 2)" out
'

test_expect_success 'an alias bomb is a positioned error, quickly' '
	cat >bomb.py <<-\EOF &&
	print("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]")
	for p, x in zip("abcdefghi", "bcdefghij"):
	    print("%s: &%s [%s]" % (x, x, ", ".join(["*" + p] * 9)))
	EOF
	python3 bomb.py >bomb.yaml &&
	test_expect_code 1 helper yaml bomb.yaml >out &&
	echo "bomb.yaml:6:8: aliases expand to more than 100000 nodes at '\''*e'\''; is this an alias bomb?" >expect &&
	test_cmp expect out
'

test_expect_success 'deep nesting is a positioned error, not a crash' '
	python3 -c "print(\"[\" * 100000 + \"]\" * 100000)" >deep1.yaml &&
	test_expect_code 1 helper yaml deep1.yaml >out &&
	echo "deep1.yaml:1:1001: nesting deeper than 1000 levels" >expect &&
	test_cmp expect out &&
	python3 -c "print(\"\".join(\" \" * i + \"k:\n\" for i in range(6000)))" >deep2.yaml &&
	test_expect_code 1 helper yaml deep2.yaml >out &&
	echo "deep2.yaml:1001:1001: nesting deeper than 1000 levels" >expect &&
	test_cmp expect out &&
	python3 -c "print(\"{a: \" * 60000 + \"1\" + \"}\" * 60000)" >deep3.yaml &&
	test_expect_code 1 helper yaml deep3.yaml >out &&
	test_grep "^deep3.yaml:1:[0-9]*: nesting deeper than 1000 levels$" out
'

test_expect_success 'an alias that would nest too deep is an error at the alias' '
	python3 -c "print(\"a: &a \" + \"[\" * 900 + \"]\" * 900); print(\"b: \" + \"[\" * 200 + \"*a\" + \"]\" * 200)" >deep4.yaml &&
	test_expect_code 1 helper yaml deep4.yaml >out &&
	echo "deep4.yaml:2:204: alias '\''*a'\'' nests deeper than 1000 levels" >expect &&
	test_cmp expect out
'

test_expect_success 'a DAG shares task settings through x- keys and merge keys' '
	cat >m.yaml <<-\EOF &&
	dag: m
	schedule: daily
	start: 2026-01-01
	x-common: &common
	  kind: command
	  retries: 2
	tasks:
	  a:
	    <<: *common
	    run: "touch {target}"
	    target: "res/a-{date}"
	  b:
	    <<: *common
	    run: "touch {target}"
	    target: "res/b-{date}"
	    needs: [a]
	EOF
	dag-cli validate m.yaml &&
	dag-cli run m.yaml --date 2026-01-02 &&
	test -f res/a-2026-01-02 && test -f res/b-2026-01-02
'

test_expect_success 'an error inside aliased content points at the anchored text' '
	cat >n.yaml <<-\EOF &&
	dag: n
	schedule: daily
	start: 2026-01-01
	x-common: &common
	  kind: command
	  retires: 2
	tasks:
	  a:
	    <<: *common
	    run: "true"
	EOF
	test_expect_code 2 dag-cli validate n.yaml 2>err &&
	test_grep "^n.yaml:6:3: .*retires" err
'

test_done
