# t/lib.sh: the shell test library.  A test script sets test_description,
# sources this file, wraps every step in test_expect_success and ends with
# test_done.  Output is TAP.  Each script runs in its own scratch directory
# t/trash.NAME under the build directory, removed when every step passed.

: "${BUILD_DIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SRC_DIR:=$(cd "$(dirname "$0")/.." && pwd)}"
export BUILD_DIR SRC_DIR
PATH="$BUILD_DIR:$BUILD_DIR/t:$PATH"
export PATH
# A sanitizer report must look like a crash, never like an ordinary exit 1.
ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export ASAN_OPTIONS UBSAN_OPTIONS
# Tests never depend on the user's environment or clock zone.
unset DAG_STATE DAG_DAGS DAG_NOW
TZ=UTC
LC_ALL=C
export TZ LC_ALL

# ./configure --enable-valgrind: every dag-cli call runs under memcheck and
# any error fails the step.
if [ -n "${VALGRIND:-}" ]; then
	dag_cli_bin="$BUILD_DIR/dag-cli"
	dag-cli() {
		valgrind -q --error-exitcode=126 --leak-check=full \
			--errors-for-leak-kinds=definite "$dag_cli_bin" "$@"
	}
fi

test_name=$(basename "$0" .sh)
TRASH="$BUILD_DIR/t/trash.$test_name"
# A scratch directory is in no git repository (the source tree's is
# above it) unless a test makes one: git and dag-cli stop looking there.
GIT_CEILING_DIRECTORIES="$BUILD_DIR/t"
export GIT_CEILING_DIRECTORIES
rm -rf "$TRASH"
mkdir -p "$TRASH" || exit 1
cd "$TRASH" || exit 1
HOME="$TRASH"
export HOME

test_count=0
test_failures=0
test_log="$TRASH/.step.log"

say() { printf '%s\n' "$*"; }

# test_expect_success TITLE BODY: run BODY in this shell; TAP ok/not ok.
test_expect_success() {
	test_count=$((test_count + 1))
	if ( eval "$2" ) >"$test_log" 2>&1; then
		say "ok $test_count - $1"
	else
		test_failures=$((test_failures + 1))
		say "not ok $test_count - $1"
		sed 's/^/#	/' <<STEP
$2
STEP
		say "# output:"
		sed 's/^/# /' "$test_log"
	fi
}

# test_expect_code N CMD...: CMD must exit with status N.
test_expect_code() {
	want=$1
	shift
	"$@"
	got=$?
	if [ "$got" != "$want" ]; then
		say "expected exit $want from '$*', got $got" >&2
		return 1
	fi
	return 0
}

# test_must_fail CMD...: CMD must fail with an ordinary exit, not a crash.
test_must_fail() {
	"$@"
	got=$?
	if [ "$got" = 0 ]; then
		say "expected '$*' to fail, it succeeded" >&2
		return 1
	fi
	if [ "$got" -gt 125 ]; then
		say "'$*' died (exit $got): a crash, not a failure" >&2
		return 1
	fi
	return 0
}

# test_cmp EXPECTED ACTUAL: files must match; shows a diff when not.
test_cmp() {
	diff -u "$1" "$2"
}

# test_grep PATTERN FILE: like grep, but shows the file when nothing matches.
test_grep() {
	if grep -q -e "$1" "$2"; then
		return 0
	fi
	say "no line of $2 matches '$1'; it holds:" >&2
	sed 's/^/| /' "$2" >&2
	return 1
}

# lines_are FILE LINE...: FILE holds exactly these lines.
lines_are() {
	file=$1 &&
	shift &&
	printf "%s\n" "$@" >expect &&
	test_cmp expect "$file"
}

# summary_cmp EXPECTED OUT: the run summary in OUT is EXPECTED but for
# its last line, the elapsed time (which must be there: it varies).
summary_cmp() {
	if ! tail -n 1 "$2" | grep -q "^elapsed [0-9]"; then
		say "$2 does not end with the elapsed time; it holds:" >&2
		sed 's/^/| /' "$2" >&2
		return 1
	fi
	sed '$d' "$2" >"$2.summary" && test_cmp "$1" "$2.summary"
}

# run_summary CODE ARGS...: dag-cli ARGS exits with CODE, and its summary
# (all but the elapsed time, as summary_cmp) is what stdin holds.
run_summary() {
	code=$1 &&
	shift &&
	cat >expect &&
	test_expect_code "$code" dag-cli "$@" >out &&
	summary_cmp expect out
}

# log_unstamp LOG: LOG with the time stamp of each of dag-cli's own lines
# ("2026-01-02T03:04:05.678Z dag-cli: ...") taken out, for test_cmp.
log_unstamp() {
	sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (dag-cli: )/\1/' "$1"
}

# poll CMD [SECONDS]: eval CMD every 0.05 s until it succeeds; fail
# after SECONDS (60: a loaded machine).
poll() {
	n=$(( ${2:-60} * 20 ))
	while ! eval "$1" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "timed out waiting for: $1"; return 1; }
		sleep 0.05
	done
}

# dag_yaml [DIR/]NAME SCHEDULE ZONE START: write [DIR/]NAME.yaml, the DAG
# NAME run on SCHEDULE in the time zone ZONE from the date START, followed
# by the lines read from stdin (its params and tasks).
dag_yaml() {
	printf 'dag: %s\nschedule: %s\ntimezone: %s\nstart: %s\n' \
		"${1##*/}" "$2" "$3" "$4" >"$1.yaml" &&
	cat >>"$1.yaml"
}

# daily_dag [DIR/]NAME [START]: dag_yaml [DIR/]NAME daily UTC START
# (2026-01-01).
daily_dag() {
	dag_yaml "$1" daily UTC "${2:-2026-01-01}"
}

# grid_is ARGS...: "dag-cli status ARGS" prints the grid read from stdin.
grid_is() {
	dag-cli status "$@" >grid &&
	cat >expect &&
	test_cmp expect grid
}

# status_of TASK PARTITION ARGS...: the state and the reason (two lines)
# of one instance in "dag-cli status ARGS --json"; PARTITION "" matches
# any (for a status of one partition).
status_of() {
	task=$1 part=$2 &&
	shift 2 &&
	dag-cli status "$@" --json >st.json &&
	python3 -c "
import json, sys
for i in json.load(open('st.json'))['instances']:
    if i['task'] == sys.argv[1] and sys.argv[2] in ('', i['partition']):
        print(i['state'])
        print(i.get('reason', ''))
" "$task" "$part"
}

# state_is TASK PARTITION STATE [REASON]: the test's own "state TASK
# PARTITION" (a status_of over its DAG) into the file out, whose first line
# must be STATE, and a line of which must match REASON when given.
state_is() {
	state "$1" "$2" >out || return 1
	if test "$(head -n 1 out)" != "$3"; then
		say "$1 $2 is $(head -n 1 out), not $3" >&2
		return 1
	fi
	test $# -lt 4 || test_grep "$4" out
}

test_done() {
	say "1..$test_count"
	if [ "$test_failures" = 0 ]; then
		cd "$BUILD_DIR" && rm -rf "$TRASH"
		exit 0
	fi
	say "# failed $test_failures of $test_count"
	exit 1
}
