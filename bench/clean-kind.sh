#!/bin/sh
# bench/clean-kind.sh BUILD_DIR [ROWS]: the clean kind alone on ROWS
# (default 1,000,000) generated event rows against `zcat | awk` splitting
# the same file, best of three runs each, with peak RSS (GNU time).  The
# kind runs through `t/helper run-kind`, so no scheduler is involved: this
# isolates the reader, the rules and the writer.  Results go to stdout as
# a Markdown table; work files to bench/out/clean-kind/.
set -e
build=$(cd "${1:?usage: bench/clean-kind.sh BUILD_DIR [ROWS]}" && pwd)
rows=${2:-1000000}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/bench/out/clean-kind
mkdir -p "$out"
cd "$out"
[ -s events-$rows.csv.gz ] ||
	python3 "$top/scripts/gen-data" events --rows "$rows" --file events-$rows.csv.gz

# The seeds' clean-ups on this file: zip codes (US rows), revenue bands,
# EventProperties split into the event and the remaining properties.
cat >clean.yaml <<EOF2
input: events-$rows.csv.gz
output: clean.csv
max_reject_ratio: 0.05
rules:
  - trim: zip_code
  - replace: {column: zip_code, pattern: '^\D*(\d+).*$', with: '\$1'}
    where: {column: region, matches: '^[A-Z]{2}$'}
  - replace: {column: zip_code, pattern: '^\D*$', with: ''}
  - truncate: {column: zip_code, width: 5}
  - pad_left: {column: zip_code, width: 5, char: '0'}
    where: {column: zip_code, matches: '.'}
  - strip_chars: {column: annual_revenue, chars: '\$,'}
  - bucket: {column: annual_revenue, into: revenue_band, bounds: [100000, 1000000, 10000000], labels: [small, medium, large, enterprise], default: unknown}
  - json: {column: event_properties, fields: {Event: event}, rest: Properties}
  - drop: [event_properties]
EOF2

best() {	# best of three (by wall time): "seconds rss_kib cpu_seconds"
	b=""
	for i in 1 2 3; do
		/usr/bin/time -f "%e %M %U %S" -o t.out sh -c "$1" >/dev/null 2>&1
		cur=$(awk '{printf "%s %s %.2f", $1, $2, $3 + $4}' t.out)
		if [ -z "$b" ] || [ "$(echo "$cur $b" | awk '{print ($1 < $4)}')" = 1 ]; then
			b=$cur
		fi
	done
	echo "$b"
}

awk_t=$(best "zcat events-$rows.csv.gz | awk -F, '{print \$1 \",\" \$3 \",\" \$5 \",\" \$8}' >awk.csv")
zcat_t=$(best "zcat events-$rows.csv.gz >/dev/null")
clean_t=$(best "'$build/t/helper' run-kind clean clean.yaml")
counts=$("$build/t/helper" run-kind clean clean.yaml 2>/dev/null)
row() {
	set -- $2
	echo "| $name | $1 | $3 | $2 |"
}
echo "| command ($rows rows, $(du -m events-$rows.csv.gz | cut -f1) MB gzip) | wall s | CPU s | peak RSS (KiB) |"
echo "|---|---|---|---|"
name="zcat >/dev/null"; row x "$zcat_t"
name="zcat \| awk -F, (naive split)"; row x "$awk_t"
name="clean with the seeds' rules"; row x "$clean_t"
echo
echo "clean: $counts"
