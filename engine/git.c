/*
 * A DAG file's git repository, through libgit2.  Two decisions:
 *
 * libgit2 is loaded with dlopen, not linked.  Linked, its dependencies
 * (TLS, SSH, Kerberos) cost every exec of dag-cli about 10 ms in the
 * dynamic loader, five times an empty program's start, and dag-cli is
 * exec'd per Slurm job and per scheduled run whether or not a repository
 * is involved.  So a file is first looked for in a work tree by a few
 * stat calls (a .git entry in its directory or a parent, stopping below
 * the directories of GIT_CEILING_DIRECTORIES as git does); only when one
 * is found is the library loaded, used and unloaded again, its
 * functions typed from git2.h through a table (engine/dynlib.h, which
 * libmicrohttpd and graphviz are loaded through too).
 *
 * The file's status is asked about that one path (git_status_file), not
 * the whole tree: a run records whether the DAG file it loaded differs
 * from the commit, which is what says whether the commit id reproduces
 * the pipeline.  Untracked and ignored count as dirty: the commit does
 * not hold that text.
 */
#include "config.h"
#include "git.h"

#include <dlfcn.h>
#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dynlib.h"
#include "git_priv.h"
#include "util.h"

/* The libgit2 functions used, typed from its own declarations. */
struct lg2 {
	void *dl;
	__typeof__(git_libgit2_init) *init;
	__typeof__(git_libgit2_shutdown) *shutdown;
	__typeof__(git_error_last) *error_last;
	__typeof__(git_repository_open_ext) *repo_open;
	__typeof__(git_repository_free) *repo_free;
	__typeof__(git_reference_name_to_id) *name_to_id;
	__typeof__(git_oid_tostr) *oid_tostr;
	__typeof__(git_status_file) *status_file;
	__typeof__(git_revparse_single) *revparse;
	__typeof__(git_object_peel) *peel;
	__typeof__(git_object_id) *object_id;
	__typeof__(git_object_free) *object_free;
	__typeof__(git_commit_tree) *commit_tree;
	__typeof__(git_tree_free) *tree_free;
	__typeof__(git_tree_entry_bypath) *entry_bypath;
	__typeof__(git_tree_entry_type) *entry_type;
	__typeof__(git_tree_entry_id) *entry_id;
	__typeof__(git_tree_entry_free) *entry_free;
	__typeof__(git_blob_lookup) *blob_lookup;
	__typeof__(git_blob_rawcontent) *blob_content;
	__typeof__(git_blob_rawsize) *blob_size;
	__typeof__(git_blob_free) *blob_free;
};

/* Each member's symbol. */
static const struct dynlib_sym lg2_syms[] = {
#define SYM(m, f) DYNLIB_SYM(struct lg2, m, f)
	SYM(init, git_libgit2_init),
	SYM(shutdown, git_libgit2_shutdown),
	SYM(error_last, git_error_last),
	SYM(repo_open, git_repository_open_ext),
	SYM(repo_free, git_repository_free),
	SYM(name_to_id, git_reference_name_to_id),
	SYM(oid_tostr, git_oid_tostr),
	SYM(status_file, git_status_file),
	SYM(revparse, git_revparse_single),
	SYM(peel, git_object_peel),
	SYM(object_id, git_object_id),
	SYM(object_free, git_object_free),
	SYM(commit_tree, git_commit_tree),
	SYM(tree_free, git_tree_free),
	SYM(entry_bypath, git_tree_entry_bypath),
	SYM(entry_type, git_tree_entry_type),
	SYM(entry_id, git_tree_entry_id),
	SYM(entry_free, git_tree_entry_free),
	SYM(blob_lookup, git_blob_lookup),
	SYM(blob_content, git_blob_rawcontent),
	SYM(blob_size, git_blob_rawsize),
	SYM(blob_free, git_blob_free),
#undef SYM
};

static int
lg2_open(struct lg2 *g, struct err *e)
{
	int rc;

	memset(g, 0, sizeof(*g));
	rc = dynlib_open(&g->dl, GIT2_SONAME, "libgit2", lg2_syms,
		ARRAY_LEN(lg2_syms), g, e);
	if (rc < 0)
		return rc;
	if (g->init() < 0) {
		dlclose(g->dl);
		g->dl = NULL;
		return err_set(e, -EIO, "cannot start libgit2");
	}
	return 0;
}

static void
lg2_close(struct lg2 *g)
{
	if (!g->dl)
		return;
	g->shutdown();
	dlclose(g->dl);
	g->dl = NULL;
}

/* libgit2's message of its last error. */
static const char *
lg2_msg(const struct lg2 *g)
{
	const git_error *ge = g->error_last();

	return ge && ge->message ? ge->message : "unknown error";
}

/* Is dir (a real path) one of GIT_CEILING_DIRECTORIES? */
static int
is_ceiling(const char *dir)
{
	const char *env = getenv("GIT_CEILING_DIRECTORIES");
	char *list, *tok, *save = NULL;
	int hit = 0;

	if (!env || !*env)
		return 0;
	list = xstrdup(env);
	for (tok = strtok_r(list, ":", &save); tok && !hit;
	    tok = strtok_r(NULL, ":", &save)) {
		char *real = realpath(tok, NULL);

		hit = real && !strcmp(real, dir);
		free(real);
	}
	free(list);
	return hit;
}

/*
 * Where path stands: *top the work tree's top directory holding .git,
 * *rel the file's path below it (both the caller's to free).  The file
 * need not exist; its directory must.  1 found, 0 not in a work tree.
 */
static int
find_worktree(const char *path, char **top, char **rel)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir = slash ? xstrndup(path, (size_t)(slash - path) + 1)
		: xstrdup(".");
	char *real = realpath(dir, NULL), *cur;
	struct stat st;

	free(dir);
	if (!real)
		return 0;
	cur = xstrdup(real);
	for (;;) {
		int root = !strcmp(cur, "/");
		char *dotgit = xasprintf("%s/.git", root ? "" : cur);
		char *cut;
		int found = lstat(dotgit, &st) == 0;

		free(dotgit);
		if (found) {
			const char *below = real + strlen(cur);

			if (*below == '/')
				below++;
			*top = cur;
			*rel = xasprintf("%s%s%s", below, *below ? "/" : "", base);
			free(real);
			return 1;
		}
		cut = strrchr(cur, '/');
		if (root || !cut)
			break;
		if (cut == cur)
			cut++;		/* the parent is the root */
		*cut = '\0';
		if (is_ceiling(cur))
			break;
	}
	free(cur);
	free(real);
	return 0;
}

/* The repository a file lies in, opened. */
struct gitfile {
	struct lg2 g;
	git_repository *repo;
	char *top;		/* its work tree */
	char *rel;		/* the file's path below top */
};

/*
 * Open the repository path lies in: 1 opened, 0 not in a work tree
 * (libgit2 not loaded), or a negative errno with e filled.  Close with
 * gitfile_close in every case.
 */
static int
gitfile_open(struct gitfile *f, const char *path, struct err *e)
{
	int rc;

	memset(f, 0, sizeof(*f));
	if (!find_worktree(path, &f->top, &f->rel))
		return 0;
	rc = lg2_open(&f->g, e);
	if (rc < 0)
		return rc;
	if (f->g.repo_open(&f->repo, f->top, GIT_REPOSITORY_OPEN_NO_SEARCH,
	    NULL) < 0) {
		f->repo = NULL;
		return err_set(e, -EIO, "cannot open the git repository of "
			"'%s': %s", f->top, lg2_msg(&f->g));
	}
	return 1;
}

static void
gitfile_close(struct gitfile *f)
{
	if (f->repo)
		f->g.repo_free(f->repo);
	lg2_close(&f->g);
	free(f->top);
	free(f->rel);
}

int
gitrepo_provenance(const char *path, struct gitrepo_prov *out,
	struct err *e)
{
	struct gitfile f;
	git_oid oid;
	unsigned flags = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = gitfile_open(&f, path, e);
	if (rc <= 0)
		goto out;
	rc = f.g.name_to_id(&oid, f.repo, "HEAD");
	if (rc == 0) {
		f.g.oid_tostr(out->commit, sizeof(out->commit), &oid);
	} else if (rc != GIT_ENOTFOUND && rc != GIT_EUNBORNBRANCH) {
		rc = err_set(e, -EIO, "cannot read HEAD of the git repository "
			"of '%s': %s", f.top, lg2_msg(&f.g));
		goto out;
	}
	/* No commit yet, or the file unknown to git: the commit lacks it. */
	rc = f.g.status_file(&flags, f.repo, f.rel);
	out->dirty = rc < 0 || flags != GIT_STATUS_CURRENT || !*out->commit;
	rc = 1;
out:
	gitfile_close(&f);
	return rc;
}

struct gitrepo_job {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *path;
	char *cache;		/* the cache file, or NULL */
	struct gitrepo_key key;	/* read before libgit2 ran; text NULL: none */
	struct gitrepo_prov prov;
	int rc;			/* gitrepo_provenance's */
	struct err e;		/* its error, warned of when taken */
	int done;
	int threaded;		/* thread is to be joined */
	void (*ready)(void *);
	void *ready_arg;
};

/* DAG_GIT_TRACE names a file to append what a job did to (the tests). */
static void
trace(const char *what, const char *path)
{
	const char *file = getenv("DAG_GIT_TRACE");
	FILE *fp = file && *file ? fopen(file, "a") : NULL;

	if (!fp)
		return;
	fprintf(fp, "%s %s\n", what, path);
	fclose(fp);
}

/* A provenance libgit2 worked out goes into the cache when it may. */
static void
job_store(struct gitrepo_job *j, const struct gitrepo_prov *p)
{
	struct gitrepo_key after;
	char *top, *rel;

	if (!j->cache || !j->key.text || !find_worktree(j->path, &top, &rel))
		return;
	if (gitrepo_key_make(top, rel, &after) &&
	    gitrepo_cache_storable(&j->key, &after, p))
		gitrepo_cache_put(j->cache, &j->key, p);
	gitrepo_key_release(&after);
	free(top);
	free(rel);
}

static void *
job_main(void *arg)
{
	struct gitrepo_job *j = arg;
	struct gitrepo_prov p;
	struct err e;
	int rc;

	err_clear(&e);
	/* libgit2 reads the environment, which range.c may switch (TZ). */
	env_lock(0);
	trace("libgit2", j->path);
	rc = gitrepo_provenance(j->path, &p, &e);
	if (rc > 0)
		job_store(j, &p);
	env_unlock();
	pthread_mutex_lock(&j->mu);
	j->prov = p;
	j->rc = rc;
	j->e = e;
	j->done = 1;
	if (j->ready)
		j->ready(j->ready_arg);
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

struct gitrepo_job *
gitrepo_job_start(const char *path, const char *cache)
{
	struct gitrepo_job *j;
	sigset_t all, old;
	char *top, *rel;
	int rc;

	/* Outside a work tree the answer costs a few stat calls: no thread. */
	if (!find_worktree(path, &top, &rel))
		return NULL;
	j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(path);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	/*
	 * A repository unchanged since an earlier run, or a file the index
	 * alone answers for: no libgit2 at all.
	 */
	if (gitrepo_key_make(top, rel, &j->key)) {
		j->cache = cache ? xstrdup(cache) : NULL;
		if (cache && gitrepo_cache_get(cache, &j->key, &j->prov)) {
			trace("cached", path);
			j->done = 1;
		} else if (gitrepo_index_answer(&j->key, top, rel, &j->prov)) {
			trace("index", path);
			job_store(j, &j->prov);
			j->done = 1;
		}
		j->rc = j->done;
	}
	free(top);
	free(rel);
	if (j->done)
		return j;
	/* Signals stay with the threads that wait for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->thread, NULL, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	j->threaded = rc == 0;
	if (!j->threaded)
		job_main(j);	/* no thread: done before the run starts */
	return j;
}

void
gitrepo_job_notify(struct gitrepo_job *j, void (*ready)(void *), void *arg)
{
	pthread_mutex_lock(&j->mu);
	j->ready = ready;
	j->ready_arg = arg;
	if (ready && j->done)
		ready(arg);
	pthread_mutex_unlock(&j->mu);
}

int
gitrepo_job_take(struct gitrepo_job *j, int wait, struct gitrepo_prov *out)
{
	int rc;

	pthread_mutex_lock(&j->mu);
	while (wait && !j->done)
		pthread_cond_wait(&j->cv, &j->mu);
	rc = j->done ? j->rc : -EAGAIN;
	if (rc > 0)
		*out = j->prov;
	if (rc < 0 && rc != -EAGAIN) {
		fprintf(stderr, "dag-cli: warning: no git provenance: ");
		err_print(&j->e, stderr);
		j->rc = rc = 0;
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

void
gitrepo_job_free(struct gitrepo_job *j)
{
	if (!j)
		return;
	if (j->threaded)
		pthread_join(j->thread, NULL);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	gitrepo_key_release(&j->key);
	free(j->cache);
	free(j->path);
	free(j);
}

/* The blob of rel in the tree of commit c, copied to *text. */
static int
read_blob(struct lg2 *g, git_repository *repo, git_object *c,
	const char *rel, const char *rev, char **text, size_t *len,
	struct err *e)
{
	git_tree *tree = NULL;
	git_tree_entry *ent = NULL;
	git_blob *blob = NULL;
	int rc;

	if (g->commit_tree(&tree, (git_commit *)c) < 0) {
		rc = err_set(e, -EIO, "cannot read the tree of '%s': %s", rev,
			lg2_msg(g));
		goto out;
	}
	if (g->entry_bypath(&ent, tree, rel) < 0 ||
	    g->entry_type(ent) != GIT_OBJECT_BLOB) {
		rc = err_set(e, -ENOENT, "no file '%s' at git revision '%s'",
			rel, rev);
		goto out;
	}
	if (g->blob_lookup(&blob, repo, g->entry_id(ent)) < 0) {
		rc = err_set(e, -EIO, "cannot read '%s' at '%s': %s", rel, rev,
			lg2_msg(g));
		goto out;
	}
	*len = (size_t)g->blob_size(blob);
	*text = xmalloc(*len + 1);
	memcpy(*text, g->blob_content(blob), *len);
	(*text)[*len] = '\0';
	rc = 0;
out:
	if (blob)
		g->blob_free(blob);
	if (ent)
		g->entry_free(ent);
	if (tree)
		g->tree_free(tree);
	return rc;
}

int
gitrepo_read_at(const char *path, const char *rev, char **text,
	size_t *len, char commit[GITREPO_ID_LEN], struct err *e)
{
	struct gitfile f;
	git_object *obj = NULL, *c = NULL;
	int rc;

	*text = NULL;
	*len = 0;
	commit[0] = '\0';
	rc = gitfile_open(&f, path, e);
	if (rc == 0)
		rc = err_set(e, -ENOENT, "--at %s: '%s' is not in a git work "
			"tree", rev, path);
	if (rc < 0)
		goto out;
	if (f.g.revparse(&obj, f.repo, rev) < 0 ||
	    f.g.peel(&c, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = err_set(e, -EINVAL, "--at %s: no such commit in the git "
			"repository of '%s': %s", rev, path, lg2_msg(&f.g));
		goto out;
	}
	f.g.oid_tostr(commit, GITREPO_ID_LEN, f.g.object_id(c));
	rc = read_blob(&f.g, f.repo, c, f.rel, rev, text, len, e);
out:
	if (c)
		f.g.object_free(c);
	if (obj)
		f.g.object_free(obj);
	gitfile_close(&f);
	return rc;
}
