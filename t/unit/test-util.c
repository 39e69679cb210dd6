/* Unit tests of engine/util.c and engine/node.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "util.h"
#include "node.h"

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
	node_rejects_tabs_and_empty, node_json_round_trip)
