/*
 * Temporary-name-then-rename publication of files and directories.  The
 * temporary name starts with a dot and carries the writer's pid, so a
 * crash leaves a name that is both hidden and never mistaken for the
 * target.
 */
#include "config.h"
#include "atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The pid temporary names carry: set by a scheduler, inherited by the
 * children it forks (0: each process its own).  Process-wide on purpose,
 * like the log level: it describes the process, and a forked child must
 * name its temporaries after the scheduler whose leases cover them.
 */
static long tmp_owner;

void
atomic_tmp_owner_set(long pid)
{
	tmp_owner = pid;
}

char *
atomic_tmp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;

	return xasprintf("%.*s.%s.tmp-%ld-XXXXXX", dirlen, path, base,
		tmp_owner ? tmp_owner : (long)getpid());
}

int
atomic_open(struct atomic_file *af, const char *path, struct err *e)
{
	int rc;

	af->path = NULL;
	/*
	 * A target's directory is there for all but its first instance: it
	 * is made (mkdir of each part of its path) only once creating the
	 * file beside it fails, and the file is then created again under a
	 * fresh name, so a failure reads as it always did.
	 */
	af->tmp = atomic_tmp_name(path);
	af->fd = mkostemp(af->tmp, O_CLOEXEC);
	if (af->fd < 0) {
		free(af->tmp);
		af->tmp = NULL;
		rc = mkdir_parent(path);
		if (rc < 0)
			return err_set(e, rc, "cannot create the directory of "
				"'%s': %s", path, strerror(-rc));
		af->tmp = atomic_tmp_name(path);
		af->fd = mkostemp(af->tmp, O_CLOEXEC);
	}
	if (af->fd < 0) {
		rc = -errno;
		err_set(e, rc, "cannot create '%s': %s", af->tmp, strerror(-rc));
		free(af->tmp);
		af->tmp = NULL;
		return rc;
	}
	/* mkstemp makes 0600; targets are ordinary files. */
	fchmod(af->fd, 0644);
	af->path = xstrdup(path);
	return 0;
}

static void
atomic_release(struct atomic_file *af)
{
	free(af->path);
	free(af->tmp);
	af->path = af->tmp = NULL;
	af->fd = -1;
}

enum commit_sync {
	COMMIT_NOSYNC,		/* neither fsync */
	COMMIT_SYNC,		/* the file's, then the directory's */
	COMMIT_DIR,		/* the directory's: the file is flushed */
};

static int
commit(struct atomic_file *af, enum commit_sync sync, struct err *e)
{
	int rc = 0;

	if (sync == COMMIT_SYNC && fsync(af->fd) < 0) {
		rc = -errno;
		err_set(e, rc, "cannot flush '%s': %s", af->tmp, strerror(-rc));
	}
	if (close(af->fd) < 0 && rc == 0) {
		rc = -errno;
		err_set(e, rc, "cannot close '%s': %s", af->tmp, strerror(-rc));
	}
	af->fd = -1;
	if (rc == 0 && rename(af->tmp, af->path) < 0) {
		rc = -errno;
		err_set(e, rc, "cannot rename '%s' to '%s': %s", af->tmp,
			af->path, strerror(-rc));
	}
	if (rc < 0)
		unlink(af->tmp);
	else if (sync != COMMIT_NOSYNC)
		fsync_parent(af->path);
	atomic_release(af);
	return rc;
}

int
atomic_commit(struct atomic_file *af, struct err *e)
{
	return commit(af, COMMIT_SYNC, e);
}

int
atomic_commit_nosync(struct atomic_file *af, struct err *e)
{
	return commit(af, COMMIT_NOSYNC, e);
}

int
atomic_commit_flushed(struct atomic_file *af, struct err *e)
{
	return commit(af, COMMIT_DIR, e);
}

void
atomic_abort(struct atomic_file *af)
{
	if (af->fd >= 0)
		close(af->fd);
	if (af->tmp)
		unlink(af->tmp);
	atomic_release(af);
}

static char *
strip_slash(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	return xstrndup(path, n);
}

int
atomic_dir_open(struct atomic_dir *ad, const char *path, struct err *e)
{
	int rc;

	ad->path = strip_slash(path);
	ad->tmp = NULL;
	rc = mkdir_parent(ad->path);
	if (rc < 0) {
		err_set(e, rc, "cannot create the directory of '%s': %s",
			ad->path, strerror(-rc));
		goto fail;
	}
	ad->tmp = atomic_tmp_name(ad->path);
	if (!mkdtemp(ad->tmp)) {
		rc = -errno;
		err_set(e, rc, "cannot create '%s': %s", ad->tmp, strerror(-rc));
		goto fail;
	}
	chmod(ad->tmp, 0755);
	return 0;
fail:
	free(ad->path);
	free(ad->tmp);
	ad->path = ad->tmp = NULL;
	return rc;
}

int
atomic_dir_commit(struct atomic_dir *ad, struct err *e)
{
	int rc;

	/* fsync every file would be the caller's job; the marker comes last. */
	rc = atomic_mark_success(ad->tmp, 1, e);
	if (rc == 0)
		rc = atomic_dir_replace(ad->tmp, ad->path, e);
	if (rc < 0)
		goto out;
	fsync_parent(ad->path);
out:
	if (rc < 0)
		remove_tree(ad->tmp);
	free(ad->path);
	free(ad->tmp);
	ad->path = ad->tmp = NULL;
	return rc;
}

int
atomic_mark_success(const char *dir, int do_fsync, struct err *e)
{
	char *marker = xasprintf("%s/_SUCCESS", dir);
	int fd, rc = 0;

	fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = err_set(e, -errno, "cannot write _SUCCESS in '%s': %s",
			dir, strerror(errno));
		goto out;
	}
	if (do_fsync && fsync(fd) < 0)
		rc = err_set(e, -errno, "cannot flush '%s': %s", marker,
			strerror(errno));
	close(fd);
	if (rc == 0 && do_fsync)
		fsync_parent(marker);
out:
	free(marker);
	return rc;
}

static int
rename_failed(const char *from, const char *to, struct err *e)
{
	return err_set(e, -errno, "cannot rename '%s' to '%s': %s", from, to,
		strerror(errno));
}

/*
 * Without an atomic exchange: the old directory moves aside whole (to a
 * temporary name, so a kill leaves it for the next run to remove), then
 * the new one is renamed in.  Between the two renames the target is
 * missing, never partial.
 */
static int
replace_in_two(const char *tmp, const char *path, struct err *e)
{
	char *aside = xasprintf("%s.old", tmp);
	int rc = 0, moved = rename(path, aside) == 0;

	if (!moved && errno != ENOENT) {
		rc = rename_failed(path, aside, e);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = rename_failed(tmp, path, e);
		if (moved)
			rename(aside, path);
		goto out;
	}
	if (moved)
		remove_tree(aside);
out:
	free(aside);
	return rc;
}

int
atomic_dir_replace(const char *tmp, const char *path, struct err *e)
{
#ifdef RENAME_EXCHANGE
	/*
	 * One system call swaps the two names: a reader of path sees the old
	 * directory or the new one, never neither and never a part.  The
	 * old one, now under the temporary name, is removed after.
	 */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
		remove_tree(tmp);
		return 0;
	}
	if (errno == ENOENT) {
		if (rename(tmp, path) < 0)
			return rename_failed(tmp, path, e);
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return rename_failed(tmp, path, e);
#endif
	return replace_in_two(tmp, path, e);
}

char *
atomic_tmp_path(const char *target, uint64_t seq)
{
	char *base = strip_slash(target), *name, *x;

	name = atomic_tmp_name(base);
	x = strstr(name, "XXXXXX");
	if (x) {
		char buf[8];

		snprintf(buf, sizeof(buf), "%06llx",
			(unsigned long long)(seq & 0xffffff));
		memcpy(x, buf, 6);
	}
	free(base);
	return name;
}

/*
 * Is name a temporary of pid for base: ".BASE.tmp-PID-*", or with
 * side_files also a side file's (".BASE.SUFFIX.tmp-PID-*", e.g. by-key's
 * rejects)?
 */
static int
is_stale(const char *name, const char *base, const char *tag,
	int side_files)
{
	size_t n = strlen(base);

	if (name[0] != '.' || strncmp(name + 1, base, n) || name[n + 1] != '.')
		return 0;
	if (!strncmp(name + n + 1, tag, strlen(tag)))
		return 1;
	return side_files && strstr(name + n + 1, tag) != NULL;
}

static void
remove_stale(const char *target, long pid, int side_files)
{
	char *path = strip_slash(target), *dir, *tag, *slash;
	const char *base;
	struct dirent *de;
	DIR *d;

	slash = strrchr(path, '/');
	dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	base = slash ? slash + 1 : path;
	tag = xasprintf(".tmp-%ld-", pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char *full;

		if (!is_stale(de->d_name, base, tag, side_files))
			continue;
		full = xasprintf("%s/%s", dir, de->d_name);
		remove_tree(full);
		free(full);
	}
	if (d)
		closedir(d);
	free(tag);
	free(dir);
	free(path);
}

void
atomic_remove_stale(const char *target, long pid)
{
	remove_stale(target, pid, 1);
}

void
atomic_remove_tmp(const char *target, long pid)
{
	remove_stale(target, pid, 0);
}

void
atomic_dir_abort(struct atomic_dir *ad)
{
	if (ad->tmp)
		remove_tree(ad->tmp);
	free(ad->path);
	free(ad->tmp);
	ad->path = ad->tmp = NULL;
}

int
remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *child;
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = xasprintf("%s/%s", path, de->d_name);
		r = remove_tree(child);
		if (r < 0 && rc == 0)
			rc = r;
		free(child);
	}
	closedir(d);
	if (rmdir(path) < 0 && rc == 0)
		rc = -errno;
	return rc;
}
