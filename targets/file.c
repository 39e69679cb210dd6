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
#include "hash.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dir_entry {
	int asked;		/* paths in it answered by stat so far */
	int listed;		/* names holds its listing */
	int missing;		/* the directory does not exist */
	struct hash names;	/* name -> (void *)1 */
};

struct target_cache {
	struct hash paths;	/* path -> (void *)1 exists, (void *)2 missing */
	struct hash dirs;	/* directory -> struct dir_entry */
	struct hash markers;	/* "database\ntable" -> struct hash of partitions */
};

static void dir_free(void *p);
static void set_free(void *p);

static const struct hash_type dir_type = { .name = "directories",
	.val_free = dir_free };
static const struct hash_type set_type = { .name = "marker tables",
	.val_free = set_free };

/* The value of string key in h, or NULL. */
static void *
get(const struct hash *h, const char *key)
{
	const struct hash_entry *x = hash_find(h, key, strlen(key));

	return x ? x->ptr : NULL;
}

/*
 * Set string key to val.  Never full: a cache holds what one process
 * asked, far below the table's 2^32 keys.
 */
static void
put(struct hash *h, const char *key, void *val)
{
	int added;

	hash_add(h, key, strlen(key), &added)->ptr = val;
}

static void
dir_free(void *p)
{
	struct dir_entry *d = p;

	if (!d)
		return;
	hash_release(&d->names);
	free(d);
}

static void
set_free(void *p)
{
	struct hash *set = p;

	if (!set)
		return;
	hash_release(set);
	free(set);
}

int
target_cache_marker(struct target_cache *c, const char *key,
	const char *partition)
{
	struct hash *set = get(&c->markers, key);

	if (!set)
		return -1;
	return get(set, partition) != NULL;
}

void
target_cache_marker_add(struct target_cache *c, const char *key,
	const char *partition)
{
	struct hash *set = get(&c->markers, key);

	if (!set) {
		set = xmalloc(sizeof(*set));
		hash_init(set, NULL);
		put(&c->markers, key, set);
	}
	if (partition)
		put(set, partition, (void *)1);
}

struct target_cache *
target_cache_new(void)
{
	struct target_cache *c = xmalloc(sizeof(*c));

	hash_init(&c->paths, NULL);
	hash_init(&c->dirs, &dir_type);
	hash_init(&c->markers, &set_type);
	return c;
}

void
target_cache_free(struct target_cache *c)
{
	if (!c)
		return;
	hash_release(&c->paths);
	hash_release(&c->dirs);
	hash_release(&c->markers);
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
	hash_del(&c->paths, path, strlen(path), NULL);
	dir = split(path, &base);
	hash_del(&c->dirs, dir, strlen(dir), NULL);
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
			put(&d->names, ent->d_name, (void *)1);
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
	const struct hash_entry *x;
	struct dir_entry *d;
	const char *slash = strrchr(path, '/'), *base;
	char *dir;
	void *known;
	int rc;

	/*
	 * Most questions fall in a directory already listed: its entry is
	 * found by the path's own bytes, with nothing allocated.
	 */
	if (slash && slash != path) {
		x = hash_find(&c->dirs, path, (size_t)(slash - path));
		d = x ? x->ptr : NULL;
		if (d && d->listed)
			return get(&d->names, slash + 1) != NULL;
		if (d && d->missing)
			return 0;
	}
	if ((known = get(&c->paths, path)))
		return known == (void *)1;
	dir = split(path, &base);
	d = get(&c->dirs, dir);
	if (!d) {
		d = xcalloc(1, sizeof(*d));
		hash_init(&d->names, NULL);
		put(&c->dirs, dir, d);
	}
	if (!d->listed && !d->missing && d->asked >= 1) {
		rc = list_dir(dir, d, e);
		if (rc < 0)
			goto out;
	}
	if (d->missing)
		rc = 0;
	else if (d->listed)
		rc = get(&d->names, base) != NULL;
	else {
		rc = stat_exists(path, e);
		if (rc >= 0) {
			d->asked++;
			put(&c->paths, path, rc ? (void *)1 : (void *)2);
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
