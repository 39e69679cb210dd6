/*
 * Shared helpers.  Allocation failures abort here, in one place, so the rest
 * of the code can treat memory as infallible (the STYLE rule: library code
 * never exits, except for running out of memory).
 */
#include "config.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void
oom(size_t n)
{
	fprintf(stderr, "dag-cli: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *
xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		oom(count * size);
	return p;
}

void *
xmalloc_aligned(size_t align, size_t n)
{
	void *p;

	if (posix_memalign(&p, align, n ? n : 1))
		oom(n);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	return sb_detach(&sb);
}

void
err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
	e->file[0] = '\0';
	e->line = 0;
	e->column = 0;
}

static void err_vset(struct err *e, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
err_vset(struct err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->file[0] = '\0';
	e->line = e->column = 0;
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int
err_set_at(struct err *e, int code, const char *file, int line, int column,
	const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->column = column;
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

void
err_print(const struct err *e, FILE *fp)
{
	if (e->file[0] && e->line > 0)
		fprintf(fp, "%s:%d:%d: %s\n", e->file, e->line, e->column, e->msg);
	else if (e->file[0])
		fprintf(fp, "%s: %s\n", e->file, e->msg);
	else
		fprintf(fp, "%s\n", e->msg);
}

void
errs_add(struct errs *l, const struct err *e)
{
	if (l->n >= ERRS_MAX) {
		l->dropped++;
		return;
	}
	VEC_PUSH(*l, *e);
}

void
errs_addf(struct errs *l, int code, const char *file, int line, int column,
	const char *fmt, ...)
{
	struct err e;
	va_list ap;

	err_clear(&e);
	snprintf(e.file, sizeof(e.file), "%s", file ? file : "");
	e.line = line;
	e.column = column;
	va_start(ap, fmt);
	err_vset(&e, code, fmt, ap);
	va_end(ap);
	errs_add(l, &e);
}

static int
err_cmp(const void *a, const void *b)
{
	const struct err *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->column > y->column) - (x->column < y->column);
}

void
errs_print(const struct errs *l, FILE *fp)
{
	size_t i;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), err_cmp);
	for (i = 0; i < l->n; i++)
		err_print(&l->v[i], fp);
	if (l->dropped)
		fprintf(fp, "... and %zu more errors\n", l->dropped);
}

void
errs_release(struct errs *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = l->dropped = 0;
}

void
sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void
sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

void
sb_grow(struct strbuf *sb, size_t extra)
{
	size_t want = sb->len + extra + 1;
	size_t cap;

	if (want <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 64;
	while (cap < want)
		cap *= 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void
sb_add(struct strbuf *sb, const void *data, size_t n)
{
	sb_grow(sb, n);
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void
sb_addc(struct strbuf *sb, char c)
{
	sb_grow(sb, 1);
	sb->buf[sb->len++] = c;
	sb->buf[sb->len] = '\0';
}

void
sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void
sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

void
sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

char *
sb_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");
	sb_init(sb);
	return p;
}

char *
read_stream(FILE *fp, size_t *len)
{
	struct strbuf sb;
	char buf[8192];
	size_t n;

	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		sb_add(&sb, buf, n);
	if (ferror(fp)) {
		sb_release(&sb);
		return NULL;
	}
	if (len)
		*len = sb.len;
	sb_addc(&sb, '\0');
	return sb_detach(&sb);
}

char *
read_path(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *text;
	int saved;

	if (!fp)
		return NULL;
	text = read_stream(fp, len);
	saved = errno;
	fclose(fp);
	errno = saved;
	return text;
}

/* Milliseconds on the clock id. */
static int64_t
ms_on(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
wall_ms(void)
{
	return ms_on(CLOCK_REALTIME);
}

int64_t
clock_ms(void)
{
	return ms_on(CLOCK_MONOTONIC);
}

void
utc_stamp(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
duration_parse(const char *s, int64_t *ms)
{
	char *end;
	double v;
	double unit;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		unit = 1000;
	else if (!strcmp(end, "ms"))
		unit = 1;
	else if (!strcmp(end, "m"))
		unit = 60 * 1000.0;
	else if (!strcmp(end, "h"))
		unit = 3600 * 1000.0;
	else if (!strcmp(end, "d"))
		unit = 86400 * 1000.0;
	else
		return -EINVAL;
	if (v * unit > 9e15)
		return -EINVAL;
	*ms = (int64_t)(v * unit);
	return 0;
}

int
size_parse(const char *s, uint64_t *bytes)
{
	static const char units[] = "kmgt";
	const char *u;
	char *end;
	double v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno)
		return -EINVAL;
	if (*end && (u = strchr(units, *end | 0x20))) {
		v *= (double)(1ULL << (10 * (u - units + 1)));
		end++;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > 1.8e19)
		return -EINVAL;
	*bytes = (uint64_t)v;
	return 0;
}

int
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];
	size_t i, j;

	if (lb >= ARRAY_LEN(row))
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *
str_nearest(const char *name, const char *const *cand, size_t n)
{
	const char *best = NULL;
	int bestd = 1 << 30;
	size_t i;
	int len = (int)strlen(name), limit = (len + 2) / 3;

	for (i = 0; i < n; i++) {
		int d = edit_distance(name, cand[i]);
		if (d < bestd) {
			bestd = d;
			best = cand[i];
		}
	}
	return bestd <= limit && bestd < len ? best : NULL;
}

char *
path_abs(const char *path)
{
	char *cwd;
	char *out;

	if (path[0] == '/' || !(cwd = getcwd(NULL, 0)))
		return xstrdup(path);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	out = xasprintf("%s/%s", strcmp(cwd, "/") ? cwd : "", path);
	free(cwd);
	return out;
}

int
mkdir_p(const char *path, int mode)
{
	char *p = xstrdup(path);
	char *s;
	int rc = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			rc = -errno;
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
		rc = -errno;
out:
	free(p);
	return rc;
}

/* The directory path is in, as a new string: "." for none, "/" at the root. */
static char *
parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
mkdir_parent(const char *path)
{
	char *dir = parent_dir(path);
	int rc = 0;

	/* The current directory and the root exist. */
	if (strcmp(dir, ".") && strcmp(dir, "/"))
		rc = mkdir_p(dir, 0777);
	free(dir);
	return rc;
}

int
fsync_parent(const char *path)
{
	char *p = parent_dir(path);
	int fd, rc = 0;

	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
	} else {
		if (fsync(fd) < 0 && errno != EINVAL)
			rc = -errno;
		close(fd);
	}
	free(p);
	return rc;
}

int
write_full(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
write2_full(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
	struct iovec iov[2];
	ssize_t w;

	iov[0].iov_base = (void *)a;
	iov[0].iov_len = alen;
	iov[1].iov_base = (void *)b;
	iov[1].iov_len = blen;
	do
		w = writev(fd, iov, 2);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	/* A short write: finish with plain writes. */
	if ((size_t)w < alen) {
		int rc = write_full(fd, (const char *)a + w, alen - (size_t)w);

		return rc < 0 ? rc : write_full(fd, b, blen);
	}
	return write_full(fd, (const char *)b + ((size_t)w - alen),
		blen - ((size_t)w - alen));
}

static pthread_rwlock_t env_rw = PTHREAD_RWLOCK_INITIALIZER;

void
env_lock(int exclusive)
{
	if (exclusive)
		pthread_rwlock_wrlock(&env_rw);
	else
		pthread_rwlock_rdlock(&env_rw);
}

void
env_unlock(void)
{
	pthread_rwlock_unlock(&env_rw);
}
