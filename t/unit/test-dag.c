/*
 * Unit tests of the loader's pieces: calendar arithmetic, zones, the
 * template parser, and loading from memory.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "range.h"
#include "template.h"
#include "unit.h"

UNIT_TEST(civil_days_round_trip)
{
	int64_t d, y;
	int m, dd;

	CHECK_INT(civil_days(1970, 1, 1), ==, 0);
	CHECK_INT(civil_days(2000, 3, 1), ==, 11017);
	CHECK_INT(civil_days(1969, 12, 31), ==, -1);
	for (d = -800000; d < 800000; d += 997) {
		civil_from_days(d, &y, &m, &dd);
		CHECK_INT(civil_days(y, m, dd), ==, d);
	}
	CHECK_INT(civil_month_days(2024, 2), ==, 29);
	CHECK_INT(civil_month_days(2100, 2), ==, 28);
	CHECK_INT(civil_month_days(2000, 2), ==, 29);
	CHECK_INT(civil_month_days(2026, 13), ==, 0);
}

UNIT_TEST(zone_offsets_and_gaps)
{
	struct zone *z = NULL;
	struct err e;
	int64_t mid = civil_days(2026, 3, 8) * 86400;
	char buf[64];

	CHECK_INT(zone_open("America/New_York", &z, &e), ==, 0);
	/* 02:30 does not exist on 2026-03-08: the jump is 07:00 UTC. */
	CHECK_INT(zone_to_utc(z, mid + 2 * 3600 + 1800), ==, mid + 7 * 3600);
	CHECK_INT(zone_offset(z, mid + 7 * 3600 - 1), ==, -5 * 3600);
	CHECK_INT(zone_offset(z, mid + 7 * 3600), ==, -4 * 3600);
	/* 01:30 on 2026-11-01 happens twice: the first is EDT. */
	mid = civil_days(2026, 11, 1) * 86400;
	CHECK_INT(zone_to_utc(z, mid + 5400), ==, mid + 5400 + 4 * 3600);
	zone_iso(z, mid + 5400 + 5 * 3600, buf, sizeof(buf));
	CHECK_STR(buf, "2026-11-01T01:30:00-05:00");
	CHECK_STR(zone_abbr(z, mid + 5400 + 5 * 3600), "EST");
	zone_free(z);
	CHECK_INT(zone_open("Nowhere/Atlantis", &z, &e), ==, -EINVAL);
	CHECK_INT(zone_open("../etc/passwd", &z, &e), ==, -EINVAL);
	CHECK(z == NULL);
}

UNIT_TEST(template_parts)
{
	struct template *t = NULL;
	struct err e;
	size_t pos = 0;

	CHECK_INT(template_compile("a/{date-1d:%Y%m%d}/{{x}/{env.HOME}", 0, &t,
		&pos, &e), ==, 0);
	CHECK_INT(t->n, ==, 4);
	CHECK_STR(t->parts[0].text, "a/");
	CHECK_STR(t->parts[1].ref.name, "date");
	CHECK_INT(t->parts[1].ref.offset, ==, -1);
	CHECK_INT(t->parts[1].ref.unit, ==, 'd');
	CHECK_STR(t->parts[1].ref.fmt, "%Y%m%d");
	CHECK_INT(t->parts[1].ref.pos, ==, 2);
	CHECK_STR(t->parts[2].text, "/{x}/");
	CHECK_STR(t->parts[3].ref.name, "env.HOME");
	template_free(t);
}

UNIT_TEST(template_whole_and_regex)
{
	struct template *t = NULL;
	struct err e;
	size_t pos = 0;

	CHECK_INT(template_compile("{needs.a.files}", 0, &t, &pos, &e), ==, 0);
	CHECK(template_whole_ref(t) != NULL);
	template_free(t);
	CHECK_INT(template_compile("^\\d{5}{2,}_{date}$", TEMPLATE_REGEX, &t,
		&pos, &e), ==, 0);
	CHECK_INT(t->n, ==, 3);
	CHECK_STR(t->parts[0].text, "^\\d{5}{2,}_");
	template_free(t);
	CHECK_INT(template_compile("x{5}", 0, &t, &pos, &e), ==, -EINVAL);
	CHECK_INT(pos, ==, 1);
	CHECK_INT(template_compile("ab {date", 0, &t, &pos, &e), ==, -EINVAL);
	CHECK_INT(pos, ==, 3);
	CHECK_STR(e.msg, "unclosed '{' in template; write '{{' for a literal brace");
	CHECK_INT(template_compile("{date+1x}", 0, &t, &pos, &e), ==, -EINVAL);
	CHECK_INT(template_compile("{date:}", 0, &t, &pos, &e), ==, -EINVAL);
	CHECK_INT(template_compile("{a..b}", 0, &t, &pos, &e), ==, -EINVAL);
	CHECK(t == NULL);
}

UNIT_TEST(load_string_and_resolve)
{
	static const char y[] =
		"dag: m\nstart: 2026-01-01\nparams: {root: r}\n"
		"tasks:\n  a: {kind: command, run: \"echo {root}\", "
		"target: \"{root}/{date}.txt\"}\n";
	struct errs errs = { 0 };
	struct dag *dag = NULL;
	struct partition *p = NULL;
	struct err e;
	size_t n = 0;
	char *target = NULL;

	CHECK_INT(dag_load_string(y, strlen(y), "m.yaml", &dag, &errs), ==, 0);
	CHECK_STR(dag->path, "m.yaml");
	CHECK_INT(dag->start_epoch, ==, civil_days(2026, 1, 1) * 86400);
	CHECK_INT(dag_partitions(dag, "2026-01-02", "2026-01-04", 0, &p, &n,
		&e), ==, 0);
	CHECK_INT(n, ==, 3);
	CHECK_INT(dag_resolve_target(dag, 0, &p[2], NULL, &target, &e), ==, 0);
	CHECK_STR(target, "r/2026-01-04.txt");
	free(target);
	free(p);
	dag_free(dag);
	CHECK_INT(dag_load_string("dag: [", 6, "bad.yaml", &dag, &errs), ==,
		-EINVAL);
	CHECK(dag == NULL);
	CHECK_INT(errs.n, ==, 1);
	errs_release(&errs);
}

UNIT_MAIN(civil_days_round_trip, zone_offsets_and_gaps, template_parts,
	template_whole_and_regex, load_string_and_resolve)
