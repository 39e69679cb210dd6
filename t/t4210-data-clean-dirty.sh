#!/bin/sh
test_description='clean on dirty input: exact rejects, failures that publish nothing'
. "$(dirname "$0")/lib.sh"

# reject_lines REJECTS.csv: the line column of a rejects file.
reject_lines() {
	python3 -c '
import csv, sys
csv.field_size_limit(1 << 30)
rows = csv.reader(open(sys.argv[1], newline="", encoding="utf-8",
	errors="surrogateescape"))
next(rows)
for r in rows:
	print(r[0])
' "$1"
}

test_expect_success 'generated messy CSV: every malformed record, no other' '
	python3 "$SRC_DIR/t/gen-messy.py" 2000 7 m.csv truth.txt &&
	printf "input: m.csv\noutput: mo.csv\nmax_reject_ratio: 0.2\n" >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	echo "{\"records_in\": 1978, \"records_out\": 1780, \"records_rejected\": 198}" >expect &&
	test_cmp expect out &&
	test $(grep -c "	blank\$" truth.txt) = 22 &&
	test_grep "skipped 22 blank lines" log &&
	grep -v "	blank\$" truth.txt | cut -f1 >want &&
	reject_lines mo.csv.rejects.csv >got &&
	test_cmp want got
'

test_expect_success 'the same with CRLF line ends, gzip-compressed' '
	python3 "$SRC_DIR/t/gen-messy.py" 3000 11 m.csv.gz truth.txt --crlf --gzip &&
	printf "input: m.csv.gz\noutput: mo.csv.gz\nmax_reject_ratio: 0.2\n" >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	grep -v "	blank\$" truth.txt | cut -f1 >want &&
	reject_lines mo.csv.gz.rejects.csv >got &&
	test_cmp want got &&
	zcat mo.csv.gz >plain &&
	test $(python3 -c "
import csv
print(sum(1 for _ in csv.reader(open(\"plain\", newline=\"\", encoding=\"utf-8\"))) - 1)
") = $((3000 - $(wc -l <truth.txt)))
'

test_expect_success 'each malformation has its reason and raw record' '
	printf "\357\273\277a,b\r\n1,\"x,\"\"y\"\"\r\nz\"\r\n1,2,3\r\n\r\nq\"r,2\r\n\"s\"t,2\r\n\377,2\r\nn,\000\r\n\"open,2\r\n5,6" >in.csv &&
	printf "input: in.csv\noutput: o.csv\nmax_reject_ratio: 1\n" >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	echo "{\"records_in\": 8, \"records_out\": 2, \"records_rejected\": 6}" >expect &&
	test_cmp expect out &&
	printf "a,b\n1,\"x,\"\"y\"\"\r\nz\"\n5,6\n" >expect &&
	test_cmp expect o.csv &&
	printf "line,reason,record\n4,\"expected 2 fields, found 3\",\"1,2,3\"\n6,bad quoting: a quote inside an unquoted field,\"q\"\"r,2\"\n7,bad quoting: characters after a closing quote,\"\"\"s\"\"t,2\"\n8,invalid UTF-8,\"\377,2\"\n9,NUL byte in the record,\"n,@\"\n10,bad quoting: unterminated quoted field,\"\"\"open,2\"\n" | tr @ "\000" >expect &&
	test_cmp expect o.csv.rejects.csv
'

test_expect_success 'a 10 MB field passes through whole' '
	python3 -c "
import sys
sys.stdout.write(\"k,v\n1,\\\"\" + \"ab,\\\"\\\"\" * 2621440 + \"\\\"\n2,x\n\")
" >big.csv &&
	printf "input: big.csv\noutput: big.out.csv\n" >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	cmp big.csv big.out.csv
'

test_expect_success 'truncated gzip: the task fails, no output, rejects still written' '
	python3 "$SRC_DIR/t/gen-messy.py" 3000 3 full.csv.gz truth.txt --gzip &&
	head -c 20000 full.csv.gz >cut.csv.gz &&
	printf "input: cut.csv.gz\noutput: cut.out.csv\nmax_reject_ratio: 1\n" >t.yaml &&
	test_expect_code 1 helper run-kind clean t.yaml >out 2>log &&
	test_grep "^error: .cut.csv.gz.: truncated gzip stream" out &&
	test ! -e cut.out.csv &&
	test -e cut.out.csv.rejects.csv &&
	test_grep "failed: nothing published" log &&
	ls -A >files &&
	! grep "tmp-" files
'

test_expect_success 'an empty file is an error; a header-only file gives a header' '
	: >empty.csv &&
	printf "input: empty.csv\noutput: e.out.csv\n" >t.yaml &&
	test_expect_code 1 helper run-kind clean t.yaml >out 2>log &&
	test_grep "^error: .empty.csv. is empty: expected a header line" out &&
	test ! -e e.out.csv &&
	printf "a,b\n" >hdr.csv &&
	printf "input: hdr.csv\noutput: h.out.csv\nrules: [{select: [b]}]\n" >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	echo "{\"records_in\": 0, \"records_out\": 0, \"records_rejected\": 0}" >expect &&
	test_cmp expect out &&
	echo b >expect &&
	test_cmp expect h.out.csv
'

test_expect_success 'over max_reject_ratio: nothing published but the rejects' '
	printf "a,b\n1,2\n3\n4,5\n" >in.csv &&
	printf "input: in.csv\noutput: r.out.csv\nmax_reject_ratio: 0.3\n" >t.yaml &&
	test_expect_code 1 helper run-kind clean t.yaml >out 2>log &&
	cat >expect <<-\EOF &&
	error: 1 of 3 records rejected (33.33%), over max_reject_ratio 0.3: nothing published; see '"'"'r.out.csv.rejects.csv'"'"'
	{"records_in": 3, "records_out": 0, "records_rejected": 1}
	EOF
	test_cmp expect out &&
	test ! -e r.out.csv &&
	printf "line,reason,record\n3,\"expected 2 fields, found 1\",3\n" >expect &&
	test_cmp expect r.out.csv.rejects.csv &&
	printf "input: in.csv\noutput: r.out.csv\nmax_reject_ratio: 0.34\nrejects: bad/r.csv\n" >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	test_cmp expect bad/r.csv &&
	printf "a,b\n1,2\n4,5\n" >expect &&
	test_cmp expect r.out.csv
'

test_expect_success 'JSON that does not parse rejects the record' '
	printf "id,p\n1,\"{\"\"event\"\": \"\"x\"\"}\"\n2,{oops\n3,\"[1,\"\n" >in.csv &&
	cat >t.yaml <<-\EOF &&
	input: in.csv
	output: j.out.csv
	max_reject_ratio: 1
	rules:
	  - json: {column: p, fields: {event: event}}
	EOF
	helper run-kind clean t.yaml >out 2>log &&
	printf "id,p,event\n1,\"{\"\"event\"\": \"\"x\"\"}\",x\n" >expect &&
	test_cmp expect j.out.csv &&
	cat >expect <<-\EOF &&
	line,reason,record
	3,rule 1 (json): column '"'"'p'"'"' is not JSON: string or '"'"'}'"'"' expected near '"'"'oops'"'"',"2,{oops"
	4,rule 1 (json): column '"'"'p'"'"' is not JSON: '"'"']'"'"' expected near end of file,"3,""[1,"""
	EOF
	test_cmp expect j.out.csv.rejects.csv
'

test_expect_success 'json: numbers beyond 64 bits or a double keep their text' '
	cat >in.jsonl <<-\EOF &&
	{"id": 1, "p": {"n": 123456789012345678901234567890, "x": 1}}
	{"id": 2, "p": {"n": -98765432109876543210, "x": 2}}
	{"id": 3, "p": {"n": 1e999, "x": 3}}
	{"id": 4, "p": {"n": -2.5E+400, "x": 4}}
	{"id": 5, "p": {"n": 7, "s": "1e999 as a string", "x": 5}}
	{"id": 6, "p": {"n": 8, "s": "nul\u0000inside", "x": 6}}
	{"id": 99999999999999999999999, "p": {"n": 9, "x": 7}}
	EOF
	cat >t.yaml <<-\EOF &&
	input: in.jsonl
	format: jsonl
	output: big.out.csv
	max_reject_ratio: 1
	rules:
	  - json: {column: p, fields: {n: n, s: s}, rest: more}
	EOF
	helper run-kind clean t.yaml >out 2>log &&
	cat >expect <<-\EOF &&
	id,p,n,s,more
	1,"{""n"":123456789012345678901234567890,""x"":1}",123456789012345678901234567890,,"{""x"":1}"
	2,"{""n"":-98765432109876543210,""x"":2}",-98765432109876543210,,"{""x"":2}"
	3,"{""n"":1e999,""x"":3}",1e999,,"{""x"":3}"
	4,"{""n"":-2.5E+400,""x"":4}",-2.5E+400,,"{""x"":4}"
	5,"{""n"":7,""s"":""1e999 as a string"",""x"":5}",7,1e999 as a string,"{""x"":5}"
	99999999999999999999999,"{""n"":9,""x"":7}",9,,"{""x"":7}"
	EOF
	test_cmp expect big.out.csv &&
	test_grep "^6,.*u0000 is not allowed" big.out.csv.rejects.csv
'

test_expect_success 'a rule naming a column the input lacks fails at run time' '
	printf "a,b\n1,2\n" >in.csv &&
	cat >t.yaml <<-\EOF &&
	input: in.csv
	output: m.out.csv
	rules:
	  - trim: a
	  - lower: zip
	EOF
	test_expect_code 1 helper run-kind clean t.yaml >out 2>log &&
	test_grep "^error: rule 2 (lower) at line 5: no column .zip. (the columns here are: a, b)$" out &&
	test ! -e m.out.csv
'

test_done
