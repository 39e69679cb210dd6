/*
 * The git repository a DAG file lives in, read through libgit2 (never a
 * git process): which commit a run used and whether the file differed
 * from it, and the file's text at a revision (--at).  libgit2 is loaded
 * only for a file inside a work tree (see engine/git.c).
 */
#ifndef DAG_GIT_H
#define DAG_GIT_H

#include <stddef.h>

struct err;

/* A commit id in hex, NUL-terminated. */
#define GITREPO_ID_LEN 41

/* Where a DAG file stands in its repository. */
struct gitrepo_prov {
	char commit[GITREPO_ID_LEN];	/* HEAD's commit; "" before the first */
	int dirty;	/* the file differs from HEAD's: modified, staged,
			   untracked or ignored */
};

/*
 * The provenance of the file at path: 1 with *out filled when it lies in
 * a git work tree, 0 when it does not (found by looking for .git in its
 * directory and each parent, up to one named in GIT_CEILING_DIRECTORIES:
 * libgit2 is not loaded then), or a negative errno with e filled (libgit2
 * cannot be loaded, the repository cannot be read).
 */
int gitrepo_provenance(const char *path, struct gitrepo_prov *out,
	struct err *e);

/*
 * The text of the file at path as it was at revision rev (anything
 * git rev-parse takes that names a commit: a hash, a tag, HEAD~2) of the
 * repository it lies in; the file itself need not exist now, its
 * directory must.  0 with *text (NUL-terminated, the caller's to free),
 * *len and commit (the revision's commit id) filled, or a negative errno
 * with e filled: -ENOENT not in a repository or no such file at rev,
 * -EINVAL rev names no commit, -EIO the repository cannot be read.
 */
int gitrepo_read_at(const char *path, const char *rev, char **text,
	size_t *len, char commit[GITREPO_ID_LEN], struct err *e);

#endif
