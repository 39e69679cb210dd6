/*
 * The UI's files: from the copy of web/ compiled into the binary, or,
 * with serve --web DIR (for working on the UI without rebuilding), from
 * DIR through web_open_under, which neither ".." nor a symbolic link can
 * lead out of.  Every page is one of these files; the rest is /api/.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web_priv.h"
#include "web_static.h"

/* Largest file served from --web DIR. */
#define STATIC_MAX	(4 << 20)

static const char *
type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot && web_files[i].name; i++) {
		const char *d2 = strrchr(web_files[i].name, '.');

		if (d2 && !strcmp(d2, dot))
			return web_files[i].type;
	}
	if (dot && !strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	return "application/octet-stream";
}

static void
from_dir(struct web_req *r, const char *const *segs, int n,
	struct web_reply *rep)
{
	struct stat st;
	ssize_t got;
	int fd = web_open_under(r->ctx->opt->web_dir, segs, n);

	if (fd < 0) {
		web_reply_error(rep, fd == -ENOENT ? 404 : 403, "no such file");
		return;
	}
	if (fstat(fd, &st) < 0 || st.st_size > STATIC_MAX) {
		close(fd);
		web_reply_error(rep, 403, "file too large");
		return;
	}
	sb_grow(&rep->body, (size_t)st.st_size + 1);
	got = read(fd, rep->body.buf, (size_t)st.st_size);
	close(fd);
	web_reply_read(rep, (long)got, type_of(segs[n - 1]));
}

void
web_static(struct web_req *r, struct web_reply *rep)
{
	static const char *const index_seg[] = { "index.html" };
	const char *const *segs = r->path.seg;
	int n = r->path.n;
	size_t i;

	if (n == 0) {
		segs = index_seg;
		n = 1;
	}
	if (r->ctx->opt->web_dir) {
		from_dir(r, segs, n, rep);
		return;
	}
	if (n == 1)
		for (i = 0; web_files[i].name; i++)
			if (!strcmp(web_files[i].name, segs[0])) {
				rep->status = 200;
				rep->type = web_files[i].type;
				rep->data = web_files[i].data;
				rep->data_len = web_files[i].len;
				rep->cache = 1;
				return;
			}
	web_reply_error(rep, 404, "no such file");
}
