#!/bin/sh
test_description='partitions in every zone of the tz database match zoneinfo'
. "$(dirname "$0")/lib.sh"

if ! python3 -c 'import zoneinfo; zoneinfo.ZoneInfo("Europe/Berlin")' 2>/dev/null; then
	say "ok 1 # SKIP python3 with zoneinfo and tzdata is needed (scripts/deps installs them)"
	say "1..1"
	exit 0
fi

# t/tz-check.py computes, from zoneinfo alone, the days around every kind
# of offset change of every zone from 1970 to 2037 and a sample of
# ordinary days, and compares dag-cli's ids, bounds, steps and templates.
test_expect_success 'every zone, 1970-2037: ids, bounds, steps, templates' '
	mkdir w &&
	python3 "$SRC_DIR/t/tz-check.py" "$BUILD_DIR/t/helper" w >out &&
	cat out &&
	test_grep " 0 differ$" out
'

test_done
