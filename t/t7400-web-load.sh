#!/bin/sh
test_description='web: 50 concurrent clients (wrk) on the grid API, all answered, the server unharmed'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-web.sh"

web_need wrk "no wrk (Debian package wrk; scripts/deps installs it)"

test_expect_success 'setup: a year of a daily chain' '
	mkdir dags &&
	daily_dag dags/y 2025-01-01 <<-\EOF &&
	tasks:
	  a:
	    kind: command
	    run: "echo >{target}"
	    target: "out/a/{date}"
	  b:
	    kind: command
	    needs: [a]
	    run: "cp {needs.a.target} {target}"
	    target: "out/b/{date}"
	EOF
	dag-cli backfill y --from 2025-01-01 --to 2025-12-31 -j2 >/dev/null 2>&1 &&
	web_start
'

test_expect_success '50 connections for 3 seconds: every answer a 200' '
	wrk -t2 -c50 -d3s --timeout 10s "$(web_url)/api/dags/y/grid" >wrk.out 2>&1 &&
	cat wrk.out &&
	! grep -i "Non-2xx\|Socket errors" wrk.out &&
	requests=$(sed -n "s/^ *\([0-9]*\) requests in.*/\1/p" wrk.out) &&
	test "$requests" -gt 0 &&
	get /api/dags/y/grid && code_is 200 &&
	grep "\"cells\":\[\[365,0\],\[365,0\]\]" body &&
	web_stop
'

test_done
