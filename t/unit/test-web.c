/*
 * The web server's request paths: decoding once, refusing what could
 * lead out of a served directory, and opening files without following
 * links.  Cases as data: the raw path and what must come of it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "web.h"

static const struct {
	const char *raw;
	int rc;			/* 0, -EINVAL or -ENAMETOOLONG */
	const char *joined;	/* the segments joined by '|' when rc is 0 */
} paths[] = {
	{ "/", 0, "" },
	{ "/index.html", 0, "index.html" },
	{ "/api/dags/vsf/grid", 0, "api|dags|vsf|grid" },
	{ "/api/dags/", 0, "api|dags" },
	{ "/a%20b", 0, "a b" },
	{ "/a+b", 0, "a+b" },		/* '+' is a blank only in queries */
	{ "/..", -EINVAL, NULL },
	{ "/../etc/passwd", -EINVAL, NULL },
	{ "/web/../../etc/passwd", -EINVAL, NULL },
	{ "/%2e%2e/etc/passwd", -EINVAL, NULL },
	{ "/%2E%2E/etc/passwd", -EINVAL, NULL },
	{ "/.%2e/x", -EINVAL, NULL },
	{ "/%252e%252e/x", -EINVAL, NULL },	/* decoded once: "%2e%2e" */
	{ "/./x", -EINVAL, NULL },
	{ "//etc/passwd", -EINVAL, NULL },
	{ "/a//b", -EINVAL, NULL },
	{ "etc/passwd", -EINVAL, NULL },
	{ "/%2fetc%2fpasswd", -EINVAL, NULL },
	{ "/a%5c..%5cb", -EINVAL, NULL },
	{ "/a\\b", -EINVAL, NULL },
	{ "/%00", -EINVAL, NULL },
	{ "/a%0ab", -EINVAL, NULL },
	{ "/%zz", -EINVAL, NULL },
	{ "/%4", -EINVAL, NULL },
	{ "/%", -EINVAL, NULL },
	{ "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", -ENAMETOOLONG, NULL },
};

UNIT_TEST(paths_decode_once_and_refuse_escapes)
{
	size_t i;
	int k;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct web_path p;
		char joined[WEB_PATH_MAX * 2] = "";
		int rc = web_path_parse(paths[i].raw, &p);

		if (rc != paths[i].rc)
			UNIT_FAIL("'%s': got %d, want %d", paths[i].raw, rc,
				paths[i].rc);
		if (rc)
			continue;
		for (k = 0; k < p.n; k++) {
			if (k)
				strcat(joined, "|");
			strcat(joined, p.seg[k]);
		}
		CHECK_STR(joined, paths[i].joined);
	}
}

UNIT_TEST(long_paths_are_refused)
{
	char raw[WEB_PATH_MAX + 8];
	struct web_path p;

	memset(raw, 'a', sizeof(raw) - 1);
	raw[0] = '/';
	raw[sizeof(raw) - 1] = '\0';
	CHECK_INT(web_path_parse(raw, &p), ==, -ENAMETOOLONG);
}

UNIT_TEST(query_values_decode_plus_and_percent)
{
	char out[32];

	CHECK_INT(web_url_decode("a+b%2Bc", 7, out, 1), ==, 5);
	CHECK_STR(out, "a b+c");
	CHECK_INT(web_url_decode("a%00", 4, out, 1), ==, -EINVAL);
}

UNIT_TEST(open_under_follows_no_link)
{
	char dir[] = "/tmp/test-web.XXXXXX";
	const char *inside[] = { "sub", "f.txt" };
	const char *link1[] = { "out.txt" };
	const char *link2[] = { "subl", "f.txt" };
	const char *dots[] = { "..", "etc" };
	const char *fifo[] = { "fifo" };
	char path[256];
	int fd;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK_INT(mkdir(path, 0700), ==, 0);
	snprintf(path, sizeof(path), "%s/sub/f.txt", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	CHECK_INT(symlink("/etc/passwd", path), ==, 0);
	snprintf(path, sizeof(path), "%s/subl", dir);
	CHECK_INT(symlink("sub", path), ==, 0);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK_INT(mkfifo(path, 0600), ==, 0);

	fd = web_open_under(dir, inside, 2);
	CHECK(fd >= 0);
	close(fd);
	CHECK_INT(web_open_under(dir, link1, 1), ==, -EACCES);
	CHECK(web_open_under(dir, link2, 2) < 0);
	CHECK_INT(web_open_under(dir, dots, 2), ==, -EINVAL);
	CHECK_INT(web_open_under(dir, fifo, 1), ==, -EACCES);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK_INT(system(path), ==, 0);
}

UNIT_MAIN(paths_decode_once_and_refuse_escapes, long_paths_are_refused,
	query_values_decode_plus_and_percent, open_under_follows_no_link)
