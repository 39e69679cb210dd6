/*
 * Unit tests of engine/rules.c: the json rule against jansson itself (the
 * fast path must give jansson's answer on every input), number text, and
 * rule binding errors.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include "unit.h"
#include "node.h"
#include "jtext.h"
#include "rules.h"
#include "util.h"

static struct rules *
compile(const char *yaml)
{
	struct errs errs = { 0 };
	struct node *root = NULL;
	struct rules *rs = NULL;
	struct err e;

	if (node_parse_string(yaml, strlen(yaml), "t.yaml", &root, &errs) < 0)
		UNIT_FAIL("bad yaml");
	if (rules_compile(node_get(root, "rules"), &rs, &e) < 0)
		UNIT_FAIL("compile: %s", e.msg);
	node_free(root);
	errs_release(&errs);
	return rs;
}

/*
 * What jansson makes of text for path a.b (NULL: not JSON), through
 * jtext_load, which only adds numbers beyond jansson's range.
 */
static char *
by_jansson(const char *text, const char *const *path)
{
	json_error_t jerr;
	json_t *root = jtext_load(text, strlen(text), JSON_DECODE_ANY, &jerr);
	const json_t *v = root;
	struct strbuf sb;

	if (!root)
		return NULL;
	for (; v && *path; path++)
		v = json_is_object(v) ? json_object_get(v, *path) : NULL;
	sb_init(&sb);
	jtext_value(v, &sb);
	json_decref(root);
	return sb_detach(&sb);
}

UNIT_TEST(json_rule_agrees_with_jansson)
{
	static const char *const texts[] = {
		"{\"event\": \"a\", \"n\": 1}",
		"{ \"event\" : \"x\\\"y\\\\z\\n\" , \"d\": {\"k\": [1, 2.5, {}]} }",
		"{\"event\": \"caf\\u00e9\", \"x\": \"\\/\"}",
		"{\"event\": 4.99, \"p\": 45.184263, \"q\": -0.5, \"r\": 2.50}",
		"{\"event\": 1e5, \"big\": 123456789012345678901}",
		"{\"event\": -0, \"z\": 0, \"f\": false, \"t\": true, \"n\": null}",
		"{\"event\": 1, \"event\": 2}",
		"{\"d\": {\"event\": {\"deep\": [true]}}, \"event\": {}}",
		"{\"event\": 0.001, \"e\": 0.0001, \"g\": 123456789012.5}",
		"{\"event\": \"tab\there\"}",
		"{\"event\": 01}",
		"{\"event\": \"x\"} trailing",
		"[1, 2]",
		"\"just a string\"",
		"{\"event\": [\"a\", {\"b\": null}], \"ok\": 1}",
		"{}",
		"  {\"event\":\"\xf0\x9f\x8e\xb9\"}  ",
		"{\"event\": 1e999, \"d\": {\"event\": -123456789012345678901}}",
		"{\"event\": \"\\u0000\"}",
	};
	static const char *const p_event[] = { "event", NULL };
	static const char *const p_deep[] = { "d", "event", NULL };
	struct rules *rs = compile("rules:\n"
		"  - json: {column: j, fields: {e: event, deep: d.event}, rest: r}\n");
	static const char *const hdr[] = { "j" };
	struct err e;
	size_t i;

	CHECK_INT(rules_bind(rs, hdr, 1, &e), ==, 0);
	CHECK_INT(rules_out_width(rs), ==, 4);
	for (i = 0; i < ARRAY_LEN(texts); i++) {
		char *f[1] = { (char *)texts[i] };
		size_t l[1] = { strlen(texts[i]) };
		char **out;
		size_t *ol;
		const char *why;
		char *want_e = by_jansson(texts[i], p_event);
		char *want_d = by_jansson(texts[i], p_deep);
		int rc = rules_apply(rs, f, l, &out, &ol, &why, &e);

		if (!want_e) {
			if (rc != 1)
				UNIT_FAIL("%s: accepted, jansson rejects it", texts[i]);
			CHECK(strstr(why, "is not JSON: ") != NULL);
			continue;
		}
		if (rc != 0)
			UNIT_FAIL("%s: rejected (%s), jansson accepts it",
				texts[i], why);
		if (strlen(want_e) != ol[1] || memcmp(want_e, out[1], ol[1]))
			UNIT_FAIL("%s: event '%.*s', jansson '%s'", texts[i],
				(int)ol[1], out[1], want_e);
		if (strlen(want_d) != ol[2] || memcmp(want_d, out[2], ol[2]))
			UNIT_FAIL("%s: d.event '%.*s', jansson '%s'", texts[i],
				(int)ol[2], out[2], want_d);
		free(want_e);
		free(want_d);
	}
	rules_free(rs);
}

/*
 * The one-column record {j: text} through the rules "json j: event into e,
 * the rest into props; drop j": its output fields into *out, *ol.  The
 * caller frees the rules returned.
 */
static struct rules *
json_rest(const char *text, char ***out, size_t **ol)
{
	struct rules *rs = compile("rules:\n"
		"  - json: {column: j, fields: {e: event}, rest: props}\n"
		"  - drop: j\n");
	static const char *const hdr[] = { "j" };
	char *f[1] = { (char *)text };
	size_t l[1] = { strlen(text) };
	const char *why;
	struct err e;

	CHECK_INT(rules_bind(rs, hdr, 1, &e), ==, 0);
	CHECK_STR(rules_out_header(rs)[0], "e");
	CHECK_STR(rules_out_header(rs)[1], "props");
	CHECK_INT(rules_apply(rs, f, l, out, ol, &why, &e), ==, 0);
	return rs;
}

/* Output field k is exactly want. */
static void
check_field(char **out, size_t *ol, size_t k, const char *want)
{
	CHECK_INT(ol[k], ==, strlen(want));
	CHECK(!memcmp(out[k], want, ol[k]));
}

UNIT_TEST(json_rest_drops_taken_keys)
{
	char **out;
	size_t *ol;
	struct rules *rs = json_rest("{\"a\": 1, \"event\": \"x\", "
		"\"b\": {\"c\": 2.5}}", &out, &ol);

	check_field(out, ol, 1, "{\"a\":1,\"b\":{\"c\":2.5}}");
	rules_free(rs);
}

UNIT_TEST(json_numbers_beyond_range_keep_their_text)
{
	char **out;
	size_t *ol;
	struct rules *rs = json_rest("{\"event\": "
		"-123456789012345678901234567890, \"x\": [1E+999, 2]}", &out,
		&ol);

	check_field(out, ol, 0, "-123456789012345678901234567890");
	check_field(out, ol, 1, "{\"x\":[1E+999,2]}");
	rules_free(rs);
}

UNIT_TEST(reals_print_shortest)
{
	static const struct { double d; const char *s; } cases[] = {
		{ 4.99, "4.99" }, { 45.184263, "45.184263" }, { -0.5, "-0.5" },
		{ 2.0, "2.0" }, { 1e300, "1e+300" },
		{ 0.1 + 0.2, "0.30000000000000004" }, { 1e-7, "1e-07" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		json_t *v = json_real(cases[i].d);
		struct strbuf sb;

		sb_init(&sb);
		jtext_value(v, &sb);
		CHECK_STR(sb.buf, cases[i].s);
		sb_release(&sb);
		json_decref(v);
	}
}

UNIT_TEST(bind_names_the_rule)
{
	struct rules *rs = compile("rules:\n  - trim: a\n  - upper: zz\n");
	static const char *const hdr[] = { "a", "b" };
	struct err e;

	CHECK_INT(rules_bind(rs, hdr, 2, &e), ==, -EINVAL);
	CHECK_STR(e.msg, "rule 2 (upper) at line 3: no column 'zz' (the "
		"columns here are: a, b)");
	rules_free(rs);
}

UNIT_MAIN(json_rule_agrees_with_jansson, json_rest_drops_taken_keys,
	json_numbers_beyond_range_keep_their_text,
	reals_print_shortest, bind_names_the_rule)
