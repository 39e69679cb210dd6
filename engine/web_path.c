/*
 * Request paths, made safe before anything looks at them.  The server
 * asks libmicrohttpd not to unescape URLs, so this file is the one place
 * a path is decoded: once (a double-encoded "%252e%252e" stays "%2e%2e"
 * and is then refused for its '%'), then split and checked segment by
 * segment.  Files are opened one component at a time with O_NOFOLLOW
 * from a directory descriptor, so a symbolic link planted under a served
 * directory cannot lead out of it either.  fuzz/fuzz-webpath.c holds
 * these functions to their promises.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
web_url_decode(const char *in, size_t len, char *out, int plus_space)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -EINVAL;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == '\0')
			return -EINVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

int
web_segment_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!*p || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' ||
		    *p == '%')
			return 0;
	return 1;
}

int
web_path_parse(const char *raw, struct web_path *p)
{
	size_t len = strlen(raw);
	char *s, *seg;
	int n;

	memset(p, 0, sizeof(*p));
	if (len > WEB_PATH_MAX)
		return -ENAMETOOLONG;
	if (raw[0] != '/')
		return -EINVAL;
	n = web_url_decode(raw, len, p->buf, 0);
	if (n < 0)
		return n;
	/* "/" alone is the root: no segments. */
	if (n == 1)
		return 0;
	p->dir = p->buf[n - 1] == '/';
	if (p->dir)
		p->buf[--n] = '\0';
	s = p->buf + 1;
	for (;;) {
		char *slash = strchr(s, '/');

		if (slash)
			*slash = '\0';
		seg = s;
		if (!web_segment_ok(seg))
			return -EINVAL;
		if (p->n == WEB_SEGS_MAX)
			return -ENAMETOOLONG;
		p->seg[p->n++] = seg;
		if (!slash)
			break;
		s = slash + 1;
	}
	return 0;
}

int
web_open_under(const char *dir, const char *const *segs, int n)
{
	struct stat st;
	int fd, next, i;

	if (n < 1)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!web_segment_ok(segs[i]))
			return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		int last = i == n - 1;

		next = openat(fd, segs[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			(last ? O_NONBLOCK : O_DIRECTORY));
		close(fd);
		if (next < 0)
			return errno == ELOOP ? -EACCES : -errno;
		fd = next;
	}
	/* Only regular files: a FIFO or a device would hang or worse. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EACCES;
	}
	return fd;
}
