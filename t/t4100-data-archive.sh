#!/bin/sh
test_description='archive: copy, move, gzip, sha256 written and verified, constant memory'
. "$(dirname "$0")/lib.sh"

test_expect_success 'SHA-256 matches sha256sum on edge lengths' '
	for n in 0 1 55 56 63 64 65 1000 100000; do
		head -c $n /dev/urandom >f.$n &&
		helper sha256 f.$n >mine &&
		sha256sum f.$n >theirs &&
		test_cmp theirs mine || return 1
	done
'

test_expect_success 'copy with a checksum: same bytes, sha256sum -c passes' '
	mkdir in &&
	seq 1 100000 >in/events.csv &&
	cat >t.yaml <<-\EOF &&
	source: in/events.csv
	target: archive/2026/11/events.csv
	checksum: sha256
	EOF
	helper run-kind archive t.yaml >out 2>log &&
	cmp in/events.csv archive/2026/11/events.csv &&
	(cd archive/2026/11 && sha256sum -c events.csv.sha256 >../../../check) &&
	echo "events.csv: OK" >expect &&
	test_cmp expect check &&
	sha256sum in/events.csv | cut -c1-64 >want &&
	cut -c1-64 archive/2026/11/events.csv.sha256 >got &&
	test_cmp want got &&
	ls -A archive/2026/11 >files &&
	printf "events.csv\nevents.csv.sha256\n" >expect &&
	test_cmp expect files
'

test_expect_success 'compress: gzip writes a gzip that zcat restores' '
	cat >t.yaml <<-\EOF &&
	source: in/events.csv
	target: archive/events.csv.gz
	compress: gzip
	checksum: sha256
	EOF
	helper run-kind archive t.yaml >out 2>log &&
	zcat archive/events.csv.gz >back &&
	cmp in/events.csv back &&
	(cd archive && sha256sum -c events.csv.gz.sha256 >/dev/null)
'

test_expect_success 'a source already in gzip is copied as it is' '
	gzip -c in/events.csv >in/events.csv.gz &&
	cat >t.yaml <<-\EOF &&
	source: in/events.csv.gz
	target: archive/copy.csv.gz
	compress: gzip
	EOF
	helper run-kind archive t.yaml >out 2>log &&
	cmp in/events.csv.gz archive/copy.csv.gz &&
	test ! -e archive/copy.csv.gz.sha256
'

test_expect_success 'move removes the source once the target is in place' '
	cp in/events.csv in/moving.csv &&
	cat >t.yaml <<-\EOF &&
	source: in/moving.csv
	target: archive/moved.csv
	mode: move
	EOF
	helper run-kind archive t.yaml >out 2>log &&
	test ! -e in/moving.csv &&
	cmp in/events.csv archive/moved.csv &&
	test_grep "moved .in/moving.csv. to .archive/moved.csv. (588895 bytes in, 588895 out)" log
'

test_expect_success 'a missing source fails and leaves nothing' '
	cat >t.yaml <<-\EOF &&
	source: in/nope.csv
	target: archive/nope.csv
	checksum: sha256
	EOF
	test_expect_code 1 helper run-kind archive t.yaml >out 2>log &&
	test_grep "^error: cannot open .in/nope.csv.: No such file or directory" out &&
	test ! -e archive/nope.csv &&
	test ! -e archive/nope.csv.sha256 &&
	ls -A archive >files &&
	! grep "tmp" files
'

test_expect_success 'bad field values are load-time errors with positions' '
	cat >t.yaml <<-\EOF &&
	source: a
	target: b
	mode: moev
	compress: zip
	checksum: md5
	EOF
	test_expect_code 2 helper run-kind archive t.yaml >out &&
	cat >expect <<-\EOF &&
	t.yaml:3:7: mode '"'"'moev'"'"' is not one of copy, move
	t.yaml:4:11: compress '"'"'zip'"'"' is not one of gzip, none
	t.yaml:5:11: checksum '"'"'md5'"'"' is not one of sha256, none
	EOF
	test_cmp expect out
'

test_expect_success 'a 64 MiB file takes no more memory than a 4 MiB one' '
	head -c 4194304 /dev/urandom >in/small &&
	cat in/small in/small in/small in/small >in/16 &&
	cat in/16 in/16 in/16 in/16 >in/big &&
	for f in small big; do
		cat >t.yaml <<-EOF || return 1
		source: in/$f
		target: archive/$f.gz
		compress: gzip
		checksum: sha256
		EOF
		/usr/bin/time -f "%M" -o rss.$f helper run-kind archive t.yaml \
			>out 2>log || return 1
		zcat archive/$f.gz | cmp - in/$f || return 1
	done &&
	test $(($(cat rss.big) - $(cat rss.small))) -lt 4096
'

test_done
