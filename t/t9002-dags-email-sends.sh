#!/bin/sh
test_description='dags/email_sends.yaml: send-data batches found by pattern and loaded'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-dags.sh"

D1=2026-01-01 D2=2026-01-02

test_expect_success 'generate two days of send data' '
	"$GEN" email --out data --from $D1 --days 2 -q &&
	test "$(truth email_$D2 sent_files)" != 4
'

test_expect_success 'the pipeline validates' '
	dag validate "$DAGS/email_sends.yaml"
'

test_expect_success 'the backfill makes every target of both days' '
	backfill_all email_sends $D1 $D2
'

test_expect_success 'every batch of the day is read, the bounce feed is not' '
	for d in $D1 $D2; do
		echo $(( $(truth email_$d sent) + $(truth email_$d sent_rejected) )) >want &&
		instance_field clean_sent $d records_in >got &&
		test_cmp want got &&
		field_truth clean_sent $d records_rejected email_$d sent_rejected || return 1
	done
'

test_expect_success 'sends and opens are loaded once per day' '
	for d in $D1 $D2; do
		count_truth data/email.db "email_sent WHERE day = '\''$d'\''" email_$d sent &&
		count_truth data/email.db "email_open WHERE day = '\''$d'\''" email_$d opens || return 1
	done
'

test_expect_success 'addresses are trimmed and lower case' '
	sql data/email.db "SELECT count(*) FROM email_sent
		WHERE email <> lower(trim(email))" &&
	echo 0 >want &&
	test_cmp want out.sql
'

test_expect_success 'campaign_daily has sends and unique opens per campaign' '
	sed -n "s/^sent_campaign_\([0-9]*\)=\(.*\)/\1|\2/p" data/truth/email_$D1.txt >sends &&
	sed -n "s/^unique_opens_campaign_\([0-9]*\)=\(.*\)/\2/p" data/truth/email_$D1.txt >uniq &&
	paste -d"|" sends uniq >want &&
	sql data/email.db "SELECT c.campaign_id, d.sends, d.unique_opens
		FROM campaign_daily d JOIN dim_campaign c USING (campaign_key)
		WHERE d.day = '\''$D1'\'' ORDER BY c.campaign_id" &&
	test_cmp want out.sql
'

test_expect_success 'a rerun after clearing a load does not duplicate rows' '
	dag clear email_sends load_sent --dags "$DAGS" --date $D1 --downstream --yes &&
	dag run email_sends --dags "$DAGS" --date $D1 &&
	count_truth data/email.db "email_sent WHERE day = '\''$D1'\''" email_$D1 sent
'

test_done
