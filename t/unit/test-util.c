/* Unit tests of engine/util.c and engine/node.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "util.h"
#include "node.h"

#include <jansson.h>

/* duration_parse and size_parse behind one signature, for one table. */
static int
parse_duration(const char *text, int64_t *v)
{
	return duration_parse(text, v);
}

static int
parse_size(const char *text, int64_t *v)
{
	uint64_t b = 0;
	int rc = size_parse(text, &b);

	*v = (int64_t)b;
	return rc;
}

UNIT_TEST(durations_and_sizes_parse)
{
	static const struct {
		int (*parse)(const char *text, int64_t *v);
		const char *text;
		int rc;
		int64_t want;		/* ms, or bytes */
	} cases[] = {
		{ parse_duration, "30s", 0, 30000 },
		{ parse_duration, "5m", 0, 300000 },
		{ parse_duration, "1h", 0, 3600000 },
		{ parse_duration, "2d", 0, 172800000 },
		{ parse_duration, "250ms", 0, 250 },
		{ parse_duration, "12", 0, 12000 },
		{ parse_duration, "5 min", -EINVAL, 0 },
		{ parse_duration, "", -EINVAL, 0 },
		{ parse_duration, "-1s", -EINVAL, 0 },
		{ parse_size, "100", 0, 100 },
		{ parse_size, "10k", 0, 10240 },
		{ parse_size, "5MB", 0, 5 << 20 },
		{ parse_size, "1.5G", 0, 3LL << 29 },
		{ parse_size, "lots", -EINVAL, 0 },
		{ parse_size, "12x", -EINVAL, 0 },
		{ parse_size, "-1k", -EINVAL, 0 },
		{ parse_size, NULL, -EINVAL, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		int64_t v = 0;

		CHECK_INT(cases[i].parse(cases[i].text, &v), ==, cases[i].rc);
		if (cases[i].rc == 0)
			CHECK_INT(v, ==, cases[i].want);
	}
}

UNIT_TEST(strbuf_grows)
{
	struct strbuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; i < 1000; i++)
		sb_addf(&sb, "%d,", i);
	CHECK_INT(sb.len, ==, 3890);
	CHECK(!strncmp(sb.buf, "0,1,2,", 6));
	sb_release(&sb);
}

UNIT_TEST(edit_distance_suggests)
{
	CHECK_INT(edit_distance("archiv", "archive"), ==, 1);
	CHECK_INT(edit_distance("comand", "command"), ==, 1);
	CHECK_INT(edit_distance("abc", "xyz"), ==, 3);
}

UNIT_TEST(node_parses_with_positions)
{
	const char *y = "dag: x\ntasks:\n  a:\n    kind: command\n";
	struct errs errs = { 0 };
	struct node *root;
	const struct node *a;

	CHECK_INT(node_parse_string(y, strlen(y), "t.yaml", &root, &errs), ==, 0);
	CHECK_STR(node_get_str(root, "dag"), "x");
	a = node_get(node_get(root, "tasks"), "a");
	CHECK(a != NULL);
	CHECK_INT(a->line, ==, 4);
	CHECK_INT(a->column, ==, 5);
	CHECK_STR(node_get_str(a, "kind"), "command");
	node_free(root);
	errs_release(&errs);
}

/*
 * y does not parse: no tree, and one error, at line:column, whose message
 * is msg (unless NULL).
 */
static void
check_rejected(const char *y, int line, int column, const char *msg)
{
	struct errs errs = { 0 };
	struct node *root;

	CHECK_INT(node_parse_string(y, strlen(y), "t.yaml", &root, &errs), ==,
		-EINVAL);
	CHECK(root == NULL);
	CHECK_INT(errs.n, ==, 1);
	CHECK_INT(errs.v[0].line, ==, line);
	CHECK_INT(errs.v[0].column, ==, column);
	if (msg)
		CHECK_STR(errs.v[0].msg, msg);
	errs_release(&errs);
}

UNIT_TEST(node_rejects_duplicate_keys)
{
	check_rejected("a: 1\nb: 2\na: 3\n", 3, 1,
		"duplicate key 'a' (first at line 1)");
}

UNIT_TEST(node_rejects_tabs_and_empty)
{
	struct errs errs = { 0 };
	struct node *root;

	check_rejected("a:\n\tb: 1\n", 2, 1, NULL);
	CHECK_INT(node_parse_string("", 0, "e.yaml", &root, &errs), ==, -EINVAL);
	CHECK(strstr(errs.v[0].msg, "empty") != NULL);
	errs_release(&errs);
}

UNIT_TEST(node_json_round_trip)
{
	const char *y = "a: [1, two]\nb: {c: 'x\"y'}\n";
	struct errs errs = { 0 };
	struct node *root, *back;
	char *j, *j2;
	struct err e;

	CHECK_INT(node_parse_string(y, strlen(y), "t.yaml", &root, &errs), ==, 0);
	j = node_to_json(root);
	CHECK_STR(j, "{\"a\":[\"1\",\"two\"],\"b\":{\"c\":\"x\\\"y\"}}");
	CHECK_INT(node_from_json(j, &back, &e), ==, 0);
	j2 = node_to_json(back);
	CHECK_STR(j2, j);
	free(j);
	free(j2);
	node_free(root);
	node_free(back);
}

/*
 * The tree jansson made of JSON text (what node_from_json did before it
 * read the text itself): the reference of json_agrees_with_jansson.
 */
static struct node *
ref_from_jansson(json_t *j)
{
	struct node *n;
	const char *key;
	json_t *v;
	size_t i;
	char buf[64];

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		n = node_new_map();
		json_object_foreach(j, key, v)
			node_map_set(n, key, ref_from_jansson(v));
		return n;
	case JSON_ARRAY:
		n = node_new_seq();
		json_array_foreach(j, i, v)
			node_seq_push(n, ref_from_jansson(v));
		return n;
	case JSON_STRING:
		n = node_new_scalar(json_string_value(j));
		n->quoted = 1;
		return n;
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
			json_integer_value(j));
		return node_new_scalar(buf);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(j));
		return node_new_scalar(buf);
	case JSON_TRUE:
		return node_new_scalar("true");
	case JSON_FALSE:
		return node_new_scalar("false");
	default:
		return node_new_scalar("");
	}
}

/* Same shape, texts and quoting. */
static int
same_tree(const struct node *a, const struct node *b)
{
	size_t i;

	if (a->type != b->type || a->n != b->n || a->quoted != b->quoted ||
	    ((a->str || b->str) && (!a->str || !b->str ||
	    strcmp(a->str, b->str))))
		return 0;
	for (i = 0; i < a->n; i++)
		if ((a->keys && !same_tree(a->keys[i], b->keys[i])) ||
		    !same_tree(a->items[i], b->items[i]))
			return 0;
	return 1;
}

/*
 * node_from_json and node_to_json read and write what jansson did: the
 * same trees from the same texts, the same errors (not their words), the
 * same text back, including "null" for a string that is not UTF-8.
 */
UNIT_TEST(json_agrees_with_jansson)
{
	static const char *const texts[] = {
		"{}", "[]", "\"\"", "0", "-0", "1", "-12", "007", "1.5", "0.1",
		"-0.0", "1e5", "1E-3", "2.5e+3", "1.", ".5", "1e", "-", "+1",
		"9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "1e400", "1e-400", "true", "false",
		"null", "tru", "truex", "nul", " \t\r\n{ \"a\" : [ 1 , \"b\" ] } ",
		"{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{1:2}", "{\"a\":1",
		"[", "\"abc", "{\"a\":1}x", "", "   ",
		"\"tab\\there\\nline\\r\\b\\f\\/\\\\\\\"\"",
		"\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", "\"\\ud83d\"",
		"\"\\ude00\"", "\"\\ud83dx\"", "\"\\u12\"", "\"\\x\"",
		"\"a\\u0000b\"", "{\"a\\u0000\":1}", "\"raw\x01ctl\"",
		"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "\"\xc3\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"\xff\"", "\"\x7f\"",
		"{\"a\":1,\"b\":2,\"a\":3}", "{\"k\":{\"x\":[]},\"k\":\"last\"}",
		"[{\"a\":[[],{}]},[\"x\",null,true,false,1.25]]",
		"{\"q\":\"x\\\"y\",\"u\":\"\\u001f\\u0001\"}",
		("{\"b\":{\"z\":1,\"a\":[{\"y\":2,\"x\":3}]},\"B\":0,"
		"\"a\":\"\",\"\u00e9\":1,\"ab\":2,\"a b\":3}"),
	};
	char deep[4200];
	size_t i, k;

	for (i = 0; i <= sizeof(texts) / sizeof(texts[0]); i++) {
		const char *t = i < sizeof(texts) / sizeof(texts[0]) ?
			texts[i] : deep;
		json_error_t je;
		json_t *j;
		struct node *ours = NULL, *ref;
		struct err e;
		int rc;

		if (t == deep) {
			for (k = 0; k < 2049; k++)
				deep[k] = '[';
			for (k = 0; k < 2049; k++)
				deep[2049 + k] = ']';
			deep[4098] = '\0';
		}
		j = json_loads(t, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
		err_clear(&e);
		rc = node_from_json(t, &ours, &e);
		if (!j) {
			if (rc == 0)
				UNIT_FAIL("accepted what jansson refused: %s", t);
			CHECK(ours == NULL);
			CHECK(strstr(e.msg, "invalid JSON at") != NULL);
			continue;
		}
		if (rc < 0)
			UNIT_FAIL("refused what jansson read: %s: %s", t, e.msg);
		ref = ref_from_jansson(j);
		if (!same_tree(ours, ref))
			UNIT_FAIL("another tree than jansson's: %s", t);
		{
			json_t *d = node_to_jansson(ours);
			char *want = json_dumps(d, JSON_COMPACT |
				JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
			char *got = node_to_json(ours);

			struct strbuf sorted;

			CHECK_STR(got, want ? want : "null");
			free(want);
			free(got);
			/* The canonical text of status_def_digest. */
			want = json_dumps(d, JSON_SORT_KEYS | JSON_COMPACT |
				JSON_ENCODE_ANY);
			sb_init(&sorted);
			if (node_json_put_sorted(&sorted, ours) < 0)
				CHECK(want == NULL);
			else
				CHECK_STR(sorted.len ? sorted.buf : "", want);
			sb_release(&sorted);
			free(want);
			json_decref(d);
		}
		node_free(ours);
		node_free(ref);
		json_decref(j);
	}
}

/* Strings that are not UTF-8 cannot be written: "null", as before. */
UNIT_TEST(json_writes_only_utf8)
{
	struct node *m = node_new_map();
	char *j;

	node_map_set(m, "ok", node_new_scalar("caf\xc3\xa9\x01\x7f"));
	j = node_to_json(m);
	CHECK_STR(j, "{\"ok\":\"caf\xc3\xa9\\u0001\x7f\"}");
	free(j);
	node_map_set(m, "bad", node_new_scalar("\xc3("));
	j = node_to_json(m);
	CHECK_STR(j, "null");
	free(j);
	node_free(m);
}

UNIT_TEST(writes_are_whole)
{
	char path[] = "/tmp/test-util-XXXXXX";
	static char big[300000];
	char *got;
	size_t i;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	CHECK_INT(write2_full(fd, "head,", 5, big, sizeof(big)), ==, 0);
	CHECK_INT(write2_full(fd, "", 0, "!", 1), ==, 0);
	CHECK_INT(write_full(fd, "end", 3), ==, 0);
	CHECK_INT(lseek(fd, 0, SEEK_END), ==, 5 + (long)sizeof(big) + 4);
	got = malloc(5 + sizeof(big) + 4);
	CHECK_INT(pread(fd, got, 5 + sizeof(big) + 4, 0), ==,
		(long)(5 + sizeof(big) + 4));
	CHECK(!memcmp(got, "head,", 5));
	CHECK(!memcmp(got + 5, big, sizeof(big)));
	CHECK(!memcmp(got + 5 + sizeof(big), "!end", 4));
	free(got);
	close(fd);
	/* A closed descriptor: the error, not a silent short file. */
	CHECK_INT(write2_full(fd, "a", 1, "b", 1), ==, -EBADF);
	CHECK_INT(write_full(fd, "a", 1), ==, -EBADF);
	unlink(path);
}

UNIT_MAIN(writes_are_whole, durations_and_sizes_parse, strbuf_grows,
	edit_distance_suggests,
	node_parses_with_positions, node_rejects_duplicate_keys,
	node_rejects_tabs_and_empty, node_json_round_trip,
	json_agrees_with_jansson, json_writes_only_utf8)
