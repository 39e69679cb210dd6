#!/bin/sh
test_description='load-time checks of by-key and the warehouse kinds, as data'
. "$(dirname "$0")/lib.sh"

# Each case: "=== KIND NAME", the task's YAML, "--- expect", the errors
# helper run-kind prints (exit 2) for NAME.yaml.
cat >cases <<'EOT'
=== dimension-load type
table: dim
natural_key: [a]
surrogate_key: k
columns: {a: text, b: txt}
--- expect
type.yaml:4:23: unknown type 'txt' for column 'b' (expected text, integer, real, date or timestamp)
=== dimension-load history
table: dim
natural_key: a
surrogate_key: k
history: scd3
columns: {a: text}
--- expect
history.yaml:4:10: unknown history 'scd3' (expected scd1 or scd2)
=== dimension-load reserved
table: dim
natural_key: a
surrogate_key: k
history: scd2
columns: {a: text, k: integer, current: integer}
--- expect
reserved.yaml:5:20: column 'k' is the surrogate_key: the loader assigns it, leave it out of columns
reserved.yaml:5:32: column 'current' is kept by history: scd2, leave it out of columns
=== dimension-load names
table: dim-line
natural_key: [a, 2b]
surrogate_key: k
columns: {a: text, "b c": text}
max_reject_ratio: 2
--- expect
names.yaml:1:8: table 'dim-line' is not a valid name (expected letters, digits and _, not starting with a digit)
names.yaml:2:18: natural_key '2b' is not a valid column name
names.yaml:4:20: column 'b c' is not a valid name (expected letters, digits and _, not starting with a digit)
names.yaml:5:19: max_reject_ratio '2' must be a number from 0 to 1
=== fact-load lookups
table: f
lookups: {column: a, dimension: d}
--- expect
lookups.yaml:2:10: lookups must be a list of maps, not a map
=== fact-load lookup
table: f
on_missing: maybe
columns: {a: text, a_key: text, partition: text}
lookups:
  - {column: a, dimension: d, into: a_key, colour: red}
  - {column: [x, y], dimension: d, natural_key: [x]}
  - {column: b}
--- expect
lookup.yaml:2:13: unknown on_missing 'maybe' (expected reject or unknown)
lookup.yaml:3:27: column 'a_key' receives a surrogate key: its type must be integer, not 'text'
lookup.yaml:3:33: column 'partition' is the partition_column: the loader fills it, leave it out of columns
lookup.yaml:5:44: unknown lookup field 'colour' (expected column, dimension, natural_key, into, on_missing or surrogate_key)
lookup.yaml:6:5: a lookup on several columns needs into: (the column receiving the surrogate key)
lookup.yaml:6:49: natural_key names 1 columns but column names 2
lookup.yaml:7:5: a lookup needs column and dimension
=== sql unterminated
table: t
sql: "SELECT 'abc"
--- expect
unterminated.yaml:2:6: sql is empty or unterminated (an open quote or comment)
=== sql notarget
sql: SELECT 1
--- expect
notarget.yaml:1:1: a sql task needs target: {table: NAME} (or table:)
=== by-key limits
key: k
output: out
buckets: 0
max_open_files: 5000
--- expect
limits.yaml:2:9: output 'out' is a directory: end it with '/'
limits.yaml:3:10: buckets '0' must be from 1 to 100000
limits.yaml:4:17: max_open_files '5000' must be from 1 to 1024
EOT

test_expect_success 'every case reports exactly its errors' '
	awk "
		/^=== / { kind = \$2; name = \$3; out = name \".yaml\";
			print kind, name >> \"list\"; next }
		/^--- expect/ { out = name \".expect\"; next }
		{ print > out }
	" cases &&
	while read kind name; do
		test_expect_code 2 helper run-kind $kind $name.yaml >$name.out &&
		test_cmp $name.expect $name.out || return 1
	done <list
'

test_expect_success 'a run without a required field fails cleanly' '
	printf "input: in.csv\nkey: k\n" >req1.yaml &&
	printf "input: in.csv\ntable: x\ndatabase: a.db\n" >req2.yaml &&
	test_expect_code 1 helper run-kind by-key req1.yaml >out1 &&
	test_expect_code 1 helper run-kind dimension-load req2.yaml >out2 &&
	test_expect_code 1 helper run-kind fact-load req1.yaml >out3 &&
	cat out1 out2 out3 | grep "^error" >got &&
	cat >expect <<-\EOT &&
	error: task '"'"'task'"'"': no output given
	error: task '"'"'task'"'"': no natural_key given
	error: task '"'"'task'"'"': no database given
	EOT
	test_cmp expect got
'

test_done
