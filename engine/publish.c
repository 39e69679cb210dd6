/*
 * Publication of a command's temporary target by rename.  The rename is
 * atomic on one file system (the temporary sits in the target's own
 * directory); a directory is marked complete with _SUCCESS inside it
 * before it moves, so a reader that sees the directory sees the marker,
 * and an old directory at the target moves away whole (never emptied in
 * place, which would show a reader _SUCCESS beside a part of the files).
 * No fsync unless asked (--fsync): after the writer has exited, the
 * rename is atomic for every crash but a power cut (docs/DESIGN.md).
 */
#include "config.h"
#include "publish.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"

int
publish_prepare(const char *tmp, int is_dir, struct err *e)
{
	if (is_dir && mkdir(tmp, 0777) < 0)
		return err_set(e, -errno, "cannot create '%s': %s", tmp,
			strerror(errno));
	return 0;
}

static void
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int
missing(const char *target, struct err *e)
{
	return err_set(e, -ENOENT, "the command exited 0 but did not write "
		"{target} (the temporary name of '%s')", target);
}

int
publish_target(const char *target, const char *tmp, int is_dir,
	int do_fsync, struct err *e)
{
	struct stat st;
	char *path;
	int rc;

	/* A file's rename says ENOENT for a missing temporary: no lstat. */
	if (is_dir && lstat(tmp, &st) < 0)
		return missing(target, e);
	path = xstrdup(target);
	if (is_dir) {
		size_t n = strlen(path);

		while (n > 1 && path[n - 1] == '/')
			path[--n] = '\0';
		rc = atomic_mark_success(tmp, do_fsync, e);
		if (rc == 0)
			rc = atomic_dir_replace(tmp, path, e);
		if (rc < 0)
			goto out;
	} else {
		if (do_fsync)
			fsync_path(tmp);
		if (rename(tmp, path) < 0) {
			if (errno == ENOENT && lstat(tmp, &st) < 0)
				rc = missing(target, e);
			else
				rc = err_set(e, -errno, "cannot rename '%s' to "
					"'%s': %s", tmp, path, strerror(errno));
			goto out;
		}
	}
	rc = 0;
	if (do_fsync)
		fsync_parent(path);
out:
	free(path);
	return rc;
}

void
publish_discard(const char *tmp)
{
	if (tmp)
		remove_tree(tmp);
}
