#!/bin/sh
test_description='web: the UI in headless Chromium: the grid against status --json, an instance, the graph, a running backfill'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-web.sh"

# scripts/deps installs Debian's chromium and nodejs, and playwright-core
# from npm into .npm-test/ of the source tree (not committed).
PW_DIR=${PW_DIR:-$SRC_DIR/.npm-test/node_modules}
export PW_DIR
test -x /usr/bin/chromium ||
	web_skip_all "no /usr/bin/chromium (Debian package chromium; scripts/deps installs it)"
web_need node "no node (Debian package nodejs; scripts/deps installs it)"
test -d "$PW_DIR/playwright-core" ||
	web_skip_all "no playwright-core in $PW_DIR (scripts/deps installs it with npm)"

# Screenshots stay in the build directory as the test's artefacts.
ART="$BUILD_DIR/t/artefacts/t7300"

test_expect_success 'setup: two years of a daily chain with failures, and a slow DAG' '
	rm -rf "$ART" && mkdir -p "$ART" dags &&
	cat >dags/chain.yaml <<-\EOF &&
	dag: chain
	schedule: daily
	timezone: UTC
	start: 2024-01-01
	tasks:
	  extract:
	    kind: command
	    run: "echo extracting {date}; echo x >{target}"
	    target: "out/e/{date}.txt"
	  transform:
	    kind: command
	    needs: [extract]
	    run: "case {date} in *-03-1?) echo broken input >&2; exit 3;; esac; cp {needs.extract.target} {target}"
	    target: "out/t/{date}.txt"
	  load:
	    kind: command
	    needs: [transform]
	    run: "cp {needs.transform.target} {target}"
	    target: "out/l/{date}.txt"
	EOF
	cat >dags/slow.yaml <<-\EOF &&
	dag: slow
	schedule: daily
	timezone: UTC
	start: 2026-01-01
	tasks:
	  wait:
	    kind: command
	    run: "sleep 0.4; echo {date} >{target}"
	    target: "out/s/{date}.txt"
	  after:
	    kind: command
	    needs: [wait]
	    run: "sleep 0.4; cp {needs.wait.target} {target}"
	    target: "out/a/{date}.txt"
	EOF
	test_expect_code 1 dag-cli backfill chain --from 2024-01-01 --to 2025-12-31 -j2 >/dev/null 2>&1 &&
	dag-cli status chain --json >status.json &&
	grep -q upstream_failed status.json &&
	web_start
'

test_expect_success 'the pages show what the CLI says, and follow a backfill' '
	node "$SRC_DIR/t/web/browser.mjs" "$(web_url)" "$ART" status.json \
		"$BUILD_DIR/dag-cli" backfill slow --from 2026-01-01 --to 2026-01-06 -j1 &&
	test -s "$ART/grid.png" && test -s "$ART/instance.png" &&
	test -s "$ART/graph.png" && test -s "$ART/progress.png" &&
	web_stop
'

test_done
