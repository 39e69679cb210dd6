#!/bin/sh
test_description='by-key: one CSV per key value or N buckets, bounded files and memory'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: input with awkward keys' '
	printf "%s\n" "id,key,note" "1,a,x" "2,A,\"y, z\"" "3,a/b,w" "4,,empty" \
		"5,a,\"two" "lines\"" "6,.hid,h" "7,x y,s" "8,é,u" >in.csv &&
	cat >split.yaml <<-\EOT
	input: in.csv
	key: key
	output: out/
	EOT
	true
'

test_expect_success 'one file per value, each with the header' '
	helper run-kind by-key split.yaml >res &&
	echo "{\"records_in\": 8, \"records_out\": 8, \"records_rejected\": 0}" >expect &&
	test_cmp expect res &&
	(cd out && ls -A) >files &&
	printf "%s\n" %.csv %2Ehid.csv %C3%A9.csv A.csv _SUCCESS a%2Fb.csv a.csv \
		x%20y.csv >expect &&
	test_cmp expect files &&
	printf "%s\n" "id,key,note" "1,a,x" "5,a,\"two" "lines\"" >expect &&
	test_cmp expect out/a.csv &&
	printf "%s\n" "id,key,note" "2,A,\"y, z\"" >expect &&
	test_cmp expect out/A.csv &&
	printf "%s\n" "id,key,note" "4,,empty" >expect &&
	test_cmp expect out/%.csv &&
	test_cmp /dev/null out/_SUCCESS &&
	printf "line,reason,record\n" >expect &&
	test_cmp expect out.rejects.csv
'

test_expect_success 'the file name mapping is documented and reversible' '
	helper bykey-name a "" "a/b" ".x" "a.b" "%" "~" >names &&
	printf "%s\n" a.csv %.csv a%2Fb.csv %2Ex.csv a.b.csv %25.csv %7E.csv >expect &&
	test_cmp expect names
'

test_expect_success 'columns: projects and re-encodes' '
	cat >proj.yaml <<-\EOT
	input: in.csv
	key: key
	columns: [note, id]
	output: proj/
	EOT
	helper run-kind by-key proj.yaml >res &&
	printf "%s\n" "note,id" "x,1" "\"two" "lines\",5" >expect &&
	test_cmp expect proj/a.csv &&
	printf "%s\n" "note,id" "\"y, z\",2" >expect &&
	test_cmp expect proj/A.csv
'

test_expect_success 'buckets: N writes N hash partitions, every one with a header' '
	cat >b.yaml <<-\EOT
	input: in.csv
	key: key
	buckets: 3
	output: b/
	EOT
	helper run-kind by-key b.yaml >res &&
	(cd b && ls) >files &&
	printf "%s\n" _SUCCESS part-00000.csv part-00001.csv part-00002.csv >expect &&
	test_cmp expect files &&
	for v in a A a/b "" .hid "x y" é; do
		n=$(helper bykey-bucket 3 "$v") &&
		awk -F, -v k="$v" "NR > 1 && \$2 == k" in.csv | grep -v "^lines" >want &&
		awk -F, -v k="$v" "NR > 1 && \$2 == k" b/part-0000$n.csv | grep -v "^lines" >got &&
		test_cmp want got || return 1
	done &&
	cat b/part-0000*.csv | grep -c "^id,key,note$" >count &&
	echo 3 >expect &&
	test_cmp expect count
'

test_expect_success 'setup: 3,000 keys' '
	awk "BEGIN { print \"k,v\"; for (i = 0; i < 30000; i++) print \"key\" (i * 7 % 3000) \",\" i }" >many.csv &&
	cat >roomy.yaml <<-\EOT
	input: many.csv
	key: k
	output: roomy/
	EOT
	cat >tight.yaml <<-\EOT
	input: many.csv
	key: k
	output: tight/
	memory: 4k
	max_open_files: 3
	EOT
	true
'

test_expect_success 'a tiny memory budget and 3 open files give the same files' '
	helper run-kind by-key roomy.yaml >res &&
	(ulimit -n 12 && helper run-kind by-key tight.yaml >res) &&
	diff -r roomy tight &&
	ls roomy | wc -l >n &&
	echo 3001 >expect &&
	test_cmp expect n &&
	printf "%s\n" k,v key7,1 key7,3001 key7,6001 key7,9001 key7,12001 key7,15001 \
		key7,18001 key7,21001 key7,24001 key7,27001 >expect &&
	test_cmp expect tight/key7.csv
'

test_expect_success 'malformed records go to the rejects file beside the directory' '
	printf "%s\n" "id,key,note" "1,a,x" "2,b" "3,a,y" >bad.csv &&
	cat >bad.yaml <<-\EOT
	input: bad.csv
	key: key
	output: bad/
	max_reject_ratio: 0.5
	EOT
	helper run-kind by-key bad.yaml >res &&
	echo "{\"records_in\": 3, \"records_out\": 2, \"records_rejected\": 1}" >expect &&
	test_cmp expect res &&
	head -1 bad.rejects.csv >got &&
	echo "line,reason,record" >expect &&
	test_cmp expect got &&
	cut -d, -f1 bad.rejects.csv | sed -n 2p >got &&
	echo 3 >expect &&
	test_cmp expect got
'

test_expect_success 'too many rejects: the task fails and publishes nothing' '
	sed -e "s/0.5/0.1/" -e "s/bad\//worse\//" bad.yaml >worse.yaml &&
	test_expect_code 1 helper run-kind by-key worse.yaml >res &&
	test_grep "1 of 3 records rejected, more than max_reject_ratio 0.1" res &&
	test ! -e worse &&
	! ls -A | grep "^\.worse\.tmp" &&
	test -f worse.rejects.csv
'

test_expect_success 'a missing key column is an error naming it' '
	sed "s/key: key/key: nope/" split.yaml >nokey.yaml &&
	test_expect_code 1 helper run-kind by-key nokey.yaml >res &&
	test_grep "the input has no key column .nope." res
'

test_expect_success 'setup: input through a FIFO' '
	mkfifo fifo.csv &&
	cat >kill.yaml <<-\EOT
	input: fifo.csv
	key: k
	output: killed/
	EOT
	true
'

test_expect_success 'killed mid-run: no output directory, nothing looks complete' '
	(cat many.csv && exec sleep 30) >fifo.csv &
	writer=$!
	helper run-kind by-key kill.yaml >res &
	pid=$!
	sleep 1 &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	{ kill $writer 2>/dev/null; true; } &&
	test ! -e killed &&
	ls -A | grep -c "^\.killed\.tmp-" >tmps &&
	echo 1 >expect &&
	test_cmp expect tmps &&
	helper run-kind by-key roomy.yaml >res
'

test_done
