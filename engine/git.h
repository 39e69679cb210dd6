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

/*
 * gitrepo_provenance of path in a thread of its own, so a run's start
 * does not wait for libgit2 (loading it and its TLS backend, which parses
 * the system's CA bundle, and reading the index: tens of milliseconds).
 * NULL when path lies in no work tree (nothing to work out); when no
 * thread can be started, the job is done in this one before returning.
 * cache (NULL: none) names a file of earlier answers (engine/git_cache.c):
 * one it holds for the repository as it is now makes the job done at
 * once, without libgit2 or a thread; libgit2's answer is stored in it.
 * The thread holds the environment's lock shared (env_lock).  A failure
 * is a warning on stderr, as cli_dag_provenance prints it, when the
 * result is taken; nothing when the job is freed untaken.
 */
struct gitrepo_job;
struct gitrepo_job *gitrepo_job_start(const char *path, const char *cache);

/*
 * ready(arg) is called once the job is done: from the job's thread, or at
 * once when it is done already; NULL: no call any more (the job may then
 * still be running).  Calls are serialised with gitrepo_job_take.
 */
void gitrepo_job_notify(struct gitrepo_job *j, void (*ready)(void *),
	void *arg);

/*
 * The job's result: 1 with *out filled, 0 none (the file is in no work
 * tree, or its repository could not be read), -EAGAIN not done yet and
 * wait is 0.  With wait, waits for the thread.
 */
int gitrepo_job_take(struct gitrepo_job *j, int wait,
	struct gitrepo_prov *out);

/* Wait for the job's thread and free it; NULL is a no-op. */
void gitrepo_job_free(struct gitrepo_job *j);

#endif
