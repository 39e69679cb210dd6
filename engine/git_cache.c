/*
 * The git provenance of a DAG file, cached beside the state database, so
 * a run whose repository did not change never loads libgit2 (loading it,
 * its TLS backend parsing the system's CA bundle, and unloading it again
 * cost a run tens of milliseconds of CPU).
 *
 * An entry is keyed on everything the answer depends on: HEAD's commit,
 * read from the refs as git reads them (a loose ref, else packed-refs),
 * and the stat data (device, inode, size, mode, mtime, ctime) of the DAG
 * file, the index and the configuration and attributes files git would
 * read.  A commit moves HEAD; staging, committing or resetting rewrites
 * the index (a new inode: git renames a lock file over it); an edit moves
 * the file's ctime, which no one can set back.  git's own status trusts
 * the same stat data.  What the key cannot read (a repository whose .git
 * is not plainly laid out, a ref found nowhere, an unborn branch) gets no
 * key: libgit2 answers every time.
 *
 * A file changed within the timestamps' granularity of the key's reading
 * might change again with the same stat data, as git's "racily clean"
 * entries might: such an answer is not stored (cache_put is told when the
 * key was read), nor one for which the key read after libgit2 differs
 * from the one before.
 */
#include "config.h"
#include "git_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* The cache file's first line; another is a cache of another format. */
#define CACHE_MAGIC "dag-cli git provenance 1\n"
/* Entries kept for other DAG files sharing the state database. */
#define CACHE_MAX 64
/* Symbolic refs followed from HEAD before giving up. */
#define REF_DEPTH 5
/*
 * A file changed this recently when its key was read is not cached
 * (ns): a few clock ticks, the kernel's file timestamps being coarse;
 * two seconds where they have no nanoseconds at all.
 */
#define RACY_FINE_NS 50000000LL
#define RACY_COARSE_NS 2000000000LL

static int64_t
ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Add path's stat data to the key ("-" when absent). */
static void
key_stat(struct gitrepo_key *k, struct strbuf *sb, const char *path)
{
	struct stat st;
	int64_t margin;

	if (lstat(path, &st) < 0) {
		sb_addf(sb, " -");
		return;
	}
	sb_addf(sb, " %lu:%lu:%lld:%o:%lld:%lld",
		(unsigned long)st.st_dev, (unsigned long)st.st_ino,
		(long long)st.st_size, (unsigned)st.st_mode,
		(long long)ts_ns(&st.st_mtim), (long long)ts_ns(&st.st_ctim));
	/* Whole seconds: a file system whose timestamps are that coarse. */
	margin = st.st_ctim.tv_nsec ? RACY_FINE_NS : RACY_COARSE_NS;
	if (ts_ns(&st.st_ctim) >= k->read_ns - margin ||
	    ts_ns(&st.st_mtim) >= k->read_ns - margin)
		k->racy = 1;
}

/* key_stat of the path fmt makes. */
static void __attribute__((format(printf, 3, 4)))
key_statf(struct gitrepo_key *k, struct strbuf *sb, const char *fmt, ...)
{
	struct strbuf path;
	va_list ap;

	sb_init(&path);
	va_start(ap, fmt);
	sb_vaddf(&path, fmt, ap);
	va_end(ap);
	key_stat(k, sb, path.buf);
	sb_release(&path);
}

/* The first line of the file at path (the caller's to free), or NULL. */
static char *
first_line(const char *path)
{
	char *text = read_path(path, NULL);

	if (text)
		text[strcspn(text, "\n")] = '\0';
	return text;
}

static int
is_hex_id(const char *s)
{
	size_t i;

	for (i = 0; i < GITREPO_ID_LEN - 1; i++)
		if (!s[i] || !strchr("0123456789abcdef", s[i]))
			return 0;
	return s[i] == '\0';
}

/* The id packed-refs gives name, into id: 1 found, 0 not. */
static int
packed_ref(const char *common, const char *name, char id[GITREPO_ID_LEN])
{
	char *path = xasprintf("%s/packed-refs", common);
	char *text = read_path(path, NULL), *line, *save = NULL;
	int found = 0;

	free(path);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line && !found;
	    line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (*line == '#' || *line == '^' || !sp)
			continue;
		*sp = '\0';
		if (!strcmp(sp + 1, name) && is_hex_id(line)) {
			memcpy(id, line, GITREPO_ID_LEN);
			found = 1;
		}
	}
	free(text);
	return found;
}

/*
 * The commit ref name points at, following symbolic refs: 1 with id
 * filled, 0 when it cannot be told here (libgit2 must answer).  HEAD is
 * the work tree's own (gitdir); branches are the repository's (common).
 */
static int
resolve_ref(const char *gitdir, const char *common, const char *name,
	int depth, char id[GITREPO_ID_LEN])
{
	char *path, *line;
	int rc = 0;

	if (depth > REF_DEPTH)
		return 0;
	if (strcmp(name, "HEAD") && (strncmp(name, "refs/", 5) ||
	    strstr(name, "..") || strstr(name, "//")))
		return 0;
	path = xasprintf("%s/%s", strcmp(name, "HEAD") ? common : gitdir,
		name);
	line = first_line(path);
	rc = line ? 0 : errno;
	free(path);
	if (!line)
		return rc == ENOENT && strcmp(name, "HEAD") &&
			packed_ref(common, name, id);
	if (!strncmp(line, "ref: ", 5)) {
		rc = resolve_ref(gitdir, common, line + 5, depth + 1, id);
	} else if (is_hex_id(line)) {
		memcpy(id, line, GITREPO_ID_LEN);
		rc = 1;
	}
	free(line);
	return rc;
}

/*
 * The repository's directories for the work tree top: gitdir (HEAD and
 * the index) and common (refs and config), which differ for a linked
 * work tree.  1, or 0 when .git is laid out in a way not read here.
 */
static int
find_gitdir(const char *top, char **gitdir, char **common)
{
	char *dotgit = xasprintf("%s/.git", top), *line, *cd;
	struct stat st;

	*gitdir = *common = NULL;
	if (lstat(dotgit, &st) < 0 || (!S_ISDIR(st.st_mode) &&
	    !S_ISREG(st.st_mode))) {
		free(dotgit);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		*gitdir = dotgit;
	} else {
		line = first_line(dotgit);
		free(dotgit);
		if (!line || strncmp(line, "gitdir: ", 8) || !line[8]) {
			free(line);
			return 0;
		}
		*gitdir = line[8] == '/' ? xstrdup(line + 8) :
			xasprintf("%s/%s", top, line + 8);
		free(line);
	}
	cd = xasprintf("%s/commondir", *gitdir);
	line = first_line(cd);
	free(cd);
	if (line && *line)
		*common = *line == '/' ? xstrdup(line) :
			xasprintf("%s/%s", *gitdir, line);
	else
		*common = xstrdup(*gitdir);
	free(line);
	return 1;
}

/* The global configuration and attributes files git reads. */
static void
key_globals(struct gitrepo_key *k, struct strbuf *sb)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");

	if (xdg && *xdg) {
		key_statf(k, sb, "%s/git/config", xdg);
		key_statf(k, sb, "%s/git/attributes", xdg);
	}
	if (home && *home) {
		key_statf(k, sb, "%s/.config/git/config", home);
		key_statf(k, sb, "%s/.config/git/attributes", home);
		key_statf(k, sb, "%s/.gitconfig", home);
	}
	key_stat(k, sb, "/etc/gitconfig");
	key_stat(k, sb, "/etc/gitattributes");
}

/* .gitattributes of top and of every directory down to rel's. */
static void
key_attributes(struct gitrepo_key *k, struct strbuf *sb, const char *top,
	const char *rel)
{
	const char *slash;

	key_statf(k, sb, "%s/.gitattributes", top);
	for (slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
		key_statf(k, sb, "%s/%.*s/.gitattributes", top,
			(int)(slash - rel), rel);
	}
}

int
gitrepo_key_make(const char *top, const char *rel, struct gitrepo_key *k)
{
	struct strbuf sb;
	struct timespec now;
	char *gitdir, *common;

	memset(k, 0, sizeof(*k));
	if (strpbrk(top, "\t\n") || strpbrk(rel, "\t\n"))
		return 0;
	if (!find_gitdir(top, &gitdir, &common))
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	k->read_ns = ts_ns(&now);
	if (!resolve_ref(gitdir, common, "HEAD", 0, k->commit)) {
		free(gitdir);
		free(common);
		return 0;
	}
	sb_init(&sb);
	sb_addf(&sb, "%s/%s", top, rel);
	k->path_len = sb.len;
	sb_addf(&sb, " %s", k->commit);
	key_statf(k, &sb, "%s/%s", top, rel);
	key_statf(k, &sb, "%s/index", gitdir);
	key_statf(k, &sb, "%s/config", common);
	key_statf(k, &sb, "%s/config.worktree", gitdir);
	key_statf(k, &sb, "%s/info/attributes", common);
	key_attributes(k, &sb, top, rel);
	key_globals(k, &sb);
	k->gitdir = gitdir;
	k->common = common;
	k->text = sb_detach(&sb);
	return 1;
}

void
gitrepo_key_release(struct gitrepo_key *k)
{
	free(k->gitdir);
	free(k->common);
	free(k->text);
	memset(k, 0, sizeof(*k));
}

/*
 * Split a cache line "KEY\tCOMMIT\tDIRTY" in place: 1 when well formed,
 * with *commit and *dirty pointing into it.
 */
static int
parse_line(char *line, char **commit, int *dirty)
{
	char *t1 = strchr(line, '\t'), *t2;

	if (!t1)
		return 0;
	*t1 = '\0';
	*commit = t1 + 1;
	t2 = strchr(*commit, '\t');
	if (!t2)
		return 0;
	*t2 = '\0';
	if (!is_hex_id(*commit) || (strcmp(t2 + 1, "0") &&
	    strcmp(t2 + 1, "1")))
		return 0;
	*dirty = t2[1] == '1';
	return 1;
}

/* The cache's text after its magic line, or NULL (the caller frees *all). */
static char *
cache_read(const char *cache, char **all)
{
	*all = read_path(cache, NULL);
	if (!*all || strncmp(*all, CACHE_MAGIC, strlen(CACHE_MAGIC)))
		return NULL;
	return *all + strlen(CACHE_MAGIC);
}

int
gitrepo_cache_get(const char *cache, const struct gitrepo_key *k,
	struct gitrepo_prov *out)
{
	char *all, *body = cache_read(cache, &all), *line, *save = NULL;
	char *commit;
	int dirty, hit = 0;

	for (line = body ? strtok_r(body, "\n", &save) : NULL; line && !hit;
	    line = strtok_r(NULL, "\n", &save)) {
		if (!parse_line(line, &commit, &dirty) || strcmp(line, k->text))
			continue;
		memcpy(out->commit, commit, GITREPO_ID_LEN);
		out->dirty = dirty;
		hit = 1;
	}
	free(all);
	return hit;
}

int
gitrepo_cache_storable(const struct gitrepo_key *k,
	const struct gitrepo_key *after, const struct gitrepo_prov *p)
{
	return k->text && after->text && !strcmp(k->text, after->text) &&
		!strcmp(k->commit, p->commit) && !k->racy;
}

void
gitrepo_cache_put(const char *cache, const struct gitrepo_key *k,
	const struct gitrepo_prov *p)
{
	char *all, *body = cache_read(cache, &all), *line, *save = NULL;
	char *tmp, *commit;
	size_t kept = 0;
	struct strbuf sb;
	int dirty, fd;

	sb_init(&sb);
	sb_adds(&sb, CACHE_MAGIC);
	sb_addf(&sb, "%s\t%s\t%d\n", k->text, p->commit, p->dirty ? 1 : 0);
	/* Other DAG files' entries follow, newest first, up to CACHE_MAX. */
	for (line = body ? strtok_r(body, "\n", &save) : NULL;
	    line && kept < CACHE_MAX - 1; line = strtok_r(NULL, "\n", &save)) {
		/* (A path with a space may drop another's: only a miss.) */
		if (!parse_line(line, &commit, &dirty) ||
		    (!strncmp(line, k->text, k->path_len) &&
		    line[k->path_len] == ' '))
			continue;
		sb_addf(&sb, "%s\t%s\t%d\n", line, commit, dirty);
		kept++;
	}
	free(all);
	/*
	 * Replaced whole by a rename, not fsynced: a cache lost to a power
	 * cut is worked out again, and a line that does not parse is
	 * skipped.  Concurrent runs may each drop the other's entry.
	 */
	/* The state database's directory, made now as its open makes it. */
	mkdir_parent(cache);
	tmp = xasprintf("%s.tmp-%ld", cache, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd >= 0) {
		ssize_t n = write(fd, sb.buf, sb.len);

		if (close(fd) < 0 || n != (ssize_t)sb.len ||
		    rename(tmp, cache) < 0)
			unlink(tmp);
	}
	free(tmp);
	sb_release(&sb);
}
