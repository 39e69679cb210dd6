#!/bin/sh
test_description='data staleness: an upstream made again or an input delivered again after a dependant consumed it makes the dependant stale; status and plan say why; --rerun-stale redoes them in order'
. "$(dirname "$0")/lib.sh"

# state TASK PARTITION: the instance's state and reason in status --json.
state() {
	status_of "$1" "$2" st.yaml --from 2026-03-01 --to 2026-03-02
}

test_expect_success 'setup: check, archive, count, report over two days' '
	mkdir incoming &&
	printf "a\nb\n" >incoming/2026-03-01.csv &&
	printf "c\n" >incoming/2026-03-02.csv &&
	daily_dag st 2026-03-01 <<-\EOF &&
	tasks:
	  arrived:
	    kind: external-check
	    target: "incoming/{date}.csv"
	  keep:
	    kind: archive
	    needs: [arrived]
	    source: "{needs.arrived.target}"
	    target: "archive/{date}.csv"
	  count:
	    kind: command
	    needs: [keep]
	    run: "wc -l < {needs.keep.target} > {target}"
	    target: "counts/{date}.txt"
	  report:
	    kind: command
	    needs: [count]
	    run: "cp {needs.count.target} {target}"
	    target: "reports/{date}.txt"
	EOF
	dag-cli backfill st.yaml --from 2026-03-01 --to 2026-03-02 &&
	dag-cli status st.yaml >grid &&
	! grep stale grid
'

test_expect_success 'an upstream made again: its dependant is stale, and status says why' '
	dag-cli clear st.yaml count --date 2026-03-01 --yes &&
	dag-cli run st.yaml --date 2026-03-01 &&
	state_is count 2026-03-01 done &&
	state_is report 2026-03-01 stale \
		"^count 2026-03-01 was made again at 20[0-9-]*T[0-9:]*Z, after report consumed it$" &&
	dag-cli status st.yaml >grid &&
	test_grep "^2026-03-01 .* stale$" grid &&
	state_is report 2026-03-02 done
'

test_expect_success 'plan says why; a plain run leaves stale instances alone' '
	dag-cli plan st.yaml --date 2026-03-01 >plan &&
	test_grep "^2026-03-01  report   stale    count 2026-03-01 was made again at .*, after report consumed it$" plan &&
	dag-cli run st.yaml --date 2026-03-01 >out &&
	state_is report 2026-03-01 stale
'

test_expect_success 'run --rerun-stale redoes it; then nothing is stale' '
	dag-cli plan st.yaml --date 2026-03-01 --rerun-stale >plan &&
	test_grep "^2026-03-01  report   run      stale: count 2026-03-01 was made again" plan &&
	dag-cli run st.yaml --date 2026-03-01 --rerun-stale >out &&
	test_grep "1 ran" out &&
	state_is report 2026-03-01 done
'

test_expect_success '--force on an upstream makes its dependants stale too' '
	dag-cli run st.yaml --date 2026-03-02 --force count &&
	state_is report 2026-03-02 stale
'

test_expect_success 'an input delivered again: the archive and what needs it are stale' '
	dag-cli run st.yaml --date 2026-03-02 --rerun-stale &&
	printf "c\nd\ne\n" >incoming/2026-03-02.csv &&
	state_is keep 2026-03-02 stale \
		"^input .incoming/2026-03-02.csv. changed after keep consumed it" &&
	state_is count 2026-03-02 stale \
		"^needs keep 2026-03-02, which is stale$" &&
	state_is report 2026-03-02 stale &&
	state_is keep 2026-03-01 done
'

test_expect_success 'backfill --rerun-stale picks the corrected export up, in order' '
	dag-cli backfill st.yaml --from 2026-03-01 --to 2026-03-02 --rerun-stale &&
	test_cmp incoming/2026-03-02.csv archive/2026-03-02.csv &&
	echo 3 >expect &&
	test_cmp expect counts/2026-03-02.txt &&
	test_cmp expect reports/2026-03-02.txt &&
	dag-cli status st.yaml >grid &&
	! grep stale grid
'

test_done
