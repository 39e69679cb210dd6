#!/bin/sh
test_description='the binary starts, prints help and reports usage errors'
. "$(dirname "$0")/lib.sh"

test_expect_success 'dag-cli --help lists the commands' '
	dag-cli --help >out &&
	test_grep "validate" out &&
	test_grep "backfill" out
'

test_expect_success 'every command answers --help' '
	for c in validate plan run backfill status logs clear graph kinds; do
		dag-cli $c --help >out || return 1
		test_grep "usage: dag-cli $c" out || return 1
	done
'

test_expect_success 'an unknown command is a usage error' '
	test_expect_code 2 dag-cli frobnicate 2>err &&
	test_grep "unknown command .frobnicate." err
'

test_expect_success 'no command is a usage error' '
	test_expect_code 2 dag-cli 2>err &&
	test_grep "usage: dag-cli" err
'

test_expect_success 'an option a command does not take is a usage error' '
	test_expect_code 2 dag-cli validate --reverse x.yaml 2>err &&
	test_grep "unknown option .--reverse." err &&
	test_expect_code 2 dag-cli status x --downstream 2>err &&
	test_grep "unknown option .--downstream." err
'

test_expect_success 'help lists the options a command takes, and only those' '
	dag-cli backfill --help >out &&
	test_grep "^  -j, --jobs" out &&
	test_grep "^  --reverse" out &&
	dag-cli logs --help >out &&
	test_grep "^  --attempt" out &&
	! grep -q -e "--reverse" out
'

# The options a command's --help lists, one a line: "-j" and "--jobs" both.
help_opts() {
	dag-cli "$1" --help >help-$1 &&
	sed -n -e "s/^  \(-[a-z]\), \(--[a-z-]*\) .*/\1\n\2/p" \
		-e "s/^  \(--[a-z-]*\) .*/\1/p" help-$1 >opts-$1
}

test_expect_success 'run and backfill list only what they accept' '
	help_opts run &&
	printf "%s\n" --dags --state --date -j --jobs --force --param --at \
		--json --rerun-stale --fsync --executor --partition --account \
		--sbatch-option >expect &&
	test_cmp expect opts-run &&
	help_opts backfill &&
	printf "%s\n" --dags --state --from --to --days-back -j --jobs --force \
		--param --at --json --rerun-stale --reverse --fsync --executor \
		--partition --account --sbatch-option >expect &&
	test_cmp expect opts-backfill &&
	test_expect_code 2 dag-cli run x.yaml --from 2026-01-01 2>err &&
	test_grep "^dag-cli run: unknown option .--from.$" err &&
	test_expect_code 2 dag-cli backfill x.yaml --date 2026-01-01 2>err &&
	test_grep "^dag-cli backfill: unknown option .--date.$" err
'

test_expect_success 'every option --help lists is accepted, every other one refused' '
	cmds="validate plan run backfill status logs clear graph" &&
	for c in $cmds; do
		help_opts $c || return 1
	done &&
	cat opts-* | sort -u >all-opts &&
	test $(wc -l <all-opts) = 27 &&
	for c in $cmds; do
		for o in $(cat all-opts); do
			# Alone, an accepted option fails later: it lacks its
			# value, or the command lacks its DAG.
			test_expect_code 2 dag-cli $c $o >out 2>err || return 1
			if grep -qx -e "$o" opts-$c; then
				test -s err && ! grep -q "unknown option" err ||
				{ echo "$c refuses $o, which its --help lists"; return 1; }
			else
				echo "dag-cli $c: unknown option '\''$o'\''" >expect &&
				head -n 1 err >first &&
				test_cmp expect first ||
				{ echo "$c accepts $o, which its --help omits"; return 1; }
			fi
		done
	done
'

# args_for CMD [SKIP...]: every option CMD's --help lists (but SKIP), each
# with a value when it takes one.
args_for() {
	c=$1 && shift &&
	for o in $(cat opts-$c); do
		case " $* " in *" $o "*) continue ;; esac
		case $o in
		--dags) echo "$o d" ;;
		--state) echo "$o st.db" ;;
		--date|--from) echo "$o 2026-01-01" ;;
		--to) echo "$o 2026-01-02" ;;
		--days-back|--attempt|-j|--jobs) echo "$o 1" ;;
		--force) echo "$o a" ;;
		--param) echo "$o out=out" ;;
		--at) echo "$o HEAD" ;;
		--format) echo "$o json" ;;
		--executor) echo "$o local" ;;
		--partition|--account) echo "$o p" ;;
		--sbatch-option) echo "$o --quiet" ;;
		*) echo "$o" ;;
		esac
	done
}

test_expect_success 'run and backfill take every option their --help lists, at once' '
	git init -q g &&
	cat >g/one.yaml <<-\EOF &&
	dag: one
	start: 2026-01-01
	params: {out: nowhere}
	tasks:
	  a: {kind: command, run: "echo x > {target}", target: "{out}-{date}.txt"}
	EOF
	git -C g add one.yaml &&
	git -C g -c user.name=t -c user.email=t@example.com commit -q -m one &&
	dag-cli run g/one.yaml $(args_for run) >out 2>err &&
	test_cmp /dev/null err &&
	test -f out-2026-01-01.txt &&
	dag-cli backfill g/one.yaml $(args_for backfill --days-back) >out 2>err &&
	test_cmp /dev/null err &&
	test -f out-2026-01-02.txt &&
	DAG_NOW=2026-01-02T12:00:00Z \
		dag-cli backfill g/one.yaml $(args_for backfill --from --to) >out 2>err &&
	test_cmp /dev/null err
'

test_expect_success 'kinds takes no option and lists none' '
	help_opts kinds &&
	test_cmp /dev/null opts-kinds &&
	test_expect_code 2 dag-cli kinds --json 2>err &&
	test_grep "unknown task kind .--json." err
'

test_expect_success 'an option missing its value is a usage error' '
	test_expect_code 2 dag-cli plan x --date 2>err &&
	test_grep "option .--date. needs a value" err
'

test_expect_success '--version prints the version' '
	dag-cli --version >out &&
	test_grep "^dag-cli [0-9]" out
'

test_expect_success 'kinds lists the command kind and its fields' '
	dag-cli kinds command >out &&
	test_grep "^command:" out &&
	test_grep "run .*required" out
'

test_done
