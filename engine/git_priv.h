/*
 * The cache of git provenance (engine/git_cache.c), for engine/git.c
 * alone.
 */
#ifndef DAG_GIT_PRIV_H
#define DAG_GIT_PRIV_H

#include <stdint.h>

#include "git.h"

/* What a DAG file's provenance depends on, read without libgit2. */
struct gitrepo_key {
	char *text;	/* the DAG file's path, HEAD's commit and the stat
			   data of the files read (see git_cache.c) */
	size_t path_len;	/* the DAG file's path, text's first bytes */
	char *gitdir;	/* the work tree's git directory (HEAD, index) */
	char *common;	/* the repository's (refs, objects, config) */
	char commit[GITREPO_ID_LEN];	/* HEAD's, as the refs say */
	int64_t read_ns;	/* unix ns when the key was read */
	int racy;	/* a file changed too shortly before read_ns for a
			   later change to show in its stat data */
};

/*
 * The key of the file rel below the work tree top: 1 filled (release it
 * with gitrepo_key_release), 0 when it cannot be read without libgit2
 * (an unborn branch, a ref stored in another way, an odd .git).
 */
int gitrepo_key_make(const char *top, const char *rel, struct gitrepo_key *k);
void gitrepo_key_release(struct gitrepo_key *k);

/* What a git index says of one path (engine/git_index.c). */
struct gitrepo_ientry {
	const unsigned char *at;	/* its fixed part; NULL: no entry */
	int unusual;	/* a flag or stage libgit2 must look at */
};

/*
 * The entry of rel and the cache tree's root (root: its id in hex, ""
 * when invalid or absent) of the index in buf[0..len) (buf[len] must be
 * readable and '\0', as read_path leaves it).  0, or -1 when the index
 * is not of the kind read here (a version other than 2 or 3, a split or
 * sparse index, anything short or out of bounds).
 */
int gitrepo_index_scan(const unsigned char *buf, size_t len, const char *rel,
	struct gitrepo_ientry *ent, char root[GITREPO_ID_LEN]);

/*
 * The tree named by a commit object's first line, from the object's
 * inflated text obj[0..n) ("commit SIZE\0tree ID\n..."): 1 with tree
 * filled (40 lowercase hex digits), else 0.
 */
int gitrepo_commit_tree_of(const char *obj, size_t n,
	char tree[GITREPO_ID_LEN]);

/*
 * The provenance of rel below top read from the index alone
 * (engine/git_index.c), when it can be: 1 with *out filled, else 0.
 */
int gitrepo_index_answer(const struct gitrepo_key *k, const char *top,
	const char *rel, struct gitrepo_prov *out);

/* 1 with *out filled when the cache file holds key k, else 0. */
int gitrepo_cache_get(const char *cache, const struct gitrepo_key *k,
	struct gitrepo_prov *out);

/*
 * May p, worked out by libgit2 between reading k and reading after, be
 * stored under k?  Not when the two differ, libgit2 saw another commit,
 * or a file had changed too recently to tell a later change by its stat
 * data.
 */
int gitrepo_cache_storable(const struct gitrepo_key *k,
	const struct gitrepo_key *after, const struct gitrepo_prov *p);

/* Store p under k in the cache file (failures are ignored: a cache). */
void gitrepo_cache_put(const char *cache, const struct gitrepo_key *k,
	const struct gitrepo_prov *p);

#endif
