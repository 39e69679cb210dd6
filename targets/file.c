/*
 * File targets: complete when the file exists (a directory target when it
 * holds _SUCCESS).  Planning ten years of a daily DAG asks about tens of
 * thousands of paths, most of them siblings, so the cache answers each
 * path at most once and, from the second question about one directory
 * on, reads that directory once (readdir into a hash set) instead of
 * stat-ing each path: one getdents for 3,650 targets instead of 3,650
 * stats.  A lone target in its directory still costs a single stat.
 */
#include "config.h"
#include "target.h"
#include "target_cache.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An open-addressing hash map from strings to small values. */
struct strmap {
	char **keys;
	void **vals;
	size_t n, cap;		/* cap is 0 or a power of two */
};

struct dir_entry {
	int asked;		/* paths in it answered by stat so far */
	int listed;		/* names holds its listing */
	int missing;		/* the directory does not exist */
	struct strmap names;
};

struct target_cache {
	struct strmap paths;	/* path -> (void *)1 exists, (void *)2 missing */
	struct strmap dirs;	/* directory -> struct dir_entry */
	struct strmap markers;	/* "database\ntable" -> struct strmap of partitions */
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	/* FNV's low bits mix poorly; the table indexes by them. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t
map_slot(const struct strmap *m, const char *key)
{
	size_t i = (size_t)hash_str(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void *
map_get(const struct strmap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = map_slot(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

static void map_put(struct strmap *m, const char *key, void *val);

static void
map_grow(struct strmap *m)
{
	struct strmap old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->n = 0;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xcalloc(m->cap, sizeof(*m->vals));
	for (i = 0; i < old.cap; i++) {
		if (!old.keys[i])
			continue;
		m->keys[map_slot(m, old.keys[i])] = old.keys[i];
		m->vals[map_slot(m, old.keys[i])] = old.vals[i];
		m->n++;
	}
	free(old.keys);
	free(old.vals);
}

static void
map_put(struct strmap *m, const char *key, void *val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		map_grow(m);
	i = map_slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = xstrdup(key);
		m->n++;
	}
	m->vals[i] = val;
}

/* Remove key (backward-shift deletion keeps probe chains intact). */
static void *
map_del(struct strmap *m, const char *key)
{
	size_t i, j;
	void *val;

	if (!m->cap)
		return NULL;
	i = map_slot(m, key);
	if (!m->keys[i])
		return NULL;
	val = m->vals[i];
	free(m->keys[i]);
	m->keys[i] = NULL;
	m->n--;
	for (j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
		char *k = m->keys[j];
		void *v = m->vals[j];
		m->keys[j] = NULL;
		m->keys[map_slot(m, k)] = k;
		m->vals[map_slot(m, k)] = v;
	}
	return val;
}

static void
map_release(struct strmap *m, void (*free_val)(void *))
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		free(m->keys[i]);
		if (free_val)
			free_val(m->vals[i]);
	}
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static void
dir_free(void *p)
{
	struct dir_entry *d = p;

	if (!d)
		return;
	map_release(&d->names, NULL);
	free(d);
}

static void
set_free(void *p)
{
	struct strmap *set = p;

	if (!set)
		return;
	map_release(set, NULL);
	free(set);
}

int
target_cache_marker(struct target_cache *c, const char *key,
	const char *partition)
{
	struct strmap *set = map_get(&c->markers, key);

	if (!set)
		return -1;
	return map_get(set, partition) != NULL;
}

void
target_cache_marker_add(struct target_cache *c, const char *key,
	const char *partition)
{
	struct strmap *set = map_get(&c->markers, key);

	if (!set) {
		set = xcalloc(1, sizeof(*set));
		map_put(&c->markers, key, set);
	}
	if (partition)
		map_put(set, partition, (void *)1);
}

struct target_cache *
target_cache_new(void)
{
	return xcalloc(1, sizeof(struct target_cache));
}

void
target_cache_free(struct target_cache *c)
{
	if (!c)
		return;
	map_release(&c->paths, NULL);
	map_release(&c->dirs, dir_free);
	map_release(&c->markers, set_free);
	free(c);
}

/* Split path into its directory ("." when none) and last name. */
static char *
split(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*base = path;
		return xstrdup(".");
	}
	*base = slash + 1;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

void
target_cache_forget(struct target_cache *c, const char *path)
{
	const char *base;
	char *dir, *full = NULL;
	size_t len = strlen(path);

	if (!c)
		return;
	if (len && path[len - 1] == '/')
		path = full = xasprintf("%s_SUCCESS", path);
	map_del(&c->paths, path);
	dir = split(path, &base);
	dir_free(map_del(&c->dirs, dir));
	free(dir);
	free(full);
}

static int
list_dir(const char *dir, struct dir_entry *d, struct err *e)
{
	struct dirent *ent;
	DIR *dp = opendir(dir);

	if (!dp) {
		if (errno == ENOENT || errno == ENOTDIR) {
			d->missing = 1;
			return 0;
		}
		return err_set(e, -errno, "cannot read directory '%s': %s", dir,
			strerror(errno));
	}
	while ((ent = readdir(dp)))
		if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
			map_put(&d->names, ent->d_name, (void *)1);
	closedir(dp);
	d->listed = 1;
	return 0;
}

static int
stat_exists(const char *path, struct err *e)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return err_set(e, -errno, "cannot check '%s': %s", path, strerror(errno));
}

static int
cached_exists(struct target_cache *c, const char *path, struct err *e)
{
	struct dir_entry *d;
	const char *base;
	char *dir;
	void *known;
	int rc;

	if ((known = map_get(&c->paths, path)))
		return known == (void *)1;
	dir = split(path, &base);
	d = map_get(&c->dirs, dir);
	if (!d) {
		d = xcalloc(1, sizeof(*d));
		map_put(&c->dirs, dir, d);
	}
	if (!d->listed && !d->missing && d->asked >= 1) {
		rc = list_dir(dir, d, e);
		if (rc < 0)
			goto out;
	}
	if (d->missing)
		rc = 0;
	else if (d->listed)
		rc = map_get(&d->names, base) != NULL;
	else {
		rc = stat_exists(path, e);
		if (rc >= 0) {
			d->asked++;
			map_put(&c->paths, path, rc ? (void *)1 : (void *)2);
		}
	}
out:
	free(dir);
	return rc;
}

int
target_file_exists(struct target_cache *c, const char *path, struct err *e)
{
	size_t len = strlen(path);
	char *full = NULL;
	int rc;

	if (len && path[len - 1] == '/')
		path = full = xasprintf("%s_SUCCESS", path);
	rc = c ? cached_exists(c, path, e) : stat_exists(path, e);
	free(full);
	return rc;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int
target_file_remove(const char *path)
{
	size_t len = strlen(path);

	if (len && path[len - 1] == '/') {
		struct stat st;
		char *dir = xstrndup(path, len - 1);
		int rc = 0;

		if (stat(dir, &st) == 0) {
			/* _SUCCESS first: a half-removed tree must not look complete. */
			char *ok = xasprintf("%s_SUCCESS", path);
			if (unlink(ok) < 0 && errno != ENOENT)
				rc = -errno;
			free(ok);
			if (!rc && nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
				rc = -errno;
		}
		free(dir);
		return rc;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int
kind_exists(struct target_cache *c, const struct target_ref *t, struct err *e)
{
	return target_file_exists(c, t->path, e);
}

static int
kind_remove(const struct target_ref *t, struct err *e)
{
	int rc = target_file_remove(t->path);

	if (rc < 0)
		return err_set(e, rc, "cannot remove '%s': %s", t->path,
			strerror(-rc));
	return 0;
}

static void
kind_describe(const struct target_ref *t, struct strbuf *sb)
{
	sb_adds(sb, t->path);
}

/* A path: complete when the file exists. */
const struct target_kind target_file_kind = {
	.name = "file",
	.exists = kind_exists,
	.remove = kind_remove,
	.describe = kind_describe,
};

/* A path ending in '/': complete when it holds _SUCCESS (the same calls
   tell the two apart by that slash). */
const struct target_kind target_dir_kind = {
	.name = "directory",
	.exists = kind_exists,
	.remove = kind_remove,
	.describe = kind_describe,
};
