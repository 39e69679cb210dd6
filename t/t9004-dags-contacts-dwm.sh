#!/bin/sh
test_description='dags/contacts_dwm.yaml: US zip codes, revenue buckets, contact history'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-dags.sh"

D1=2026-01-01 D2=2026-01-02

test_expect_success 'generate two days of contact exports' '
	"$GEN" contacts --out data --from $D1 --days 2 -q &&
	test "$(truth contacts_$D1 rejected)" -gt 0
'

test_expect_success 'the pipeline validates' '
	dag validate "$DAGS/contacts_dwm.yaml"
'

test_expect_success 'the first day runs' '
	dag run contacts_dwm --dags "$DAGS" --date $D1 &&
	all_done contacts_dwm $D1 $D1
'

test_expect_success 'records without an e-mail address are rejected' '
	field_truth clean $D1 records_rejected contacts_$D1 rejected &&
	field_truth clean $D1 records_out contacts_$D1 rows
'

test_expect_success 'zip codes and revenue come out as the DWM rules say' '
	for i in 0 1 2 3 4; do
		truth contacts_$D1 sample$i >want &&
		e=$(cat want) && e=${e%%|*} &&
		sql data/contacts.db "SELECT email, coalesce(zip5, '\'''\''), revenue_bucket
			FROM dim_contact WHERE email = '\''$e'\'' AND current = 1" &&
		test_cmp want out.sql || return 1
	done
'

test_expect_success 'every US zip code is five digits or empty' '
	sql_truth data/contacts.db "SELECT count(*) FROM dim_contact
		WHERE country = '\''US'\'' AND coalesce(zip5, '\'''\'') <> '\'''\''" \
		contacts_$D1 us_zip5 &&
	sql data/contacts.db "SELECT count(*) FROM dim_contact
		WHERE coalesce(zip5, '\'''\'') NOT GLOB '\''[0-9][0-9][0-9][0-9][0-9]'\''
		AND coalesce(zip5, '\'''\'') <> '\'''\''" &&
	echo 0 >want &&
	test_cmp want out.sql &&
	sql data/contacts.db "SELECT count(*) FROM dim_contact
		WHERE country <> '\''US'\'' AND coalesce(zip5, '\'''\'') <> '\'''\''" &&
	test_cmp want out.sql
'

test_expect_success 'the second day adds versions for changed contacts (SCD2)' '
	dag run contacts_dwm --dags "$DAGS" --date $D2 &&
	count_truth data/contacts.db "dim_contact" contacts_$D2 dim_rows &&
	count_truth data/contacts.db "dim_contact WHERE current = 1" contacts_$D2 dim_current
'

test_expect_success 'the quality table counts current contacts per bucket' '
	sed -n "s/^current_\([a-z0-9_]*\)=/\1|/p" data/truth/contacts_$D2.txt >want &&
	sql data/contacts.db "SELECT revenue_bucket, contacts, us_contacts, us_with_zip5
		FROM contact_quality WHERE day = '\''$D2'\'' ORDER BY revenue_bucket" &&
	test_cmp want out.sql
'

test_done
