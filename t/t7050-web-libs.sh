#!/bin/sh
test_description='web: libmicrohttpd and graphviz are loaded only by serve and graph --format svg, with a clear error when they cannot be'
. "$(dirname "$0")/lib.sh"

# The file names dlopen asks for, as configure found them.
soname() {
	sed -n "s/^#define $1 \"\\(.*\\)\"\$/\\1/p" "$BUILD_DIR/config.h"
}

test_expect_success 'setup: a DAG, and a directory of broken copies of the web libraries' '
	mkdir dags broken &&
	daily_dag dags/chain <<-\EOF &&
	tasks:
	  a:
	    kind: command
	    run: "echo {date} >{target}"
	    target: "out/a/{date}"
	  b:
	    kind: command
	    needs: [a]
	    run: "cp {needs.a.target} {target}"
	    target: "out/b/{date}"
	EOF
	for v in MHD_SONAME GVC_SONAME CGRAPH_SONAME; do
		name=$(soname $v) &&
		test -n "$name" &&
		: >"broken/$name" || return 1
	done &&
	test "$(ls broken | wc -l)" = 3
'

test_expect_success 'every other command starts and runs without them' '
	LD_LIBRARY_PATH=$PWD/broken dag-cli --version >version &&
	test_grep "^dag-cli " version &&
	LD_LIBRARY_PATH=$PWD/broken dag-cli run chain --date 2026-01-02 >run.out &&
	test -s out/b/2026-01-02 &&
	LD_LIBRARY_PATH=$PWD/broken dag-cli graph chain >graph.txt &&
	test_grep "a" graph.txt &&
	LD_LIBRARY_PATH=$PWD/broken dag-cli status chain --from 2026-01-02 --to 2026-01-02 >grid &&
	test_grep "2026-01-02" grid
'

test_expect_success 'serve says it cannot load libmicrohttpd' '
	LD_LIBRARY_PATH=$PWD/broken test_expect_code 1 dag-cli serve \
		--listen 127.0.0.1:0 >serve.out 2>serve.err &&
	test_grep "^dag-cli serve: cannot load libmicrohttpd: .*$(soname MHD_SONAME)" serve.err &&
	! test -s serve.out
'

test_expect_success 'graph --format svg says it cannot load graphviz' '
	LD_LIBRARY_PATH=$PWD/broken test_expect_code 1 dag-cli graph chain \
		--format svg >svg.out 2>svg.err &&
	test_grep "^dag-cli graph: cannot load graphviz: " svg.err &&
	! test -s svg.out
'

test_expect_success 'with the real libraries both work' '
	dag-cli graph chain --format svg --date 2026-01-02 >chain.svg &&
	test_grep "^<svg" chain.svg &&
	test_grep "<title>b</title>" chain.svg
'

test_done
