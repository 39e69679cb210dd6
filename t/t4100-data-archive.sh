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

test_expect_success 'sizes around the buffer: same bytes, checksums and gzip' '
	mkdir sizes &&
	for n in 0 1 4095 4096 4097 1048575 1048576 1048577 3145733; do
		head -c $n /dev/urandom >sizes/f$n || return 1
		for how in plain sum gz; do
			{
				echo "source: sizes/f$n" &&
				case $how in
				plain) echo "target: copies/$how/f$n" ;;
				sum) echo "target: copies/$how/f$n" && echo "checksum: sha256" ;;
				gz) echo "target: copies/$how/f$n.gz" && echo "compress: gzip" ;;
				esac
			} >t.yaml &&
			helper run-kind archive t.yaml >out 2>log.$how || return 1
		done &&
		cmp sizes/f$n copies/plain/f$n &&
		test ! -e copies/plain/f$n.sha256 &&
		test_grep "copied .sizes/f$n. to .copies/plain/f$n. ($n bytes in, $n out)\$" log.plain &&
		cmp sizes/f$n copies/sum/f$n &&
		(cd copies/sum && sha256sum -c f$n.sha256 >/dev/null) &&
		sha256sum sizes/f$n | cut -c1-64 >want &&
		test_grep "($n bytes in, $n out, sha256 $(cat want))\$" log.sum &&
		zcat copies/gz/f$n.gz | cmp - sizes/f$n &&
		test_grep "copied .sizes/f$n. to .copies/gz/f$n.gz. ($n bytes in, " log.gz ||
		return 1
	done &&
	ls -A copies/plain copies/sum copies/gz >files &&
	! grep tmp files
'

test_expect_success 'the log line counts the bytes without a checksum' '
	head -c 5000 /dev/urandom >in/5000 &&
	printf "source: in/5000\ntarget: copies/5000\n" >t.yaml &&
	helper run-kind archive t.yaml >out 2>log &&
	test_grep "copied .in/5000. to .copies/5000. (5000 bytes in, 5000 out)\$" log &&
	cmp in/5000 copies/5000
'

test_expect_success 'a target whose directory is a file fails and leaves nothing' '
	echo x >notdir &&
	printf "source: in/5000\ntarget: notdir/sub/t.csv\n" >t.yaml &&
	test_expect_code 1 helper run-kind archive t.yaml >out 2>log &&
	test_grep "^error: cannot create the directory of .notdir/sub/t.csv.: Not a directory" out &&
	echo x >expect &&
	test_cmp expect notdir
'

test_expect_success 'a directory made away between two copies is made again' '
	printf "source: in/5000\ntarget: again/a/b/t.csv\n" >t.yaml &&
	helper run-kind archive t.yaml >out 2>log &&
	rm -r again &&
	helper run-kind archive t.yaml >out 2>log &&
	cmp in/5000 again/a/b/t.csv &&
	ls -A again/a/b >files &&
	echo t.csv >expect &&
	test_cmp expect files
'

test_expect_success 'killed while it writes: no target, or the whole one' '
	head -c 33554432 /dev/urandom >in/kill &&
	printf "source: in/kill\ntarget: killed/k.gz\ncompress: gzip\n" >t.yaml &&
	mkdir killed &&
	helper run-kind archive t.yaml >out 2>log &
	pid=$! &&
	i=0 &&
	while ! find killed -name ".k.gz.tmp-*" -size +0 | grep -q . &&
	      ! test -e killed/k.gz && test $i -lt 3000; do
		sleep 0.01
		i=$((i + 1))
	done &&
	kill -9 $pid &&
	{ wait $pid || :; } &&
	if test -e killed/k.gz
	then
		zcat killed/k.gz | cmp - in/kill
	else
		ls -A killed >files &&
		grep "^\.k\.gz\.tmp-" files &&
		! grep -v "^\.k\.gz\.tmp-" files
	fi &&
	helper run-kind archive t.yaml >out 2>log &&
	zcat killed/k.gz | cmp - in/kill
'

if command -v strace >/dev/null 2>&1; then
	# What a copy flushes, and in which order: the temporary file once,
	# before its rename, and the directory after it; the checksum file
	# before the target.  Without a checksum nothing is read back.
	test_expect_success 'a copy is flushed once before its rename, its directory after' '
		printf "source: in/5000\ntarget: fl/plain.csv\n" >t.yaml &&
		mkdir fl &&
		ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
		strace -f -y -o trace -e trace=fsync,fdatasync,rename,pread64 \
			helper run-kind archive t.yaml >out &&
		sed -n -e "s/^[0-9]* *//" -e "s/tmp-[0-9]*-[A-Za-z0-9]*/tmp/g" \
			-e "s/<[^>]*\/\(fl[^>]*\)>/<\1>/g" \
			-e "s/fsync(\([0-9]*\)<\([^>]*\)>) *= 0/fsync \2/p" \
			-e "s/rename(\"\([^\"]*\)\", \"\([^\"]*\)\") *= 0/rename \1 \2/p" \
			-e "s/^\(pread64\)([0-9]*<fl\/.*/\1/p" trace >got &&
		cat >expect <<-\EOF &&
		fsync fl/.plain.csv.tmp
		rename fl/.plain.csv.tmp fl/plain.csv
		fsync fl
		EOF
		test_cmp expect got
	'

	test_expect_success 'with a checksum: the copy flushed once, the checksum published first' '
		printf "source: in/5000\ntarget: fl/sum.csv\nchecksum: sha256\n" >t.yaml &&
		ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
		strace -f -y -o trace -e trace=fsync,fdatasync,rename \
			helper run-kind archive t.yaml >out &&
		sed -n -e "s/^[0-9]* *//" -e "s/tmp-[0-9]*-[A-Za-z0-9]*/tmp/g" \
			-e "s/<[^>]*\/\(fl[^>]*\)>/<\1>/g" \
			-e "s/fsync(\([0-9]*\)<\([^>]*\)>) *= 0/fsync \2/p" \
			-e "s/rename(\"\([^\"]*\)\", \"\([^\"]*\)\") *= 0/rename \1 \2/p" \
			trace >got &&
		cat >expect <<-\EOF &&
		fsync fl/.sum.csv.tmp
		fsync fl/.sum.csv.sha256.tmp
		rename fl/.sum.csv.sha256.tmp fl/sum.csv.sha256
		fsync fl
		rename fl/.sum.csv.tmp fl/sum.csv
		fsync fl
		EOF
		test_cmp expect got &&
		(cd fl && sha256sum -c sum.csv.sha256 >/dev/null) &&
		cmp in/5000 fl/sum.csv
	'
else
	say "ok 14 # SKIP strace is not installed (scripts/deps installs it)"
	say "ok 15 # SKIP strace is not installed (scripts/deps installs it)"
fi

test_done
