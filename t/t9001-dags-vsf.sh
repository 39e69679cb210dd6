#!/bin/sh
test_description='dags/vsf.yaml: three generated days into the star schema'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-dags.sh"

D1=2026-01-01 D2=2026-01-02 D3=2026-01-03

test_expect_success 'generate three days of events, lines, accounts, limits' '
	"$GEN" vsf --out data --from $D1 --days 3 --rows 1500 --lines 300 -q &&
	test -f data/incoming/events_20260103.csv.gz &&
	test "$(truth vsf_$D1 malformed)" -gt 0
'

test_expect_success 'the pipeline validates' '
	dag validate "$DAGS/vsf.yaml"
'

test_expect_success 'the backfill makes every target of the three days' '
	backfill_all vsf $D1 $D3
'

test_expect_success 'the archive is the export, with a checksum that verifies' '
	for d in $D1 $D2 $D3; do
		a=data/archive/2026/01/events_$d.csv.gz &&
		cmp data/incoming/events_$(echo $d | tr -d -).csv.gz $a &&
		sha256sum <$a | cut -c1-64 >want &&
		cut -c1-64 $a.sha256 >got &&
		test_cmp want got || return 1
	done
'

test_expect_success 'clean keeps exactly the valid records and counts them' '
	for d in $D1 $D2 $D3; do
		truth vsf_$d valid >want &&
		csv_records data/clean/events_$d.csv.gz >got &&
		test_cmp want got &&
		instance_field clean $d records_out >got &&
		test_cmp want got &&
		field_truth clean $d records_in vsf_$d rows &&
		field_truth clean $d records_rejected vsf_$d malformed || return 1
	done
'

test_expect_success 'the rejects are exactly the malformed lines' '
	for d in $D1 $D2 $D3; do
		cut -f1 data/truth/vsf_$d.malformed >want &&
		reject_lines data/clean/events_$d.rejects.csv >got &&
		test_cmp want got || return 1
	done
'

test_expect_success 'EventProperties is split into event and properties' '
	cat >want <<-\EOF &&
	event_time,insert_id,mdn,account_id,line_id,device_os,app_version,event_type,event,properties,city
	EOF
	csv_header data/clean/events_$D1.csv.gz >got &&
	test_cmp want got &&
	sql_truth data/warehouse.db "SELECT count(*) FROM fact_event
		WHERE day = '\''$D1'\'' AND event_type = '\''purchase'\''
		AND event = '\''iap.purchase'\'' AND properties LIKE '\''{%sku%}'\''" \
		vsf_$D1 type_purchase
'

test_expect_success 'by_mdn holds 16 buckets with every valid record' '
	test -f data/by_mdn/$D1/_SUCCESS &&
	ls data/by_mdn/$D1 | grep -v "^_SUCCESS$" >files &&
	test "$(wc -l <files)" = 16 &&
	n=0 &&
	for f in $(cat files); do
		echo mdn,event_time,event_type,event >want &&
		csv_header data/by_mdn/$D1/$f >got &&
		test_cmp want got &&
		n=$((n + $(csv_records data/by_mdn/$D1/$f))) || return 1
	done &&
	test "$n" = "$(truth vsf_$D1 valid)"
'

test_expect_success 'the fact table holds each day once, unknown lines on key 0' '
	for d in $D1 $D2 $D3; do
		count_truth data/warehouse.db "fact_event WHERE day = '\''$d'\''" vsf_$d valid &&
		count_truth data/warehouse.db "fact_event WHERE day = '\''$d'\'' AND line_key = 0" \
			vsf_$d unknown_line || return 1
	done
'

test_expect_success 'lines are overwritten (SCD1), accounts keep history (SCD2)' '
	count_truth data/warehouse.db "dim_line WHERE line_key <> 0" vsf_$D3 lines &&
	sql data/warehouse.db "SELECT count(*) FROM dim_account WHERE account_key <> 0" &&
	echo $(( $(truth vsf_$D1 accounts) + $(truth vsf_$D2 accounts_changed) + $(truth vsf_$D3 accounts_changed) )) >want &&
	test_cmp want out.sql &&
	sql_truth data/warehouse.db "SELECT count(*) FROM dim_account
		WHERE current = 1 AND account_key <> 0" \
		vsf_$D3 accounts
'

test_expect_success 'accounts get five-digit zips and revenue buckets' '
	sql_truth data/warehouse.db "SELECT count(*) FROM dim_account
		WHERE current = 1 AND account_key <> 0 AND revenue_bucket = '\''unknown'\''" \
		vsf_$D3 accounts_bucket_unknown &&
	sql_truth data/warehouse.db "SELECT count(*) FROM dim_account
		WHERE current = 1 AND account_key <> 0 AND coalesce(zip5, '\'''\'') = '\'''\''" \
		vsf_$D3 accounts_without_zip5 &&
	sql data/warehouse.db "SELECT count(*) FROM dim_account
		WHERE current = 1 AND account_key <> 0 AND coalesce(zip5, '\'''\'') NOT GLOB '\''[0-9][0-9][0-9][0-9][0-9]'\''
		AND coalesce(zip5, '\'''\'') <> '\'''\''" &&
	echo 0 >want &&
	test_cmp want out.sql
'

test_expect_success 'limits are loaded per day against the line dimension' '
	for d in $D1 $D2 $D3; do
		count_truth data/warehouse.db "fact_limit WHERE day = '\''$d'\'' AND line_key > 0" \
			vsf_$d limits || return 1
	done
'

test_expect_success 'a second backfill runs nothing and changes nothing' '
	sql data/warehouse.db "SELECT count(*) FROM fact_event" &&
	mv out.sql before &&
	dag backfill vsf --dags "$DAGS" --from $D1 --to $D3 -j 2 &&
	sql data/warehouse.db "SELECT count(*) FROM fact_event" &&
	test_cmp before out.sql
'

test_expect_success 'a day whose export is missing waits (exit 3)' '
	test_expect_code 3 dag-cli run vsf --dags "$DAGS" --date 2026-01-04 >out 2>err
'

test_done
