/*
 * archive: copy (or move) source to target, optionally gzip-compressed,
 * optionally with a sha256sum-format checksum file beside it.
 *
 * Everything streams through one buffer of at most 1 MiB (a small file's
 * size, rounded up to a page, when it is smaller), so a file of any size
 * takes constant memory; the output buffer of gzip exists only when it
 * compresses.  With a checksum asked for, the bytes are hashed as they
 * are written; after the copy the temporary file is flushed, read back
 * and hashed again, and only a match is published: the checksum file
 * first, then the target (the target is what marks the instance
 * complete).  Without one nothing is hashed or read back.  move unlinks
 * the source only after the target's rename and its directory are on disk.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "atomic.h"
#include "sha256.h"
#include "task_kind.h"

#define CHUNK (1u << 20)
#define PAGE 4096u
/*
 * Archives are written once and kept: the default level's better ratio
 * is worth its time here, unlike clean's intermediate outputs.
 */
#define ARCHIVE_GZ_LEVEL 6

static const struct field_spec archive_fields[] = {
	{ "source", FIELD_STRING, FIELD_REQUIRED | FIELD_TEMPLATE,
		"the file to archive" },
	{ "mode", FIELD_STRING, 0, "copy (default) or move (remove the source "
		"once the target is durable)" },
	{ "compress", FIELD_STRING, 0, "gzip to compress (a source already in "
		"gzip is copied as it is), or none (default)" },
	{ "checksum", FIELD_STRING, 0, "sha256: write <target>.sha256 in "
		"sha256sum format and verify the copy, or none (default)" },
	{ NULL, 0, 0, NULL },
};

static int
check_choice(const char *file, const struct node *task, const char *key,
	const char *const *choices, struct errs *errs)
{
	const struct node *v = node_get(task, key);
	size_t i;

	if (!v)
		return 0;
	if (v->type == NODE_SCALAR)
		for (i = 0; choices[i]; i++)
			if (!strcmp(v->str, choices[i]))
				return 0;
	errs_addf(errs, -EINVAL, file, v->line, v->column,
		"%s '%s' is not one of %s, %s", key,
		v->type == NODE_SCALAR ? v->str : "", choices[0], choices[1]);
	return -EINVAL;
}

static int
archive_validate(const char *file, const struct node *task, struct errs *errs)
{
	static const char *const modes[] = { "copy", "move", NULL };
	static const char *const comps[] = { "gzip", "none", NULL };
	static const char *const sums[] = { "sha256", "none", NULL };
	int rc = 0;

	if (!node_get(task, "target")) {
		errs_addf(errs, -EINVAL, file, task->line, task->column,
			"archive needs a 'target' (the path to write)");
		rc = -EINVAL;
	}
	if (check_choice(file, task, "mode", modes, errs) < 0)
		rc = -EINVAL;
	if (check_choice(file, task, "compress", comps, errs) < 0)
		rc = -EINVAL;
	if (check_choice(file, task, "checksum", sums, errs) < 0)
		rc = -EINVAL;
	return rc;
}

struct copy {
	int in;
	struct atomic_file af;
	struct sha256 sha;
	z_stream zs;
	int gz, zinit, sum;
	unsigned char *buf, *zbuf;
	size_t bufsize;	/* of buf; zbuf is CHUNK */
	uint64_t bytes_in, bytes_out;
	const char *source, *target;
};

static int
write_all(struct copy *c, const unsigned char *p, size_t n, struct err *e)
{
	if (c->sum)
		sha256_update(&c->sha, p, n);
	c->bytes_out += n;
	while (n) {
		ssize_t w = write(c->af.fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_set(e, -errno, "cannot write '%s': %s",
				c->af.tmp, strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
deflate_some(struct copy *c, const unsigned char *p, size_t n, int flush,
	struct err *e)
{
	int rc;

	c->zs.next_in = (unsigned char *)p;
	c->zs.avail_in = (unsigned)n;
	do {
		c->zs.next_out = c->zbuf;
		c->zs.avail_out = CHUNK;
		if (deflate(&c->zs, flush) == Z_STREAM_ERROR)
			return err_set(e, -EIO, "gzip failed on '%s'", c->source);
		rc = write_all(c, c->zbuf, CHUNK - c->zs.avail_out, e);
		if (rc < 0)
			return rc;
	} while (c->zs.avail_out == 0);
	return 0;
}

/* Stream source into the temporary target. */
static int
copy_data(struct copy *c, struct err *e)
{
	ssize_t got;
	int rc, first = 1;

	for (;;) {
		got = read(c->in, c->buf, c->bufsize);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return err_set(e, -errno, "cannot read '%s': %s",
				c->source, strerror(errno));
		}
		if (first && c->gz && got >= 2 && c->buf[0] == 0x1f &&
		    c->buf[1] == 0x8b)
			c->gz = 0;	/* already gzip: keep its bytes */
		if (first && c->gz) {
			c->zbuf = xmalloc(CHUNK);
			if (deflateInit2(&c->zs, ARCHIVE_GZ_LEVEL, Z_DEFLATED,
			    15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
				return err_set(e, -ENOMEM, "cannot start gzip");
			c->zinit = 1;
		}
		first = 0;
		c->bytes_in += (uint64_t)got;
		if (c->gz)
			rc = deflate_some(c, c->buf, (size_t)got,
				got == 0 ? Z_FINISH : Z_NO_FLUSH, e);
		else
			rc = write_all(c, c->buf, (size_t)got, e);
		if (rc < 0)
			return rc;
		if (got == 0)
			return 0;
	}
}

/* Read the temporary file back and compare its hash with what was written. */
static int
verify(struct copy *c, const char *want, struct err *e)
{
	struct sha256 s;
	uint8_t d[32];
	char hex[65];
	off_t off = 0;
	ssize_t got;

	sha256_init(&s);
	for (;;) {
		got = pread(c->af.fd, c->buf, c->bufsize, off);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return err_set(e, -errno, "cannot read back '%s': %s",
				c->af.tmp, strerror(errno));
		}
		if (got == 0)
			break;
		sha256_update(&s, c->buf, (size_t)got);
		off += got;
	}
	sha256_final(&s, d);
	sha256_hex(d, hex);
	if (strcmp(hex, want) || (uint64_t)off != c->bytes_out)
		return err_set(e, -EIO, "checksum mismatch on '%s' after the "
			"copy: wrote %s, read back %s", c->target, want, hex);
	return 0;
}

static int
write_checksum(const char *target, const char *hex, struct err *e)
{
	char *path = xasprintf("%s.sha256", target);
	char *dup = xstrdup(target);
	char *line = xasprintf("%s  %s\n", hex, basename(dup));
	struct atomic_file af;
	size_t n = strlen(line);
	int rc;

	rc = atomic_open(&af, path, e);
	if (rc == 0) {
		if (write(af.fd, line, n) != (ssize_t)n) {
			rc = err_set(e, -EIO, "cannot write '%s'", path);
			atomic_abort(&af);
		} else {
			rc = atomic_commit(&af, e);
		}
	}
	free(path);
	free(dup);
	free(line);
	return rc;
}

static int
archive_run(struct task_run *run, struct err *e)
{
	const char *mode = task_run_str(run, "mode");
	const char *compress = task_run_str(run, "compress");
	const char *checksum = task_run_str(run, "checksum");
	int move = mode && !strcmp(mode, "move");
	struct copy c;
	struct stat st;
	uint8_t d[32];
	char hex[65];
	int rc;

	memset(&c, 0, sizeof(c));
	c.af.fd = -1;
	c.source = task_run_str(run, "source");
	c.target = task_run_str(run, "target");
	c.gz = compress && !strcmp(compress, "gzip");
	c.sum = checksum && !strcmp(checksum, "sha256");
	if (!c.source || !c.target)
		return err_set(e, -EINVAL, "archive needs 'source' and 'target'");
	c.in = open(c.source, O_RDONLY | O_CLOEXEC);
	if (c.in < 0)
		return err_set(e, -errno, "cannot open '%s': %s", c.source,
			strerror(errno));
	if (fstat(c.in, &st) < 0)
		st.st_size = CHUNK;	/* size unknown: the whole buffer */
	else if (!S_ISREG(st.st_mode)) {
		close(c.in);
		return err_set(e, -EINVAL, "'%s' is not a regular file",
			c.source);
	}
	if (!strcmp(c.source, c.target)) {
		close(c.in);
		return err_set(e, -EINVAL, "source and target are the same "
			"file '%s'", c.source);
	}
	/*
	 * A file that fits in the buffer is read in one call, where the
	 * kernel's read-ahead has nothing to add: the hint is for longer ones.
	 * The buffer is one byte over a small file's size (rounded up to a
	 * page), so the first read already meets its end; a file that grew
	 * since fstat is still read to its end, in more calls.
	 */
	if ((uint64_t)st.st_size < CHUNK) {
		c.bufsize = ((size_t)st.st_size + PAGE) & ~(size_t)(PAGE - 1);
	} else {
		c.bufsize = CHUNK;
		posix_fadvise(c.in, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	c.buf = xmalloc(c.bufsize);
	if (c.sum)
		sha256_init(&c.sha);
	rc = atomic_open(&c.af, c.target, e);
	if (rc < 0)
		goto out;
	rc = copy_data(&c, e);
	if (rc < 0)
		goto out;
	if (c.sum) {
		sha256_final(&c.sha, d);
		sha256_hex(d, hex);
		/*
		 * The copy is flushed before it is verified and its checksum
		 * published, and not flushed again by the commit: nothing
		 * writes to it in between.
		 */
		if (fsync(c.af.fd) < 0) {
			rc = err_set(e, -errno, "cannot flush '%s': %s",
				c.af.tmp, strerror(errno));
			goto out;
		}
		rc = verify(&c, hex, e);
		if (rc == 0)
			rc = write_checksum(c.target, hex, e);
		if (rc < 0)
			goto out;
		rc = atomic_commit_flushed(&c.af, e);
	} else {
		rc = atomic_commit(&c.af, e);
	}
	/* Both commits fsync the target's directory after the rename. */
	if (rc < 0)
		goto out;
	if (move) {
		if (unlink(c.source) < 0) {
			rc = err_set(e, -errno, "archived, but cannot remove "
				"'%s': %s", c.source, strerror(errno));
			goto out;
		}
		fsync_parent(c.source);
	}
	fprintf(run->log, "archive: %s '%s' to '%s' (%llu bytes in, %llu "
		"out%s%s)\n", move ? "moved" : "copied", c.source, c.target,
		(unsigned long long)c.bytes_in, (unsigned long long)c.bytes_out,
		c.sum ? ", sha256 " : "", c.sum ? hex : "");
out:
	if (rc < 0 && c.af.tmp)
		atomic_abort(&c.af);
	if (c.zinit)
		deflateEnd(&c.zs);
	close(c.in);
	free(c.buf);
	free(c.zbuf);
	return rc;
}

const struct task_kind task_kind_archive = {
	.name = "archive",
	.summary = "copy or move a file, optionally gzip it and checksum it",
	.fields = archive_fields,
	.target_field = "target",
	.validate = archive_validate,
	.run = archive_run,
};
