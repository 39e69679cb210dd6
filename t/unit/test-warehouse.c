/*
 * Unit tests of engine/warehouse (type checks, canonical forms) and of
 * by-key's file names.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../tasks/by_key.h"
#include "unit.h"
#include "warehouse.h"

static int
fits(enum wh_type t, const char *s)
{
	return wh_value_fits(t, s, strlen(s));
}

UNIT_TEST(types_parse)
{
	enum wh_type t;

	CHECK_INT(wh_type_parse("timestamp", &t), ==, 0);
	CHECK_INT(t, ==, WH_TIMESTAMP);
	CHECK_INT(wh_type_parse("varchar", &t), ==, -EINVAL);
	CHECK_STR(wh_type_sql(WH_DATE), "DATE");
	CHECK_INT(wh_type_from_sql("BIGINT"), ==, WH_INTEGER);
	CHECK_INT(wh_type_from_sql("date"), ==, WH_DATE);
	CHECK_INT(wh_type_from_sql("blob"), ==, WH_TEXT);
}

UNIT_TEST(values_fit_types)
{
	static const struct { enum wh_type t; const char *v; int ok; } cases[] = {
		{ WH_INTEGER, "", 1 }, { WH_INTEGER, "-12", 1 },
		{ WH_INTEGER, "+7", 1 }, { WH_INTEGER, "1.0", 0 },
		{ WH_INTEGER, " 1", 0 }, { WH_INTEGER, "-", 0 },
		{ WH_INTEGER, "9223372036854775807", 1 },
		{ WH_INTEGER, "9223372036854775808", 0 },
		{ WH_REAL, "1.5e3", 1 }, { WH_REAL, ".5", 1 },
		{ WH_REAL, "nan", 0 }, { WH_REAL, "0x10", 0 },
		{ WH_REAL, "1e999", 0 }, { WH_REAL, "$1", 0 },
		{ WH_DATE, "2024-02-29", 1 }, { WH_DATE, "2023-02-29", 0 },
		{ WH_DATE, "2000-02-29", 1 }, { WH_DATE, "1900-02-29", 0 },
		{ WH_DATE, "2024-04-31", 0 }, { WH_DATE, "2024-4-01", 0 },
		{ WH_DATE, "2024-01-01T00:00", 0 },
		{ WH_TIMESTAMP, "2024-01-01", 1 },
		{ WH_TIMESTAMP, "2024-01-01T13:45", 1 },
		{ WH_TIMESTAMP, "2024-01-01 13:45:12.123Z", 1 },
		{ WH_TIMESTAMP, "2024-01-01T13:45:12+05:30", 1 },
		{ WH_TIMESTAMP, "2024-01-01T13:45:12-0800", 1 },
		{ WH_TIMESTAMP, "2024-01-01T24:00", 0 },
		{ WH_TIMESTAMP, "2024-01-01T13:45:12.", 0 },
		{ WH_TIMESTAMP, "2024-01-01T13:45:12Zx", 0 },
		{ WH_TEXT, "anything", 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		if (fits(cases[i].t, cases[i].v) != cases[i].ok)
			UNIT_FAIL("'%s' as %s: expected %d", cases[i].v,
				wh_type_name(cases[i].t), cases[i].ok);
}

UNIT_TEST(canonical_forms)
{
	struct strbuf sb;

	sb_init(&sb);
	CHECK_INT(wh_canon_text(&sb, WH_INTEGER, "+07", 3), ==, 0);
	CHECK_INT(wh_canon_text(&sb, WH_REAL, "1.50", 4), ==, 0);
	CHECK_INT(wh_canon_text(&sb, WH_TEXT, "", 0), ==, 0);
	CHECK_INT(wh_canon_text(&sb, WH_DATE, "", 0), ==, 0);
	CHECK_INT(wh_canon_text(&sb, WH_TEXT, "a:b", 3), ==, 0);
	CHECK_STR(sb.buf, "I7;R1.5;T0:N;T3:a:b");
	CHECK_INT(wh_canon_text(&sb, WH_INTEGER, "x", 1), ==, -EINVAL);
	sb_release(&sb);
}

UNIT_TEST(identifiers)
{
	struct strbuf sb;

	CHECK(wh_ident_ok("dim_line2"));
	CHECK(wh_ident_ok("_x"));
	CHECK(!wh_ident_ok("2x"));
	CHECK(!wh_ident_ok("a-b"));
	CHECK(!wh_ident_ok("sqlite_master"));
	CHECK(!wh_ident_ok(""));
	sb_init(&sb);
	wh_quote_ident(&sb, "a\"b");
	CHECK_STR(sb.buf, "\"a\"\"b\"");
	sb_release(&sb);
}

UNIT_TEST(file_names_round_trip)
{
	static const char *const values[] = { "a", "", "a/b", ".x", "a.b",
		"%", "~", "é", "x y", "..", "_SUCCESS" };
	struct strbuf name, back;
	char longv[600];
	size_t i;

	sb_init(&name);
	sb_init(&back);
	for (i = 0; i < ARRAY_LEN(values); i++) {
		sb_reset(&name);
		sb_reset(&back);
		bykey_file_name(&name, values[i], strlen(values[i]));
		CHECK_INT(bykey_value_of_name(name.buf, &back), ==, 0);
		CHECK_STR(back.buf ? back.buf : "", values[i]);
	}
	/* Long values are cut with a hash, never inside a %XX. */
	memset(longv, '/', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	sb_reset(&name);
	bykey_file_name(&name, longv, strlen(longv));
	CHECK_INT(name.len, ==, 180 + 17 + 4);
	CHECK_INT(name.buf[179 - 2], ==, '%');
	CHECK_INT(name.buf[180], ==, '~');
	sb_reset(&back);
	CHECK_INT(bykey_value_of_name(name.buf, &back), ==, 1);
	/* Spellings we never make are not names. */
	CHECK_INT(bykey_value_of_name("%61.csv", &back), ==, -EINVAL);
	CHECK_INT(bykey_value_of_name("a%2.csv", &back), ==, -EINVAL);
	CHECK_INT(bykey_value_of_name(".a.csv", &back), ==, -EINVAL);
	CHECK_INT(bykey_value_of_name("a.txt", &back), ==, -EINVAL);
	sb_release(&name);
	sb_release(&back);
}

UNIT_TEST(buckets_are_stable)
{
	CHECK_INT(bykey_bucket("2015550001", 10, 16), ==,
		bykey_bucket("2015550001", 10, 16));
	CHECK_INT(bykey_bucket("x", 1, 1), ==, 0);
	CHECK_INT(hash_bytes("", 0), ==, hash_bytes("", 0));
	CHECK(hash_bytes("a", 1) != hash_bytes("b", 1));
}

UNIT_MAIN(types_parse, values_fit_types, canonical_forms, identifiers,
	file_names_round_trip,
	buckets_are_stable)
