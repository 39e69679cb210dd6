#!/bin/sh
test_description='clean: load-time errors in rules, each with its position (cases in t/t4220/)'
. "$(dirname "$0")/lib.sh"

# Each t/t4220/NAME.yaml lists its expected errors in "#> " lines.
for f in "$SRC_DIR"/t/t4220/*.yaml; do
	name=$(basename "$f")
	test_expect_success "$name" '
		cp "$f" "$name" &&
		sed -n "s/^#> //p" "$name" >expect &&
		test_expect_code 2 helper run-kind clean "$name" >out &&
		test_cmp expect out
	'
done

test_done
