/* Unit tests of engine/util.c and engine/node.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "util.h"
#include "node.h"

UNIT_TEST(durations_parse)
{
	int64_t ms = 0;

	CHECK_INT(duration_parse("30s", &ms), ==, 0);
	CHECK_INT(ms, ==, 30000);
	CHECK_INT(duration_parse("5m", &ms), ==, 0);
	CHECK_INT(ms, ==, 300000);
	CHECK_INT(duration_parse("1h", &ms), ==, 0);
	CHECK_INT(ms, ==, 3600000);
	CHECK_INT(duration_parse("2d", &ms), ==, 0);
	CHECK_INT(ms, ==, 172800000);
	CHECK_INT(duration_parse("250ms", &ms), ==, 0);
	CHECK_INT(ms, ==, 250);
	CHECK_INT(duration_parse("12", &ms), ==, 0);
	CHECK_INT(ms, ==, 12000);
	CHECK_INT(duration_parse("5 min", &ms), ==, -EINVAL);
	CHECK_INT(duration_parse("", &ms), ==, -EINVAL);
	CHECK_INT(duration_parse("-1s", &ms), ==, -EINVAL);
}

UNIT_TEST(sizes_parse)
{
	uint64_t b = 0;

	CHECK_INT(size_parse("100", &b), ==, 0);
	CHECK_INT(b, ==, 100);
	CHECK_INT(size_parse("10k", &b), ==, 0);
	CHECK_INT(b, ==, 10240);
	CHECK_INT(size_parse("5MB", &b), ==, 0);
	CHECK_INT(b, ==, 5 << 20);
	CHECK_INT(size_parse("1.5G", &b), ==, 0);
	CHECK_INT(b, ==, 3ULL << 29);
	CHECK_INT(size_parse("lots", &b), ==, -EINVAL);
	CHECK_INT(size_parse("12x", &b), ==, -EINVAL);
	CHECK_INT(size_parse("-1k", &b), ==, -EINVAL);
	CHECK_INT(size_parse(NULL, &b), ==, -EINVAL);
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

UNIT_TEST(node_rejects_duplicate_keys)
{
	const char *y = "a: 1\nb: 2\na: 3\n";
	struct errs errs = { 0 };
	struct node *root;

	CHECK_INT(node_parse_string(y, strlen(y), "t.yaml", &root, &errs), ==, -EINVAL);
	CHECK(root == NULL);
	CHECK_INT(errs.n, ==, 1);
	CHECK_INT(errs.v[0].line, ==, 3);
	CHECK_INT(errs.v[0].column, ==, 1);
	CHECK_STR(errs.v[0].msg, "duplicate key 'a' (first at line 1)");
	errs_release(&errs);
}

UNIT_TEST(node_rejects_tabs_and_empty)
{
	const char *y = "a:\n\tb: 1\n";
	struct errs errs = { 0 };
	struct node *root;

	CHECK_INT(node_parse_string(y, strlen(y), "t.yaml", &root, &errs), ==, -EINVAL);
	CHECK_INT(errs.v[0].line, ==, 2);
	CHECK_INT(errs.v[0].column, ==, 1);
	errs_release(&errs);
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

UNIT_MAIN(writes_are_whole, durations_parse, sizes_parse, strbuf_grows, edit_distance_suggests,
	node_parses_with_positions, node_rejects_duplicate_keys,
	node_rejects_tabs_and_empty, node_json_round_trip)
