# t/lib-web.sh: helpers for the web tests (t/t7*).  Source after t/lib.sh.
# Each step runs in a subshell, so the server's pid and URL live in files
# of the scratch directory: serve.pid, serve.url, serve.rc (its exit
# status, once stopped), serve.err.

# web_start [ARGS...]: dag-cli serve on a free loopback port, in the
# background; waits until it prints its URL.
web_start() {
	rm -f serve.out serve.err serve.rc serve.pid serve.url
	(
		dag-cli serve --listen 127.0.0.1:0 "$@" >serve.out 2>serve.err &
		echo $! >serve.pid
		wait $!
		echo $? >serve.rc
	) &
	i=0
	while ! grep -q "listening on" serve.out 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || [ -s serve.rc ]; then
			echo "dag-cli serve did not start:"
			cat serve.err
			return 1
		fi
		sleep 0.1
	done
	sed -n 's/.*listening on \(http:[^ ]*\)\/$/\1/p' serve.out >serve.url
}

web_url() {
	cat serve.url
}

# web_stop: SIGTERM; the server must exit 0 with nothing on stderr (a
# sanitizer's leak report would be there).
web_stop() {
	kill "$(cat serve.pid)" || return 1
	i=0
	while [ ! -s serve.rc ]; do
		i=$((i + 1))
		[ $i -gt 300 ] && { echo "serve did not stop"; return 1; }
		sleep 0.1
	done
	rm -f serve.pid
	if [ "$(cat serve.rc)" != 0 ] || [ -s serve.err ]; then
		echo "serve exited $(cat serve.rc):"
		cat serve.err
		return 1
	fi
}

# A failed step must not leave a server behind.
web_cleanup() {
	[ -f "$TRASH/serve.pid" ] && kill "$(cat "$TRASH/serve.pid")" 2>/dev/null
	return 0
}
trap web_cleanup EXIT

# get PATH [CURL-ARGS...]: GET into body, the status code into code; the
# headers into headers.
get() {
	p=$1
	shift
	curl -sS -o body -D headers -w '%{http_code}' "$@" "$(web_url)$p" >code
}

# code_is N: the last request's status was N.
code_is() {
	if [ "$(cat code)" != "$1" ]; then
		echo "expected HTTP $1, got $(cat code):"
		cat body
		return 1
	fi
}

FLAT="$SRC_DIR/t/web/flatten.py"

# grid_is_status DAG: the grid the API sends for DAG holds exactly the
# states of status --json (flattened into grid.txt and status.txt).
grid_is_status() {
	dag-cli status "$1" --json >status.json &&
	get "/api/dags/$1/grid" && code_is 200 &&
	python3 "$FLAT" grid body >grid.txt &&
	python3 "$FLAT" status status.json >status.txt &&
	test_cmp status.txt grid.txt
}

# web_need TOOL REASON: skip the whole script, saying REASON, unless TOOL
# is installed.
web_need() {
	command -v "$1" >/dev/null 2>&1 || web_skip_all "$2"
}

# web_skip_all REASON: skip the whole script (TAP "1..0 # SKIP"), for a
# tool that cannot be installed here; scripts/deps installs them all.
web_skip_all() {
	say "1..0 # SKIP $1"
	trap - EXIT
	cd "$BUILD_DIR" && rm -rf "$TRASH"
	exit 0
}
