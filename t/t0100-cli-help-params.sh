#!/bin/sh
test_description='did-you-mean for commands, help CMD, --param, DAG_DAGS, absolute paths of missing inputs, make install'
. "$(dirname "$0")/lib.sh"

test_expect_success 'a mistyped command suggests the one meant' '
	test_expect_code 2 dag-cli stauts 2>err &&
	test_grep "^dag-cli: unknown command .stauts.; did you mean .status.?$" err &&
	test_expect_code 2 dag-cli backfil 2>err &&
	test_grep "did you mean .backfill.?" err
'

test_expect_success 'a command nothing resembles lists the commands' '
	test_expect_code 2 dag-cli zzzzzzzz 2>err &&
	! grep -q "did you mean" err &&
	test_grep "^  validate" err
'

test_expect_success 'help CMD is CMD --help' '
	dag-cli help run >out &&
	dag-cli run --help >expect &&
	test_cmp expect out &&
	dag-cli help >out &&
	test_grep "^  backfill" out &&
	test_expect_code 2 dag-cli help stauts 2>err &&
	test_grep "no command .stauts.; did you mean .status.?" err
'

test_expect_success 'setup: a DAG with params' '
	mkdir -p dags &&
	cat >dags/p.yaml <<-\EOF
	dag: p
	start: 2026-01-01
	params:
	  root: data
	  out: "{root}/out"
	tasks:
	  a:
	    kind: command
	    run: "echo {root} > {target}"
	    target: "{out}/a-{date}.txt"
	EOF
'

test_expect_success '--param overrides a param, and what derives from it' '
	dag-cli run p --date 2026-01-01 --param root=elsewhere >out &&
	test -f elsewhere/out/a-2026-01-01.txt &&
	test_grep "^elsewhere$" elsewhere/out/a-2026-01-01.txt &&
	! test -e data &&
	dag-cli plan p --date 2026-01-01 --param root=elsewhere >out &&
	test_grep "complete: elsewhere/out/a-2026-01-01.txt" out &&
	dag-cli plan p --date 2026-01-01 --param root=elsewhere \
		--param "out={root}/other" >out &&
	test_grep "elsewhere/other/a-2026-01-01.txt" out
'

test_expect_success '--param values are templates checked like the file' '
	test_expect_code 2 dag-cli plan p --date 2026-01-01 \
		--param "root={nosuch}" 2>err &&
	test_grep "nosuch" err
'

test_expect_success 'an unknown param or a value without = is refused' '
	test_expect_code 2 dag-cli validate p --param roto=x 2>err &&
	test_grep "param .roto=x.: the DAG has no param .roto.; did you mean .root.?" err &&
	test_expect_code 2 dag-cli run p --date 2026-01-01 --param root 2>err &&
	test_grep "param .root.: expected NAME=VALUE" err
'

test_expect_success 'DAG_DAGS names the DAG directory; --dags wins over it' '
	mkdir -p elsewhere-dags &&
	sed "s/^dag: p/dag: q/" dags/p.yaml >elsewhere-dags/q.yaml &&
	test_expect_code 2 dag-cli validate q 2>err &&
	DAG_DAGS=elsewhere-dags dag-cli validate q &&
	DAG_DAGS=elsewhere-dags test_expect_code 2 dag-cli validate p 2>err &&
	test_grep "no DAG file .p." err &&
	DAG_DAGS=elsewhere-dags dag-cli validate p --dags dags
'

test_expect_success 'a DAG not found names where it was looked for, absolutely' '
	test_expect_code 2 dag-cli validate nothere 2>err &&
	test_grep "looked for the path, and for $PWD/dags/nothere.yaml" err
'

test_expect_success 'a missing input is named by its absolute path' '
	cat >dags/w.yaml <<-\EOF &&
	dag: w
	start: 2026-01-01
	tasks:
	  arrived: {kind: external-check, target: "in/{date}.csv"}
	  use:
	    kind: command
	    needs: [arrived]
	    run: "cp {needs.arrived.target} {target}"
	    target: "out/{date}.csv"
	EOF
	test_expect_code 3 dag-cli run w --date 2026-01-01 >out 2>err &&
	test_grep "^1 blocked: arrived 2026-01-01 missing: $PWD/in/2026-01-01.csv" out &&
	dag-cli plan w --date 2026-01-01 >out &&
	test_grep "waiting for an external input: $PWD/in/2026-01-01.csv" out
'

test_expect_success 'make install puts the binary and the man page in place' '
	if ! test -f "$BUILD_DIR/Makefile"; then
		say "# no Makefile in $BUILD_DIR" && return 0
	fi &&
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -C "$BUILD_DIR" install-exec install-man \
		DESTDIR="$PWD/inst" prefix=/usr/local >make.out 2>&1 &&
	test -x inst/usr/local/bin/dag-cli &&
	inst/usr/local/bin/dag-cli --version >out &&
	test_grep "^dag-cli " out &&
	test -f inst/usr/local/share/man/man1/dag-cli.1 &&
	if command -v man >/dev/null; then
		MANPATH="$PWD/inst/usr/local/share/man" MANWIDTH=80 \
			man dag-cli >page 2>/dev/null &&
		test_grep "dag-cli" page
	fi
'

test_done
