#!/bin/sh
test_description='dags/sailthru.yaml: an export split by table and date, then loaded'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-dags.sh"

D1=2026-01-01 D2=2026-01-02

test_expect_success 'generate two days of exports' '
	"$GEN" sailthru --out data --from $D1 --days 2 --rows 400 -q &&
	test -f data/incoming/sailthru/$D2/_SUCCESS
'

test_expect_success 'the pipeline validates' '
	dag validate "$DAGS/sailthru.yaml"
'

test_expect_success 'the backfill makes every target of both days' '
	backfill_all sailthru $D1 $D2
'

test_expect_success 'outputs are staged by table and date' '
	for d in $D1 $D2; do
		test -f data/processed/blast/$d/blast.csv &&
		test -f data/processed/message_blast/$d/message_blast.csv.gz &&
		test -f data/processed/profile/$d/profile.csv || return 1
	done &&
	truth sailthru_$D1 blasts >want &&
	csv_records data/processed/blast/$D1/blast.csv >got &&
	test_cmp want got
'

test_expect_success 'staged profiles carry no e-mail address' '
	echo profile_id,city,country,plan >want &&
	csv_header data/processed/profile/$D1/profile.csv >got &&
	test_cmp want got &&
	! grep -q @ data/processed/profile/$D1/profile.csv &&
	truth sailthru_$D1 profiles >want &&
	csv_records data/processed/profile/$D1/profile.csv >got &&
	test_cmp want got
'

test_expect_success 'message_blast: cut-off records rejected, the rest loaded' '
	for d in $D1 $D2; do
		field_truth message_blast $d records_rejected sailthru_$d message_blast_rejected &&
		count_truth data/sailthru.db "message_blast WHERE export_day = '\''$d'\''" \
			sailthru_$d message_blast &&
		sql_truth data/sailthru.db "SELECT count(*) FROM message_blast
			WHERE export_day = '\''$d'\'' AND action = '\''open'\''" \
			sailthru_$d opens || return 1
	done
'

test_expect_success 'dimensions hold every blast and profile seen' '
	sql data/sailthru.db "SELECT count(*) FROM dim_blast" &&
	echo $(( $(truth sailthru_$D1 blasts) + $(truth sailthru_$D2 blasts) )) >want &&
	test_cmp want out.sql &&
	count_truth data/sailthru.db "dim_profile" sailthru_$D2 profiles_total
'

test_expect_success 'updated records each export and its row count' '
	printf "%s|%s\n" $D1 $(truth sailthru_$D1 message_blast) \
		$D2 $(truth sailthru_$D2 message_blast) >want &&
	sql data/sailthru.db "SELECT export_day, rows FROM updated ORDER BY 1" &&
	test_cmp want out.sql
'

test_done
