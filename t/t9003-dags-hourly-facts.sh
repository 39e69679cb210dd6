#!/bin/sh
test_description='dags/hourly_facts.yaml: distinct counts per campaign and hour'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-dags.sh"

# Yesterday and today, so that --days-back can be tried on them.  The
# clock is pinned (DAG_NOW, as in the other tests): read from the system,
# "today" could change between two commands of a run across midnight.
D1=2026-03-09
D2=2026-03-10
DAG_NOW=${D2}T15:00:00Z
export DAG_NOW

test_expect_success 'generate yesterday and today, hour by hour' '
	"$GEN" hourly --out data --from $D1 --days 2 -q &&
	test -f data/incoming/raw/$D2/visits_23.csv
'

test_expect_success 'the pipeline validates' '
	dag validate "$DAGS/hourly_facts.yaml"
'

test_expect_success 'a date backfills its 24 hours' '
	backfill_all hourly_facts $D1 $D1 &&
	instance_field fact_visits ${D1}T23 state >got &&
	echo done >want &&
	test_cmp want got
'

test_expect_success 'raw rows are loaded as synced, duplicates and all' '
	count_truth data/facts.db "raw_visits WHERE hour LIKE '\''$D1%'\''" hourly_$D1 visit_rows &&
	count_truth data/facts.db "raw_events WHERE hour LIKE '\''$D1%'\''" hourly_$D1 event_rows
'

test_expect_success 'facts count distinct visits, visitors and addresses' '
	for h in 00 07 23; do
		p=${D1}T$h &&
		sed -n "s/^visits_\([0-9]*\)=\(.*\)/\1 \2/p" data/truth/hourly_$p.txt >v &&
		sed -n "s/^visitors_[0-9]*=//p" data/truth/hourly_$p.txt >vr &&
		sed -n "s/^ips_[0-9]*=//p" data/truth/hourly_$p.txt >ip &&
		paste -d" " v vr ip | sort -n | tr " " "|" >want &&
		sql data/facts.db "SELECT campaign_id, visits, visitors, ips
			FROM fact_campaign_visits WHERE hour = '\''$p'\''
			ORDER BY campaign_id" &&
		test_cmp want out.sql || return 1
	done &&
	count_truth data/facts.db "fact_campaign_visits" hourly_$D1 fact_visit_rows
'

test_expect_success 'event facts count distinct events per type' '
	count_truth data/facts.db "fact_campaign_events" hourly_$D1 fact_event_rows &&
	p=${D1}T12 &&
	sed -n "s/^events_\([0-9]*\)_\([a-z_]*\)=\(.*\)/\1|\2|\3/p" data/truth/hourly_$p.txt | sort >want &&
	sql data/facts.db "SELECT campaign_id, event_type, events
		FROM fact_campaign_events WHERE hour = '\''$p'\''" &&
	sort out.sql >got &&
	test_cmp want got
'

test_expect_success '--days-back 1 repulls what is missing of yesterday and today' '
	dag backfill hourly_facts --dags "$DAGS" --days-back 1 -j 2 &&
	all_done hourly_facts $D1 $D2 &&
	count_truth data/facts.db "raw_visits WHERE hour LIKE '\''$D2%'\''" hourly_$D2 visit_rows &&
	count_truth data/facts.db "fact_campaign_visits WHERE hour LIKE '\''$D2%'\''" \
		hourly_$D2 fact_visit_rows &&
	count_truth data/facts.db "raw_visits WHERE hour LIKE '\''$D1%'\''" hourly_$D1 visit_rows
'

test_done
