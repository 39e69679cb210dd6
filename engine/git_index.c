/*
 * A DAG file's provenance read from the index without libgit2, in the
 * two cases that need no file content hashed and no tree walked:
 *
 * - the file has no entry in the index: it is untracked or ignored (or
 *   its deletion is staged), dirty whatever HEAD holds;
 * - its entry's stat data are the file's (git's own test that the work
 *   tree file is the staged blob), older than the index (not "racily
 *   clean"), and the index's cache tree says the whole index is HEAD's
 *   tree (its root is valid and names the tree of HEAD's commit, read
 *   from the loose object): clean.
 *
 * Anything else (another index version, a split or sparse index, flags
 * that make git skip the file, a conflict, stat data that differ, a
 * cache tree invalidated by staging, a packed commit, core.ignorecase)
 * is left to libgit2.  Every read is bounds-checked: a short or odd
 * index is left to libgit2 too.
 */
#include "config.h"
#include "git_priv.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "util.h"

#define OID_RAW 20
/* An entry's fixed part: ctime, mtime, dev, ino, mode, uid, gid, size
   (32-bit each), the object id and the flags. */
#define ENTRY_FIXED (10 * 4 + OID_RAW + 2)
#define F_ASSUME_VALID 0x8000
#define F_EXTENDED 0x4000
#define F_STAGE(f) (((f) >> 12) & 3)

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static void
hex_of(const unsigned char *raw, char hex[GITREPO_ID_LEN])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < OID_RAW; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[2 * OID_RAW] = '\0';
}

int
gitrepo_index_scan(const unsigned char *buf, size_t len, const char *rel,
	struct gitrepo_ientry *ent, char root[GITREPO_ID_LEN])
{
	size_t off = 12, end, rlen = strlen(rel);
	uint32_t version, n, i;

	memset(ent, 0, sizeof(*ent));
	root[0] = '\0';
	if (len < 12 + OID_RAW || memcmp(buf, "DIRC", 4))
		return -1;
	version = be32(buf + 4);
	n = be32(buf + 8);
	if (version != 2 && version != 3)
		return -1;
	end = len - OID_RAW;	/* the checksum */
	for (i = 0; i < n; i++) {
		size_t fixed = ENTRY_FIXED, nlen;
		unsigned flags;
		const unsigned char *name;

		if (end - off < ENTRY_FIXED)
			return -1;
		flags = (unsigned)buf[off + 60] << 8 | buf[off + 61];
		if (flags & F_EXTENDED) {
			if (version < 3 || end - off < ENTRY_FIXED + 2)
				return -1;
			fixed += 2;
		}
		name = buf + off + fixed;
		nlen = strnlen((const char *)name, end - off - fixed);
		if (nlen == end - off - fixed)
			return -1;
		if (nlen == rlen && !memcmp(name, rel, rlen)) {
			if (ent->at || F_STAGE(flags) || (flags & F_ASSUME_VALID) ||
			    (flags & F_EXTENDED))
				ent->unusual = 1;
			ent->at = buf + off;
		}
		/* Padded with 1 to 8 NULs to a multiple of 8. */
		off += (fixed + nlen + 8) & ~(size_t)7;
		if (off > end)
			return -1;
	}
	while (end - off >= 8) {
		const unsigned char *sig = buf + off;
		size_t size = be32(buf + off + 4);

		off += 8;
		if (size > end - off)
			return -1;
		/* A split index or a sparse one holds entries elsewhere. */
		if (!memcmp(sig, "link", 4) || !memcmp(sig, "sdir", 4))
			return -1;
		if (!memcmp(sig, "TREE", 4) && size > 0 && buf[off] == '\0') {
			const unsigned char *p = buf + off + 1, *q;
			const unsigned char *stop = buf + off + size;
			char *num_end;
			long count = strtol((const char *)p, &num_end, 10);

			q = memchr(p, '\n', (size_t)(stop - p));
			if (q && (const unsigned char *)num_end < q &&
			    count >= 0 && (size_t)(stop - q - 1) >= OID_RAW)
				hex_of(q + 1, root);
		}
		off += size;
	}
	return 0;
}

/* Does the entry at e hold the stat data git would write for st? */
static int
stat_matches(const unsigned char *e, const struct stat *st)
{
	uint32_t mode = be32(e + 24), want;

	if (S_ISLNK(st->st_mode))
		want = 0120000;
	else if (S_ISREG(st->st_mode))
		want = (st->st_mode & 0100) ? 0100755 : 0100644;
	else
		return 0;
	return mode == want &&
		be32(e) == (uint32_t)st->st_ctim.tv_sec &&
		be32(e + 4) == (uint32_t)st->st_ctim.tv_nsec &&
		be32(e + 8) == (uint32_t)st->st_mtim.tv_sec &&
		be32(e + 12) == (uint32_t)st->st_mtim.tv_nsec &&
		be32(e + 20) == (uint32_t)st->st_ino &&
		be32(e + 28) == (uint32_t)st->st_uid &&
		be32(e + 32) == (uint32_t)st->st_gid &&
		be32(e + 36) == (uint32_t)st->st_size;
}

/* Was the entry's file changed in the index's own timestamp (racy)? */
static int
racy(const unsigned char *e, const struct stat *index_st)
{
	int64_t m = (int64_t)be32(e + 8) * 1000000000LL + be32(e + 12);
	int64_t i = (int64_t)index_st->st_mtim.tv_sec * 1000000000LL +
		index_st->st_mtim.tv_nsec;

	return m >= i;
}

int
gitrepo_commit_tree_of(const char *obj, size_t n, char tree[GITREPO_ID_LEN])
{
	const char *p = obj, *end = obj + n, *nl;

	if (n < 7 || strncmp(p, "commit ", 7))
		return 0;
	p = memchr(p, '\0', n);
	if (!p || end - ++p < 5 + GITREPO_ID_LEN || strncmp(p, "tree ", 5))
		return 0;
	nl = p + 5 + GITREPO_ID_LEN - 1;
	if (*nl != '\n')
		return 0;
	for (p += 5; p < nl; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return 0;
	memcpy(tree, nl - (GITREPO_ID_LEN - 1), GITREPO_ID_LEN - 1);
	tree[GITREPO_ID_LEN - 1] = '\0';
	return 1;
}

/*
 * The tree of the commit id, from its loose object: 1 with tree filled,
 * 0 when the object is not loose (packed) or not a commit.
 */
static int
commit_tree(const char *common, const char *id, char tree[GITREPO_ID_LEN])
{
	char *path = xasprintf("%s/objects/%.2s/%s", common, id, id + 2);
	size_t zlen;
	char *z = read_path(path, &zlen);
	unsigned char out[256];
	z_stream zs;
	int ok = 0;

	free(path);
	if (!z)
		return 0;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) == Z_OK) {
		zs.next_in = (unsigned char *)z;
		zs.avail_in = (uInt)zlen;
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		/* The header and the first line are all that is read. */
		inflate(&zs, Z_SYNC_FLUSH);
		ok = gitrepo_commit_tree_of((const char *)out,
			sizeof(out) - zs.avail_out, tree);
		inflateEnd(&zs);
	}
	free(z);
	return ok;
}

/* Does the configuration set core.ignorecase (any value)? */
static int
ignorecase_set(const char *common)
{
	char *path = xasprintf("%s/config", common), *text, *c;
	int hit;

	text = read_path(path, NULL);
	free(path);
	if (!text)
		return 0;
	for (c = text; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	hit = strstr(text, "ignorecase") != NULL;
	free(text);
	return hit;
}

int
gitrepo_index_answer(const struct gitrepo_key *k, const char *top,
	const char *rel, struct gitrepo_prov *out)
{
	char *path = xasprintf("%s/index", k->gitdir), *file;
	char root[GITREPO_ID_LEN], tree[GITREPO_ID_LEN];
	struct stat ist, fst;
	struct gitrepo_ientry ent;
	size_t len;
	unsigned char *buf = NULL;
	int rc = 0;

	if (ignorecase_set(k->common) || stat(path, &ist) < 0)
		goto out;
	buf = (unsigned char *)read_path(path, &len);
	if (!buf || gitrepo_index_scan(buf, len, rel, &ent, root) < 0 || ent.unusual)
		goto out;
	memcpy(out->commit, k->commit, GITREPO_ID_LEN);
	if (!ent.at) {
		out->dirty = 1;
		rc = 1;
		goto out;
	}
	file = xasprintf("%s/%s", top, rel);
	if (lstat(file, &fst) == 0 && stat_matches(ent.at, &fst) &&
	    !racy(ent.at, &ist) && *root &&
	    commit_tree(k->common, k->commit, tree) && !strcmp(root, tree)) {
		out->dirty = 0;
		rc = 1;
	}
	free(file);
out:
	free(buf);
	free(path);
	return rc;
}
