/*
 * libFuzzer target: what engine/git_index.c reads without libgit2, a git
 * index (gitrepo_index_scan) and a commit object's first line
 * (gitrepo_commit_tree_of).
 *
 * Input: byte 0 picks the path looked up (one of a few names, among them
 * names of the seed indexes' entries); byte 1's low bit picks the commit
 * parser for the rest instead of the index scan.  The rest is the file,
 * copied with a '\0' after it, as read_path leaves a file.  Beyond "no
 * crash", the target aborts when an answer breaks what the callers rely
 * on: an entry lies whole inside the entries (before the checksum), a
 * root or tree id is empty or 40 lowercase hex digits.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "git.h"
#include "git_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An entry's fixed part, as git_index.c reads it. */
#define ENTRY_FIXED (10 * 4 + 20 + 2)

static void
check_id(const char *id, int may_be_empty)
{
	size_t i, n = strlen(id);

	if (n == 0 && may_be_empty)
		return;
	if (n != GITREPO_ID_LEN - 1)
		abort();
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", id[i]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "dags/vsf.yaml", "a",
		"README.md", "sub/dir/file.yaml", "", "b.yaml" };
	struct gitrepo_ientry ent;
	char root[GITREPO_ID_LEN], tree[GITREPO_ID_LEN];
	unsigned char *buf;
	size_t n;

	if (size < 2)
		return 0;
	n = size - 2;
	buf = malloc(n + 1);
	memcpy(buf, data + 2, n);
	buf[n] = '\0';
	if (data[1] & 1) {
		if (gitrepo_commit_tree_of((const char *)buf, n, tree))
			check_id(tree, 0);
	} else if (gitrepo_index_scan(buf, n, names[data[0] % 6], &ent,
	    root) == 0) {
		if (ent.at && (ent.at < buf + 12 ||
		    ent.at + ENTRY_FIXED > buf + n - 20))
			abort();
		check_id(root, 1);
	}
	free(buf);
	return 0;
}
