/*
 * The reader's input files: plain files read in large chunks, gzip
 * (recognised by its magic bytes, members concatenated) inflated a few
 * blocks ahead in a second thread, and the reader's buffer refilled from
 * either.
 */
#include "config.h"
#include "csv_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

/*
 * gzip is inflated in a second thread, a few blocks ahead of the parser:
 * inflate is about a third of clean's work, and the machine has another
 * core.  The blocks are a fixed ring, so memory stays bounded.  The first
 * block is small and each next one twice as large up to ZP_BLOCK: the
 * parser (and so every thread after it) starts after 64 KiB are inflated,
 * not 4 MiB, which at 100,000 rows was a tenth of clean's time.  Full
 * blocks are 512 KiB: a page of a buffer costs a page fault the first time
 * it is written (15-20 us each on this project's VM), and a ring of four
 * 4 MiB blocks was 4,096 of them, a fifth of clean's CPU time at 100,000
 * rows.  Each block is a hand-off between threads, so not much smaller.
 */
#define ZP_BLOCKS 4
#define ZP_BLOCK (512u << 10)
#define ZP_FIRST (64u << 10)

struct zblock {
	char *data;
	size_t len, off;
	uint64_t consumed;	/* the source's consumed count after it */
};

struct zpipe {
	pthread_t th;
	struct bqueue q;	/* of b[] */
	struct zblock b[ZP_BLOCKS];
	long held;		/* the block the consumer reads, or -1 */
	int rc;			/* the producer's error, or 0, once closed */
	struct err e;
};

/* ---------------------------------------------------------------- input */

int
src_open(struct src *s, const char *path, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->path = path;
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return err_set(e, -errno, "cannot open '%s': %s", path,
			strerror(errno));
	posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->zin = xmalloc(READ_CHUNK);
	return 0;
}

static void zp_stop(struct src *s);

void
src_close(struct src *s)
{
	zp_stop(s);
#ifdef HAVE_ISAL
	free(s->is);
#endif
	if (s->zinit)
		inflateEnd(&s->zs);
	if (s->fd >= 0)
		close(s->fd);
	free(s->zin);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int
src_read_raw(struct src *s, unsigned char *dst, size_t n, struct err *e)
{
	ssize_t got;

	do
		got = read(s->fd, dst, n);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return err_set(e, -errno, "cannot read '%s': %s", s->path,
			strerror(errno));
	if (got == 0)
		s->feof = 1;
	s->consumed += (uint64_t)got;
	return (int)got;
}

/*
 * Skip the zero padding tar leaves after the last member; 1 when the next
 * member starts at *in, 0 when the input ran out first.
 */
static int
skip_padding(unsigned char **in, unsigned *avail)
{
	while (*avail && **in == 0) {
		(*in)++;
		(*avail)--;
	}
	return *avail > 0;
}

#ifdef HAVE_ISAL
/*
 * src_inflate with ISA-L's inflate, two to three times as fast as zlib's
 * here (30 MB of the bench's events: 34 ms of CPU against 90 ms).  The
 * same stream rules: members concatenated, zero padding after the last
 * one, and an end before a member's trailer is an error.  ISA-L reads
 * ahead into its own bit buffer, so the input running out is a
 * truncation only once a call makes no progress.
 */
static const char *
isal_why(int rc)
{
	switch (rc) {
	case ISAL_INVALID_BLOCK:
		return "invalid block type";
	case ISAL_INVALID_SYMBOL:
		return "invalid code";
	case ISAL_INVALID_LOOKBACK:
		return "invalid distance too far back";
	case ISAL_INVALID_WRAPPER:
		return "incorrect header check";
	case ISAL_UNSUPPORTED_METHOD:
		return "unknown compression method";
	case ISAL_INCORRECT_CHECKSUM:
		return "incorrect data check";
	default:
		return "inflate failed";
	}
}

static long
src_inflate_isal(struct src *s, char *dst, size_t n, struct err *e)
{
	struct inflate_state *st = s->is;
	uint32_t before;
	int rc;

	st->next_out = (uint8_t *)dst;
	st->avail_out = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	while (st->avail_out > 0) {
		if (st->avail_in == 0 && !s->feof) {
			rc = src_read_raw(s, s->zin, READ_CHUNK, e);
			if (rc < 0)
				return rc;
			st->next_in = s->zin;
			st->avail_in = (uint32_t)rc;
		}
		if (s->zend) {
			/* Concatenated members are one stream (gzip -c a b). */
			unsigned avail = st->avail_in;
			int more = skip_padding(&st->next_in, &avail);

			st->avail_in = avail;
			if (!more) {
				if (s->feof)
					break;
				continue;
			}
			isal_inflate_reset(st);
			s->zend = 0;
		}
		before = st->avail_out;
		rc = isal_inflate(st);
		if (rc < 0 || rc == ISAL_NEED_DICT)
			return err_set(e, -EIO, "'%s': corrupt gzip data: %s",
				s->path, isal_why(rc));
		if (st->block_state == ISAL_BLOCK_FINISH)
			s->zend = 1;
		else if (st->avail_in == 0 && s->feof &&
		    st->avail_out == before)
			return err_set(e, -EIO, "'%s': truncated gzip stream "
				"(the file ends before the gzip trailer)", s->path);
	}
	return (long)(st->next_out - (uint8_t *)dst);
}
#endif

/*
 * Decompress (or copy) up to n bytes into dst.  Returns the count, 0 at the
 * end of the file, or -errno.  A gzip stream that ends before its trailer
 * is an error: a truncated download must not look like a short file.
 */
static long
src_inflate(struct src *s, char *dst, size_t n, struct err *e)
{
	int rc;

#ifdef HAVE_ISAL
	if (s->is)
		return src_inflate_isal(s, dst, n, e);
#endif
	s->zs.next_out = (unsigned char *)dst;
	s->zs.avail_out = n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
	while (s->zs.avail_out > 0) {
		if (s->zs.avail_in == 0 && !s->feof) {
			rc = src_read_raw(s, s->zin, READ_CHUNK, e);
			if (rc < 0)
				return rc;
			s->zs.next_in = s->zin;
			s->zs.avail_in = (unsigned)rc;
		}
		if (s->zend) {
			/* Concatenated members are one stream (gzip -c a b). */
			if (s->zs.avail_in == 0 && s->feof)
				break;
			if (!skip_padding(&s->zs.next_in, &s->zs.avail_in))
				continue;
			inflateReset(&s->zs);
			s->zend = 0;
		}
		if (s->zs.avail_in == 0 && s->feof)
			return err_set(e, -EIO, "'%s': truncated gzip stream "
				"(the file ends before the gzip trailer)", s->path);
		rc = inflate(&s->zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			s->zend = 1;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return err_set(e, -EIO, "'%s': corrupt gzip data: %s",
				s->path, s->zs.msg ? s->zs.msg : "inflate failed");
	}
	return (long)(s->zs.next_out - (unsigned char *)dst);
}

static void *
zp_main(void *arg)
{
	struct src *s = arg;
	struct zpipe *zp = s->zp;
	size_t size = ZP_FIRST;
	long i;

	while ((i = bq_wait_free(&zp->q)) >= 0) {
		struct zblock *b = &zp->b[i];
		long got = src_inflate(s, b->data, size, &zp->e);

		if (got <= 0) {
			zp->rc = (int)got;
			bq_close(&zp->q);
			break;
		}
		b->len = (size_t)got;
		b->off = 0;
		b->consumed = s->consumed;
		bq_publish(&zp->q);
		if (size < ZP_BLOCK)
			size *= 2;
	}
	return NULL;
}

static int
zp_start(struct src *s, struct err *e)
{
	struct zpipe *zp = xcalloc(1, sizeof(*zp));
	size_t i;
	int rc;

	for (i = 0; i < ZP_BLOCKS; i++)
		zp->b[i].data = xmalloc(ZP_BLOCK);
	bq_init(&zp->q, ZP_BLOCKS);
	zp->held = -1;
	s->zp = zp;
	rc = pthread_create(&zp->th, NULL, zp_main, s);
	if (rc) {
		s->zp = NULL;
		for (i = 0; i < ZP_BLOCKS; i++)
			free(zp->b[i].data);
		bq_destroy(&zp->q);
		free(zp);
		/* Inflate inline instead: slower, not wrong. */
		(void)e;
	}
	return 0;
}

static void
zp_stop(struct src *s)
{
	struct zpipe *zp = s->zp;
	size_t i;

	if (!zp)
		return;
	bq_stop(&zp->q);
	pthread_join(zp->th, NULL);
	for (i = 0; i < ZP_BLOCKS; i++)
		free(zp->b[i].data);
	bq_destroy(&zp->q);
	free(zp);
	s->zp = NULL;
}

/*
 * Take up to n bytes from the inflating thread's blocks.  Without wait,
 * 0 when no block is ready now (the caller already has some bytes).
 */
static long
zp_take(struct src *s, char *dst, size_t n, int wait, struct err *e)
{
	struct zpipe *zp = s->zp;
	struct zblock *b;
	size_t take;

	if (zp->held < 0 && !wait && (zp->held = bq_peek_full(&zp->q)) < 0)
		return 0;
	if (zp->held < 0 && (zp->held = bq_wait_full(&zp->q)) < 0) {
		/* Closed and drained: rc was set before the close. */
		if (zp->rc < 0 && e)
			*e = zp->e;
		return zp->rc;
	}
	/* The held block is ours until we release it: no lock. */
	b = &zp->b[zp->held];
	take = b->len - b->off < n ? b->len - b->off : n;
	memcpy(dst, b->data + b->off, take);
	b->off += take;
	s->shown = b->consumed;
	if (b->off == b->len) {
		zp->held = -1;
		bq_release(&zp->q);
	}
	return (long)take;
}

/*
 * Fill dst with up to n bytes of text; the count, 0 at the end, or
 * -errno.  Waits for the first bytes only, then takes what is at hand:
 * the parser never idles while a block it could parse is ready.
 */
static long
src_fill(struct src *s, char *dst, size_t n, struct err *e)
{
	long got, total = 0;

	if (!s->gz) {
		got = src_read_raw(s, (unsigned char *)dst, n > INT32_MAX ?
			INT32_MAX : n, e);
		s->shown = s->consumed;
		return got;
	}
	if (!s->zp)
		return src_inflate(s, dst, n, e);
	while ((size_t)total < n) {
		got = zp_take(s, dst + total, n - total, total == 0, e);
		if (got < 0)
			return got;
		if (got == 0)
			break;
		total += got;
	}
	return total;
}

/* Peek at the first bytes to tell gzip from plain text. */
int
src_detect(struct src *s, struct rec_reader *r, struct err *e)
{
	int rc = src_read_raw(s, s->zin, READ_CHUNK, e);

	if (rc < 0)
		return rc;
	if (rc >= 2 && s->zin[0] == 0x1f && s->zin[1] == 0x8b) {
		s->gz = 1;
#ifdef HAVE_ISAL
		s->is = xmalloc(sizeof(*s->is));
		isal_inflate_init(s->is);
		s->is->crc_flag = ISAL_GZIP;
		s->is->next_in = s->zin;
		s->is->avail_in = (uint32_t)rc;
		return zp_start(s, e);
#endif
		if (inflateInit2(&s->zs, 15 + 16) != Z_OK)
			return err_set(e, -ENOMEM, "cannot start gzip for '%s'",
				s->path);
		s->zinit = 1;
		s->zs.next_in = s->zin;
		s->zs.avail_in = (unsigned)rc;
		return zp_start(s, e);
	}
	/* Plain: the peeked bytes are data. */
	if ((size_t)rc > r->cap - r->end) {
		r->cap = r->end + rc;
		r->buf = xrealloc(r->buf, r->cap + 1);
	}
	memcpy(r->buf + r->end, s->zin, rc);
	r->end += rc;
	return 0;
}

/*
 * Make room and read more into buf, keeping buf[pos..end).  Returns bytes
 * added, 0 at the end of the file (sets eof), or -errno.
 */
long
reader_fill(struct rec_reader *r, struct err *e)
{
	long got;

	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->end < r->cap / 2) {
		if (r->end >= REC_MAX)
			return err_set(e, -E2BIG, "'%s':%llu: a record longer "
				"than %zu MiB", r->src.path,
				(unsigned long long)r->line, REC_MAX >> 20);
		r->cap *= 2;
		/* One spare byte so a field at the very end can be NUL-ended. */
		r->buf = xrealloc(r->buf, r->cap + 1);
	}
	got = src_fill(&r->src, r->buf + r->end, r->cap - r->end, e);
	if (got < 0)
		return got;
	if (got == 0)
		r->eof = 1;
	r->end += got;
	return got;
}

