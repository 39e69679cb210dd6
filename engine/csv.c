/*
 * Streaming record input and output: RFC 4180 CSV, TSV and JSON lines in,
 * RFC 4180 CSV out, plain or gzip both ways.
 *
 * The reader keeps one growable buffer of decompressed bytes and parses a
 * whole record from it at a time; when a record runs past the bytes
 * buffered, it refills (moving the partial record to the front, growing
 * the buffer only when one record is longer than it) and parses that
 * record again.  Fields are copied, unescaped and NUL-terminated, into one
 * per-record store, so the raw bytes stay intact for the rejects file and
 * no field costs a malloc.  Fields are scanned eight bytes at a time for
 * the delimiter, the quote and the line feed at once (scan_special, a
 * SWAR test: three memchr calls per field cost more on short fields);
 * memchr finds line ends and closing quotes, where one byte is sought.
 *
 * A malformed record never desynchronises the rest: a quoting error that
 * shows up after a line break inside a quoted field (an unterminated
 * quote) rejects only the first physical line and parsing resumes on the
 * next, so one stray quote costs one record, not the rest of the file.
 *
 * The writer buffers output and deflates it when the path ends in .gz;
 * both go through a temporary file published by rename (engine/atomic).
 */
#include "config.h"
#include "csv.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "atomic.h"
#include "rules.h"

#define READ_CHUNK (1u << 20)		/* compressed bytes per read() */
#define BUF_MIN (4u << 20)		/* decompressed buffer, grows by doubling */
#define REC_MAX ((size_t)64 << 20)	/* one physical line may not exceed this */
#define OUT_BUF (1u << 18)		/* writer buffer before write()/deflate */
#define GZ_LEVEL 1
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Nonzero when some byte of w is zero. */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

int
rec_format_parse(const char *name, enum rec_format *out)
{
	if (!strcmp(name, "csv"))
		*out = REC_CSV;
	else if (!strcmp(name, "tsv"))
		*out = REC_TSV;
	else if (!strcmp(name, "jsonl"))
		*out = REC_JSONL;
	else
		return -EINVAL;
	return 0;
}

/* One input file, plain or gzip. */
struct src {
	int fd;
	const char *path;
	int gz;			/* a gzip stream (by magic bytes) */
	int zinit;		/* zs initialised */
	int zend;		/* the current gzip member ended */
	z_stream zs;
	unsigned char *zin;	/* compressed bytes read, not yet inflated */
	int feof;		/* read() returned 0 */
	uint64_t consumed;	/* bytes read from the file (reader thread) */
	uint64_t shown;		/* consumed as of the block last taken */
	struct zpipe *zp;	/* gzip: inflating in a second thread */
};

/*
 * gzip is inflated in a second thread, a few blocks ahead of the parser:
 * inflate is about a third of clean's work, and the machine has another
 * core.  The blocks are a fixed ring, so memory stays bounded.
 */
#define ZP_BLOCKS 4
#define ZP_BLOCK (4u << 20)

struct zblock {
	char *data;
	size_t len, off;
	uint64_t consumed;	/* the source's consumed count after it */
};

struct zpipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct zblock b[ZP_BLOCKS];
	size_t head, tail, count;	/* ring: head filled next, tail read next */
	int done;		/* the producer finished (end or error) */
	int stop;		/* the consumer is closing */
	int rc;			/* the producer's error, or 0 */
	struct err e;
};

struct rec_reader {
	enum rec_format fmt;
	char delim;
	int quoting;
	char **paths;
	size_t npaths, cur;
	struct src src;
	char *buf;		/* decompressed bytes; buf[pos..end) unparsed */
	size_t cap, pos, end;
	int eof;		/* the current file has no more bytes */
	uint64_t line;		/* physical line of buf[pos] in the current file */
	uint64_t done_bytes;	/* compressed bytes of finished files */
	char **hdr;
	size_t width;
	int *jkind;		/* JSON lines: 0 scalar, 1 object, 2 array per column */
	struct strbuf fb;	/* field bytes of the current record, each NUL-ended */
	size_t *offs;		/* offset of each field in fb */
	size_t *flens;
	char **fptrs;
	size_t fcap, nf;
	char reason[512];
	struct rpipe *rp;	/* parsing in a second thread, or NULL */
	int rp_tried;		/* the thread starts at the first record */
	void (*prep)(void *ctx, const struct record *rec, int64_t *out);
	void *prep_ctx;
	size_t nprep;
	int64_t *prep_out;	/* the values of the current record */
};

/* ---------------------------------------------------------------- input */

static int
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

static void
src_close(struct src *s)
{
	zp_stop(s);
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
 * Decompress (or copy) up to n bytes into dst.  Returns the count, 0 at the
 * end of the file, or -errno.  A gzip stream that ends before its trailer
 * is an error: a truncated download must not look like a short file.
 */
static long
src_inflate(struct src *s, char *dst, size_t n, struct err *e)
{
	int rc;

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
			if (s->zs.avail_in == 0)
				continue;
			if (s->zs.next_in[0] == 0) {
				/* Zero padding after the last member, as tar leaves. */
				while (s->zs.avail_in && *s->zs.next_in == 0) {
					s->zs.next_in++;
					s->zs.avail_in--;
				}
				continue;
			}
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

	for (;;) {
		struct zblock *b;
		long got;

		pthread_mutex_lock(&zp->mu);
		while (zp->count == ZP_BLOCKS && !zp->stop)
			pthread_cond_wait(&zp->cv, &zp->mu);
		if (zp->stop) {
			pthread_mutex_unlock(&zp->mu);
			return NULL;
		}
		b = &zp->b[zp->head];
		pthread_mutex_unlock(&zp->mu);
		/* The block at head is the producer's until count covers it. */
		got = src_inflate(s, b->data, ZP_BLOCK, &zp->e);
		pthread_mutex_lock(&zp->mu);
		if (got <= 0) {
			zp->rc = (int)got;
			zp->done = 1;
		} else {
			b->len = (size_t)got;
			b->off = 0;
			b->consumed = s->consumed;
			zp->head = (zp->head + 1) % ZP_BLOCKS;
			zp->count++;
		}
		pthread_cond_broadcast(&zp->cv);
		pthread_mutex_unlock(&zp->mu);
		if (got <= 0)
			return NULL;
	}
}

static int
zp_start(struct src *s, struct err *e)
{
	struct zpipe *zp = xcalloc(1, sizeof(*zp));
	size_t i;
	int rc;

	for (i = 0; i < ZP_BLOCKS; i++)
		zp->b[i].data = xmalloc(ZP_BLOCK);
	pthread_mutex_init(&zp->mu, NULL);
	pthread_cond_init(&zp->cv, NULL);
	s->zp = zp;
	rc = pthread_create(&zp->th, NULL, zp_main, s);
	if (rc) {
		s->zp = NULL;
		for (i = 0; i < ZP_BLOCKS; i++)
			free(zp->b[i].data);
		pthread_mutex_destroy(&zp->mu);
		pthread_cond_destroy(&zp->cv);
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
	pthread_mutex_lock(&zp->mu);
	zp->stop = 1;
	pthread_cond_broadcast(&zp->cv);
	pthread_mutex_unlock(&zp->mu);
	pthread_join(zp->th, NULL);
	for (i = 0; i < ZP_BLOCKS; i++)
		free(zp->b[i].data);
	pthread_mutex_destroy(&zp->mu);
	pthread_cond_destroy(&zp->cv);
	free(zp);
	s->zp = NULL;
}

/* Take up to n bytes from the inflating thread's blocks. */
static long
zp_take(struct src *s, char *dst, size_t n, struct err *e)
{
	struct zpipe *zp = s->zp;
	struct zblock *b;
	size_t take;

	pthread_mutex_lock(&zp->mu);
	while (zp->count == 0 && !zp->done)
		pthread_cond_wait(&zp->cv, &zp->mu);
	if (zp->count == 0) {
		int rc = zp->rc;

		pthread_mutex_unlock(&zp->mu);
		if (rc < 0 && e)
			*e = zp->e;
		return rc;
	}
	b = &zp->b[zp->tail];
	pthread_mutex_unlock(&zp->mu);
	/* The block at tail is ours until count drops. */
	take = b->len - b->off < n ? b->len - b->off : n;
	memcpy(dst, b->data + b->off, take);
	b->off += take;
	s->shown = b->consumed;
	if (b->off == b->len) {
		pthread_mutex_lock(&zp->mu);
		zp->tail = (zp->tail + 1) % ZP_BLOCKS;
		zp->count--;
		pthread_cond_broadcast(&zp->cv);
		pthread_mutex_unlock(&zp->mu);
	}
	return (long)take;
}

/*
 * Fill dst with up to n bytes of text; the count, 0 at the end, or
 * -errno.  Fills as much as is at hand, so fewer, larger refills.
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
		got = zp_take(s, dst + total, n - total, e);
		if (got < 0)
			return got;
		if (got == 0)
			break;
		total += got;
	}
	return total;
}

/* Peek at the first bytes to tell gzip from plain text. */
static int
src_detect(struct src *s, struct rec_reader *r, struct err *e)
{
	int rc = src_read_raw(s, s->zin, READ_CHUNK, e);

	if (rc < 0)
		return rc;
	if (rc >= 2 && s->zin[0] == 0x1f && s->zin[1] == 0x8b) {
		s->gz = 1;
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
static long
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

/* ------------------------------------------------------------- checks */

/*
 * 0 when buf holds valid UTF-8 without NUL, 1 for a NUL byte, 2 for
 * invalid UTF-8 (overlong forms, surrogates and code points past U+10FFFF
 * included).  ASCII runs are checked eight bytes at a time.
 */
static int
text_check(const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;

	while (p < end) {
		while (end - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if ((w & 0x8080808080808080ull) ||
			    ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull))
				break;
			p += 8;
		}
		if (p >= end)
			break;
		if (*p < 0x80) {
			if (*p == 0)
				return 1;
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			if (end - p < 2 || (p[1] & 0xc0) != 0x80)
				return 2;
			p += 2;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			if (end - p < 3 || (p[1] & 0xc0) != 0x80 ||
			    (p[2] & 0xc0) != 0x80)
				return 2;
			if (*p == 0xe0 && p[1] < 0xa0)
				return 2;
			if (*p == 0xed && p[1] >= 0xa0)
				return 2;
			p += 3;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			if (end - p < 4 || (p[1] & 0xc0) != 0x80 ||
			    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
				return 2;
			if (*p == 0xf0 && p[1] < 0x90)
				return 2;
			if (*p == 0xf4 && p[1] >= 0x90)
				return 2;
			p += 4;
		} else {
			return 2;
		}
	}
	return 0;
}

/* ------------------------------------------------------- record store */

static void
fields_reset(struct rec_reader *r)
{
	if (!r->fb.buf)
		sb_grow(&r->fb, 4096);
	r->fb.len = 0;
	r->nf = 0;
}

static void
fields_grow(struct rec_reader *r)
{
	r->fcap = r->fcap ? r->fcap * 2 : 32;
	r->offs = xrealloc(r->offs, r->fcap * sizeof(*r->offs));
	r->flens = xrealloc(r->flens, r->fcap * sizeof(*r->flens));
	r->fptrs = xrealloc(r->fptrs, r->fcap * sizeof(*r->fptrs));
}

/* The hot path: one memcpy per field, growth checks out of line. */
static inline void
field_add(struct rec_reader *r, const char *p, size_t n)
{
	if (r->nf == r->fcap)
		fields_grow(r);
	if (r->fb.cap - r->fb.len < n + 1)
		sb_grow(&r->fb, n + 1);
	r->offs[r->nf] = r->fb.len;
	memcpy(r->fb.buf + r->fb.len, p, n);
	r->fb.len += n;
	r->fb.buf[r->fb.len++] = 0;
	r->flens[r->nf] = n;
	r->nf++;
}

/* Append to the last field (quoted fields arrive in pieces). */
static inline void
field_append(struct rec_reader *r, const char *p, size_t n)
{
	r->fb.len--;		/* drop the NUL */
	if (r->fb.cap - r->fb.len < n + 1)
		sb_grow(&r->fb, n + 1);
	memcpy(r->fb.buf + r->fb.len, p, n);
	r->fb.len += n;
	r->fb.buf[r->fb.len++] = 0;
	r->flens[r->nf - 1] += n;
}

static void
fields_finish(struct rec_reader *r, struct record *rec)
{
	size_t i;

	for (i = 0; i < r->nf; i++)
		r->fptrs[i] = r->fb.buf + r->offs[i];
	rec->n = r->nf;
	rec->fields = r->fptrs;
	rec->lens = r->flens;
}

/* ------------------------------------------------------- CSV and TSV */

enum parse_result {
	PARSE_MORE,		/* the record runs past the buffered bytes */
	PARSE_OK,		/* a record (maybe rejected) */
};

static size_t
count_nl(const char *p, size_t n)
{
	const char *end = p + n;
	size_t c = 0;

	while ((p = memchr(p, '\n', end - p)) != NULL) {
		c++;
		p++;
	}
	return c;
}

/*
 * The record starting at buf[pos] ended badly at buf[at].  If it already
 * crossed a line break (inside quotes), reject just its first physical
 * line; else reject up to the end of the line holding at.
 */
static enum parse_result
csv_reject(struct rec_reader *r, struct record *rec, size_t at,
	const char *why)
{
	const char *s = r->buf + r->pos, *lim = r->buf + r->end;
	const char *nl = memchr(s, '\n', at - r->pos);
	size_t rawlen;

	if (!nl) {
		nl = memchr(r->buf + at, '\n', lim - (r->buf + at));
		if (!nl && !r->eof)
			return PARSE_MORE;
	}
	rawlen = nl ? (size_t)(nl - s) : (size_t)(lim - s);
	rec->raw = s;
	rec->raw_len = rawlen;
	if (rawlen && s[rawlen - 1] == '\r')
		rec->raw_len--;
	rec->line = r->line;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
	rec->reject = r->reason;
	fields_finish(r, rec);
	r->line++;
	r->pos += nl ? rawlen + 1 : rawlen;
	return PARSE_OK;
}

/*
 * The first delimiter, quote or line feed in [p, e), or e.  Eight bytes
 * at a time: fields are short, so one call per field must be cheap, which
 * three memchr calls are not.
 */
static inline const char *
scan_special(const char *p, const char *e, char delim, char quote)
{
	const uint64_t d = ONES * (unsigned char)delim;
	const uint64_t q = ONES * (unsigned char)quote;
	const uint64_t n = ONES * '\n';

	while (e - p >= 8) {
		uint64_t w, hit;

		memcpy(&w, p, 8);
		hit = HAS_ZERO(w ^ d) | HAS_ZERO(w ^ q) | HAS_ZERO(w ^ n);
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
	while (p < e && *p != delim && *p != quote && *p != '\n')
		p++;
	return p;
}

/*
 * Parse one record at buf[pos].  On PARSE_OK, rec is filled and pos/line
 * advanced past it.
 */
static enum parse_result
csv_parse(struct rec_reader *r, struct record *rec)
{
	char *const base = r->buf;
	const char *s = base + r->pos, *lim = base + r->end;
	const char *p = s, *q;
	const char delim = r->delim;
	size_t nls = 0;		/* line breaks inside quoted fields */

	fields_reset(r);
	rec->reject = NULL;
	for (;;) {
		if (r->quoting && p < lim && *p == '"') {
			/* Quoted field: runs to a quote not doubled. */
			p++;
			field_add(r, p, 0);
			for (;;) {
				q = memchr(p, '"', lim - p);
				if (!q) {
					/*
					 * A quote left open for this long is
					 * a stray one: give up on its line.
					 */
					if (!r->eof && (size_t)(lim - s) >= REC_MAX &&
					    memchr(s, '\n', lim - s))
						return csv_reject(r, rec, r->end,
							"bad quoting: unterminated quoted field");
					if (!r->eof)
						return PARSE_MORE;
					nls += count_nl(p, lim - p);
					return csv_reject(r, rec, r->end,
						"bad quoting: unterminated quoted field");
				}
				nls += count_nl(p, q - p);
				field_append(r, p, q - p);
				if (q + 1 == lim && !r->eof)
					return PARSE_MORE;
				if (q + 1 < lim && q[1] == '"') {
					field_append(r, "\"", 1);
					p = q + 2;
					continue;
				}
				p = q + 1;
				break;
			}
			if (p == lim) {
				if (!r->eof)
					return PARSE_MORE;
				goto record_end;
			}
			if (*p == delim) {
				p++;
				continue;
			}
			if (*p == '\n') {
				p++;
				goto record_end;
			}
			if (*p == '\r' && p + 1 < lim && p[1] == '\n') {
				p += 2;
				goto record_end;
			}
			if (*p == '\r' && p + 1 == lim && !r->eof)
				return PARSE_MORE;
			return csv_reject(r, rec, p - base,
				"bad quoting: characters after a closing quote");
		}
		/* Unquoted field: up to the delimiter or the line end. */
		q = scan_special(p, lim, delim, r->quoting ? '"' : delim);
		if (q == lim && !r->eof)
			return PARSE_MORE;
		if (q < lim && *q == '"')
			return csv_reject(r, rec, p - base,
				"bad quoting: a quote inside an unquoted field");
		if (q == lim || *q == '\n') {
			const char *fe = q;

			if (fe > p && fe[-1] == '\r')
				fe--;
			field_add(r, p, fe - p);
			p = q < lim ? q + 1 : q;
			goto record_end;
		}
		field_add(r, p, q - p);
		p = q + 1;
	}
record_end:
	rec->raw = s;
	rec->raw_len = p - s;
	if (rec->raw_len && s[rec->raw_len - 1] == '\n')
		rec->raw_len--;
	if (rec->raw_len && s[rec->raw_len - 1] == '\r')
		rec->raw_len--;
	rec->line = r->line;
	r->line += 1 + nls;
	r->pos = p - base;
	fields_finish(r, rec);
	return PARSE_OK;
}

/* --------------------------------------------------------- JSON lines */

/* 0 scalar (or null), 1 object, 2 array. */
static int
json_class(const json_t *v)
{
	return json_is_object(v) ? 1 : json_is_array(v) ? 2 : 0;
}

static const char *const class_names[] = { "a scalar", "an object", "an array" };

/* Parse one JSON line at buf[pos]; fills fields in header order. */
static enum parse_result
jsonl_parse(struct rec_reader *r, struct record *rec, int header)
{
	const char *s = r->buf + r->pos, *lim = r->buf + r->end;
	const char *nl = memchr(s, '\n', lim - s);
	size_t n, i, len;
	json_error_t jerr;
	json_t *o;
	struct strbuf tmp;

	if (!nl && !r->eof)
		return PARSE_MORE;
	len = nl ? (size_t)(nl - s) : (size_t)(lim - s);
	n = len;
	if (n && s[n - 1] == '\r')
		n--;
	fields_reset(r);
	rec->raw = s;
	rec->raw_len = n;
	rec->line = r->line;
	rec->reject = NULL;
	r->line++;
	r->pos += nl ? len + 1 : len;
	switch (text_check((const unsigned char *)s, n)) {
	case 1:
		rec->reject = "NUL byte in the record";
		goto out;
	case 2:
		rec->reject = "invalid UTF-8";
		goto out;
	}
	for (i = 0; i < n && strchr(" \t\r", s[i]); i++)
		;
	if (i == n) {
		rec->reject = "empty line";
		goto out;
	}
	o = json_loadb(s, n, 0, &jerr);
	if (!o) {
		snprintf(r->reason, sizeof(r->reason), "invalid JSON: %s "
			"(column %d)", jerr.text, jerr.column);
		rec->reject = r->reason;
		goto out;
	}
	if (!json_is_object(o)) {
		rec->reject = "not a JSON object";
		json_decref(o);
		goto out;
	}
	sb_init(&tmp);
	if (header) {
		const char *k;
		json_t *v;

		r->width = json_object_size(o);
		r->hdr = xcalloc(r->width + 1, sizeof(*r->hdr));
		r->jkind = xcalloc(r->width + 1, sizeof(*r->jkind));
		i = 0;
		json_object_foreach(o, k, v) {
			r->hdr[i] = xstrdup(k);
			r->jkind[i] = json_class(v);
			i++;
		}
	}
	for (i = 0; i < r->width; i++) {
		json_t *v = json_object_get(o, r->hdr[i]);

		if (!v) {
			snprintf(r->reason, sizeof(r->reason),
				"missing key '%s'", r->hdr[i]);
			rec->reject = r->reason;
			break;
		}
		if (!json_is_null(v) && json_class(v) != r->jkind[i]) {
			snprintf(r->reason, sizeof(r->reason), "key '%s' holds "
				"%s, expected %s", r->hdr[i],
				class_names[json_class(v)],
				class_names[r->jkind[i]]);
			rec->reject = r->reason;
			break;
		}
		sb_reset(&tmp);
		rules_json_text(v, &tmp);
		field_add(r, tmp.buf ? tmp.buf : "", tmp.len);
	}
	if (!rec->reject && json_object_size(o) > r->width) {
		const char *k;
		json_t *v;

		json_object_foreach(o, k, v) {
			for (i = 0; i < r->width; i++)
				if (!strcmp(k, r->hdr[i]))
					break;
			if (i == r->width) {
				snprintf(r->reason, sizeof(r->reason),
					"unexpected key '%s'", k);
				rec->reject = r->reason;
				break;
			}
		}
	}
	sb_release(&tmp);
	json_decref(o);
out:
	fields_finish(r, rec);
	return PARSE_OK;
}

/* ------------------------------------------------------------- reader */

/* Parse the next record, refilling as needed: 1, 0 at end of file, -errno. */
static int
next_raw(struct rec_reader *r, struct record *rec, int header, struct err *e)
{
	enum parse_result pr;
	long got;

	for (;;) {
		if (r->pos == r->end) {
			if (r->eof)
				return 0;
			got = reader_fill(r, e);
			if (got < 0)
				return (int)got;
			continue;
		}
		if (r->fmt == REC_JSONL)
			pr = jsonl_parse(r, rec, header);
		else
			pr = csv_parse(r, rec);
		if (pr == PARSE_OK)
			return 1;
		got = reader_fill(r, e);
		if (got < 0)
			return (int)got;
	}
}

/* Check a parsed CSV/TSV record's text and width. */
static void
check_record(struct rec_reader *r, struct record *rec)
{
	if (rec->reject)
		return;
	switch (text_check((const unsigned char *)rec->raw, rec->raw_len)) {
	case 1:
		rec->reject = "NUL byte in the record";
		return;
	case 2:
		rec->reject = "invalid UTF-8";
		return;
	}
	if (rec->n != r->width) {
		snprintf(r->reason, sizeof(r->reason),
			"expected %zu fields, found %zu", r->width, rec->n);
		rec->reject = r->reason;
	}
}

/* Open paths[cur] and read its header; the first file defines it. */
static int
open_file(struct rec_reader *r, struct err *e)
{
	const char *path = r->paths[r->cur];
	struct record rec;
	int rc;
	size_t i, j;

	r->pos = r->end = 0;
	r->eof = 0;
	r->line = 1;
	rc = src_open(&r->src, path, e);
	if (rc < 0)
		return rc;
	rc = src_detect(&r->src, r, e);
	if (rc < 0)
		return rc;
	/* Fill enough to see the byte-order mark. */
	while (r->end - r->pos < 3 && !r->eof) {
		long got = reader_fill(r, e);

		if (got < 0)
			return (int)got;
	}
	if (r->end - r->pos >= 3 && !memcmp(r->buf + r->pos, "\xef\xbb\xbf", 3))
		r->pos += 3;
	rc = next_raw(r, &rec, r->cur == 0, e);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return err_set(e, -EINVAL, "'%s' is empty: expected a header "
			"line", path);
	if (rec.reject)
		return err_set(e, -EINVAL, "'%s':1: bad header: %s", path,
			rec.reject);
	if (text_check((const unsigned char *)rec.raw, rec.raw_len))
		return err_set(e, -EINVAL, "'%s':1: bad header: invalid UTF-8 "
			"or a NUL byte", path);
	if (r->cur == 0) {
		if (r->fmt != REC_JSONL) {
			r->width = rec.n;
			r->hdr = xcalloc(r->width + 1, sizeof(*r->hdr));
			for (i = 0; i < rec.n; i++)
				r->hdr[i] = xstrndup(rec.fields[i], rec.lens[i]);
		} else {
			/* The first object is data too: parse it again. */
			r->pos = rec.raw - r->buf;
			r->line = 1;
		}
		if (r->width == 1 && !r->hdr[0][0])
			return err_set(e, -EINVAL, "'%s':1: the header line is "
				"empty", path);
		for (i = 0; i < r->width; i++)
			for (j = 0; j < i; j++)
				if (!strcmp(r->hdr[i], r->hdr[j]))
					return err_set(e, -EINVAL, "'%s':1: "
						"column '%s' appears twice in "
						"the header", path, r->hdr[i]);
		return 0;
	}
	if (r->fmt == REC_JSONL) {
		r->pos = rec.raw - r->buf;
		r->line = 1;
		return 0;
	}
	if (rec.n != r->width)
		goto differ;
	for (i = 0; i < rec.n; i++)
		if (strlen(r->hdr[i]) != rec.lens[i] ||
		    memcmp(r->hdr[i], rec.fields[i], rec.lens[i]))
			goto differ;
	return 0;
differ:
	return err_set(e, -EINVAL, "'%s':1: the header differs from the "
		"header of '%s'", path, r->paths[0]);
}

static void rp_start(struct rec_reader *r);
static void rp_stop(struct rec_reader *r);

int
rec_reader_open(struct rec_reader **out, const char *const *paths,
	size_t npaths, enum rec_format fmt, struct err *e)
{
	struct rec_reader *r;
	size_t i;
	int rc;

	*out = NULL;
	if (npaths == 0)
		return err_set(e, -EINVAL, "no input files");
	r = xcalloc(1, sizeof(*r));
	r->src.fd = -1;
	r->fmt = fmt;
	r->delim = fmt == REC_TSV ? '\t' : ',';
	r->quoting = fmt == REC_CSV;
	r->npaths = npaths;
	r->paths = xcalloc(npaths, sizeof(*r->paths));
	for (i = 0; i < npaths; i++)
		r->paths[i] = xstrdup(paths[i]);
	r->cap = BUF_MIN;
	r->buf = xmalloc(r->cap + 1);
	sb_init(&r->fb);
	rc = open_file(r, e);
	if (rc < 0) {
		rec_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void
rec_reader_prepare(struct rec_reader *r,
	void (*fn)(void *ctx, const struct record *rec, int64_t *out),
	void *ctx, size_t n)
{
	r->prep = fn;
	r->prep_ctx = ctx;
	r->nprep = fn ? n : 0;
	free(r->prep_out);
	r->prep_out = r->nprep ? xcalloc(r->nprep, sizeof(int64_t)) : NULL;
}

/* rec->prepared for a record just read, in the thread that read it. */
static void
prepare_record(struct rec_reader *r, struct record *rec)
{
	rec->prepared = NULL;
	if (!r->nprep || rec->reject)
		return;
	r->prep(r->prep_ctx, rec, r->prep_out);
	rec->prepared = r->prep_out;
}

size_t
rec_reader_width(const struct rec_reader *r)
{
	return r->width;
}

const char *const *
rec_reader_header(const struct rec_reader *r)
{
	return (const char *const *)r->hdr;
}

int
rec_reader_column(const struct rec_reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->width; i++)
		if (!strcmp(r->hdr[i], name))
			return (int)i;
	return -1;
}

static int
reader_next_sync(struct rec_reader *r, struct record *rec, struct err *e)
{
	int rc;

	for (;;) {
		rc = next_raw(r, rec, 0, e);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			if (r->fmt != REC_JSONL)
				check_record(r, rec);
			if (rec->reject && r->npaths > 1 &&
			    rec->reject != r->reason) {
				snprintf(r->reason, sizeof(r->reason), "%s",
					rec->reject);
				rec->reject = r->reason;
			}
			if (rec->reject && r->npaths > 1) {
				size_t l = strlen(r->reason);

				snprintf(r->reason + l, sizeof(r->reason) - l,
					" (in '%s')", r->paths[r->cur]);
			}
			prepare_record(r, rec);
			return 1;
		}
		if (r->cur + 1 >= r->npaths)
			return 0;
		r->done_bytes += r->src.shown;
		src_close(&r->src);
		r->cur++;
		rc = open_file(r, e);
		if (rc < 0)
			return rc;
	}
}

/*
 * The reader runs in its own thread (parsing, with inflate a third), and
 * hands the caller batches of records copied into one buffer: the parse
 * is a fifth of clean's work and the caller's thread is the busier one.
 * A record is serialised as its line, reason, raw bytes and fields; a
 * batch is released when the caller asks for the record after its last.
 */
#define RP_BATCHES 3
#define RP_BATCH_BYTES (1u << 20)

struct rbatch {
	struct strbuf data;
	size_t nrec;
	size_t pos;		/* the caller's read position */
	size_t taken;		/* records the caller has taken */
	uint64_t offset;	/* rec_reader_offset after the batch */
	int last;		/* no batch follows */
	int rc;			/* with last: 0 or the reader's error */
	struct err e;
};

struct rpipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rbatch b[RP_BATCHES];
	size_t head, tail, count;	/* ring of filled batches */
	int stop;
	int started;		/* the caller holds b[tail] */
	uint64_t offset;
	/* The caller's view of the current record. */
	char **fptrs;
	size_t *flens;
	size_t fcap;
};

struct rhdr {
	uint64_t line;
	size_t nf, raw_len, reject_len;	/* reject_len: SIZE_MAX for none */
	size_t nprepared;	/* int64 values after the fields */
};

static void
batch_add(struct rbatch *b, const struct record *rec, size_t nprep)
{
	struct rhdr h;
	size_t i;

	h.line = rec->line;
	h.nf = rec->n;
	h.raw_len = rec->raw_len;
	h.reject_len = rec->reject ? strlen(rec->reject) : SIZE_MAX;
	h.nprepared = 0;
	if (rec->prepared)
		h.nprepared = nprep;
	sb_add(&b->data, &h, sizeof(h));
	if (rec->reject)
		sb_add(&b->data, rec->reject, h.reject_len + 1);
	sb_add(&b->data, rec->raw, rec->raw_len);
	sb_add(&b->data, rec->lens, rec->n * sizeof(size_t));
	for (i = 0; i < rec->n; i++)
		sb_add(&b->data, rec->fields[i], rec->lens[i] + 1);
	/* Keep every header (and the values) aligned for the caller's reads. */
	while (b->data.len % sizeof(size_t))
		sb_addc(&b->data, 0);
	if (h.nprepared)
		sb_add(&b->data, rec->prepared, h.nprepared * sizeof(int64_t));
	b->nrec++;
}

static void *
rp_main(void *arg)
{
	struct rec_reader *r = arg;
	struct rpipe *rp = r->rp;

	for (;;) {
		struct rbatch *b;
		struct record rec;
		int rc = 1;

		pthread_mutex_lock(&rp->mu);
		while (rp->count == RP_BATCHES && !rp->stop)
			pthread_cond_wait(&rp->cv, &rp->mu);
		if (rp->stop) {
			pthread_mutex_unlock(&rp->mu);
			return NULL;
		}
		b = &rp->b[rp->head];
		pthread_mutex_unlock(&rp->mu);
		/* b is the producer's until count covers it. */
		sb_reset(&b->data);
		b->nrec = b->pos = b->taken = 0;
		b->last = 0;
		b->rc = 0;
		err_clear(&b->e);
		while (b->data.len < RP_BATCH_BYTES) {
			rc = reader_next_sync(r, &rec, &b->e);
			if (rc <= 0)
				break;
			batch_add(b, &rec, r->nprep);
		}
		if (rc <= 0) {
			b->last = 1;
			b->rc = rc;
		}
		b->offset = r->done_bytes + r->src.shown;
		pthread_mutex_lock(&rp->mu);
		rp->head = (rp->head + 1) % RP_BATCHES;
		rp->count++;
		pthread_cond_broadcast(&rp->cv);
		pthread_mutex_unlock(&rp->mu);
		if (rc <= 0)
			return NULL;
	}
}

static void
rp_start(struct rec_reader *r)
{
	struct rpipe *rp = xcalloc(1, sizeof(*rp));
	size_t i;

	for (i = 0; i < RP_BATCHES; i++)
		sb_init(&rp->b[i].data);
	pthread_mutex_init(&rp->mu, NULL);
	pthread_cond_init(&rp->cv, NULL);
	r->rp = rp;
	if (pthread_create(&rp->th, NULL, rp_main, r) != 0) {
		/* Parse in the caller's thread instead: slower, not wrong. */
		pthread_mutex_destroy(&rp->mu);
		pthread_cond_destroy(&rp->cv);
		free(rp);
		r->rp = NULL;
	}
}

static void
rp_stop(struct rec_reader *r)
{
	struct rpipe *rp = r->rp;
	size_t i;

	if (!rp)
		return;
	pthread_mutex_lock(&rp->mu);
	rp->stop = 1;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	pthread_join(rp->th, NULL);
	for (i = 0; i < RP_BATCHES; i++)
		sb_release(&rp->b[i].data);
	pthread_mutex_destroy(&rp->mu);
	pthread_cond_destroy(&rp->cv);
	free(rp->fptrs);
	free(rp->flens);
	free(rp);
	r->rp = NULL;
}

/* The next record from the parsing thread's batches. */
static int
rp_next(struct rec_reader *r, struct record *rec, struct err *e)
{
	struct rpipe *rp = r->rp;
	struct rbatch *b;
	struct rhdr h;
	const char *p;
	size_t i;

	for (;;) {
		/*
		 * started and tail are the caller's alone, and a batch is
		 * whole before count covers it: no lock while one lasts.
		 */
		if (rp->started) {
			b = &rp->b[rp->tail];
			if (b->taken < b->nrec)
				break;
		}
		pthread_mutex_lock(&rp->mu);
		if (rp->started) {
			b = &rp->b[rp->tail];
			if (b->last) {
				int rc = b->rc;

				pthread_mutex_unlock(&rp->mu);
				if (rc < 0 && e)
					*e = b->e;
				return rc;
			}
			/* Done with this batch: give it back. */
			rp->tail = (rp->tail + 1) % RP_BATCHES;
			rp->count--;
			rp->started = 0;
			pthread_cond_broadcast(&rp->cv);
		}
		while (rp->count == 0)
			pthread_cond_wait(&rp->cv, &rp->mu);
		rp->started = 1;
		rp->offset = rp->b[rp->tail].offset;
		pthread_mutex_unlock(&rp->mu);
	}
	p = b->data.buf + b->pos;
	memcpy(&h, p, sizeof(h));
	p += sizeof(h);
	rec->line = h.line;
	rec->n = h.nf;
	rec->reject = NULL;
	if (h.reject_len != SIZE_MAX) {
		rec->reject = p;
		p += h.reject_len + 1;
	}
	rec->raw = p;
	rec->raw_len = h.raw_len;
	p += h.raw_len;
	if (h.nf > rp->fcap) {
		rp->fcap = h.nf * 2;
		rp->fptrs = xrealloc(rp->fptrs, rp->fcap * sizeof(char *));
		rp->flens = xrealloc(rp->flens, rp->fcap * sizeof(size_t));
	}
	memcpy(rp->flens, p, h.nf * sizeof(size_t));
	p += h.nf * sizeof(size_t);
	for (i = 0; i < h.nf; i++) {
		rp->fptrs[i] = (char *)p;
		p += rp->flens[i] + 1;
	}
	rec->fields = rp->fptrs;
	rec->lens = rp->flens;
	while ((size_t)(p - b->data.buf) % sizeof(size_t))
		p++;
	rec->prepared = NULL;
	if (h.nprepared) {
		rec->prepared = (const int64_t *)(const void *)p;
		p += h.nprepared * sizeof(int64_t);
	}
	b->pos = (size_t)(p - b->data.buf);
	b->taken++;
	return 1;
}

int
rec_reader_next(struct rec_reader *r, struct record *rec, struct err *e)
{
	if (!r->rp_tried) {
		r->rp_tried = 1;
		rp_start(r);
	}
	return r->rp ? rp_next(r, rec, e) : reader_next_sync(r, rec, e);
}

uint64_t
rec_reader_offset(const struct rec_reader *r)
{
	return r->rp ? r->rp->offset : r->done_bytes + r->src.shown;
}

void
rec_reader_free(struct rec_reader *r)
{
	size_t i;

	if (!r)
		return;
	rp_stop(r);
	src_close(&r->src);
	for (i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->paths);
	if (r->hdr)
		for (i = 0; i < r->width; i++)
			free(r->hdr[i]);
	free(r->hdr);
	free(r->jkind);
	free(r->buf);
	sb_release(&r->fb);
	free(r->offs);
	free(r->flens);
	free(r->fptrs);
	free(r->prep_out);
	free(r);
}

/* ------------------------------------------------------------- writer */

/*
 * The writer hands each full buffer to a thread that deflates and writes
 * it while the caller fills the other one: write(2) and deflate are off
 * the parsing thread, with two buffers of memory.
 */
struct rec_writer {
	struct atomic_file af;
	int gz;
	z_stream zs;		/* the thread's once started */
	char *buf;		/* pending CSV text (the caller's) */
	size_t len;
	unsigned char *zbuf;	/* deflate output (the thread's) */
	int failed;		/* a write failed: commit must fail */
	int err;
	int threaded;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *spare;		/* the other buffer, when the thread is idle */
	char *job;		/* the buffer being written */
	size_t job_len;
	int job_finish, has_job, stop, trc;
};

/* Deflate (or not) and write one buffer; 0 or -errno. */
static int
flush_buf(struct rec_writer *w, const char *buf, size_t len, int finish)
{
	int rc;

	if (!w->gz)
		return write_full(w->af.fd, buf, len);
	w->zs.next_in = (unsigned char *)buf;
	w->zs.avail_in = (unsigned)len;
	do {
		w->zs.next_out = w->zbuf;
		w->zs.avail_out = OUT_BUF;
		if (deflate(&w->zs, finish ? Z_FINISH : Z_NO_FLUSH) ==
		    Z_STREAM_ERROR)
			return -EIO;
		rc = write_full(w->af.fd, w->zbuf, OUT_BUF - w->zs.avail_out);
		if (rc < 0)
			return rc;
	} while (w->zs.avail_out == 0 || (finish && w->zs.avail_in));
	return 0;
}

static void *
writer_main(void *arg)
{
	struct rec_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		char *buf;
		size_t len;
		int fin, rc;

		while (!w->has_job && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->has_job)
			break;
		buf = w->job;
		len = w->job_len;
		fin = w->job_finish;
		rc = w->trc;
		pthread_mutex_unlock(&w->mu);
		if (rc == 0)
			rc = flush_buf(w, buf, len, fin);
		pthread_mutex_lock(&w->mu);
		if (rc < 0)
			w->trc = rc;
		w->spare = buf;
		w->has_job = 0;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Pass the buffer on; with finish, wait until everything is written. */
static int
writer_drain(struct rec_writer *w, int finish)
{
	int rc;

	if (w->failed)
		return w->err;
	if (!w->threaded) {
		rc = flush_buf(w, w->buf, w->len, finish);
		w->len = 0;
		goto out;
	}
	pthread_mutex_lock(&w->mu);
	while (w->has_job)
		pthread_cond_wait(&w->cv, &w->mu);
	rc = w->trc;
	if (rc == 0) {
		w->job = w->buf;
		w->job_len = w->len;
		w->job_finish = finish;
		w->has_job = 1;
		w->buf = w->spare;
		w->spare = NULL;
		w->len = 0;
		pthread_cond_broadcast(&w->cv);
		while (finish && w->has_job)
			pthread_cond_wait(&w->cv, &w->mu);
		rc = w->trc;
	}
	pthread_mutex_unlock(&w->mu);
out:
	if (rc < 0) {
		w->failed = 1;
		w->err = rc;
	}
	return rc;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int
rec_writer_open(struct rec_writer **out, const char *path, struct err *e)
{
	struct rec_writer *w = xcalloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	rc = atomic_open(&w->af, path, e);
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->buf = xmalloc(OUT_BUF);
	if (ends_with(path, ".gz")) {
		/*
		 * Level 1: intermediate files are read once by the next task,
		 * and level 1 deflates several times faster than the default 6
		 * for output only a little larger.
		 */
		w->gz = 1;
		w->zbuf = xmalloc(OUT_BUF);
		if (deflateInit2(&w->zs, GZ_LEVEL, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
			rec_writer_abort(w);
			return err_set(e, -ENOMEM, "cannot start gzip for '%s'",
				path);
		}
	}
	w->spare = xmalloc(OUT_BUF);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* Without a thread the caller writes itself: slower, not wrong. */
	w->threaded = pthread_create(&w->th, NULL, writer_main, w) == 0;
	*out = w;
	return 0;
}

static int
put_slow(struct rec_writer *w, const char *p, size_t n)
{
	int rc;

	while (n > OUT_BUF - w->len) {
		size_t room = OUT_BUF - w->len;

		memcpy(w->buf + w->len, p, room);
		w->len += room;
		p += room;
		n -= room;
		rc = writer_drain(w, 0);
		if (rc < 0)
			return rc;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

static inline int
put(struct rec_writer *w, const char *p, size_t n)
{
	if (n > OUT_BUF - w->len)
		return put_slow(w, p, n);
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}


/*
 * Does the field need quotes (a comma, quote, CR or LF)?  Eight bytes at
 * a time: this runs on every field written.
 */
static int
needs_quotes(const char *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (HAS_ZERO(w ^ (ONES * ',')) | HAS_ZERO(w ^ (ONES * '"')) |
		    HAS_ZERO(w ^ (ONES * '\n')) | HAS_ZERO(w ^ (ONES * '\r')))
			return 1;
	}
	for (; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			return 1;
	return 0;
}

static int
put_field(struct rec_writer *w, const char *p, size_t n)
{
	size_t i;
	char *d;
	int rc;

	if (!needs_quotes(p, n))
		return put(w, p, n);
	if (2 * n + 2 > OUT_BUF - w->len) {
		rc = writer_drain(w, 0);
		if (rc < 0)
			return rc;
	}
	if (2 * n + 2 > OUT_BUF - w->len) {
		/* Longer than the buffer: piece by piece. */
		rc = put(w, "\"", 1);
		while (rc == 0) {
			const char *q = memchr(p, '"', n);

			if (!q) {
				rc = put(w, p, n);
				break;
			}
			rc = put(w, p, q - p + 1);
			if (rc == 0)
				rc = put(w, "\"", 1);
			n -= q - p + 1;
			p = q + 1;
		}
		return rc ? rc : put(w, "\"", 1);
	}
	/* Fits even if every byte is a quote: double them in one pass. */
	d = w->buf + w->len;
	*d++ = '"';
	for (i = 0; i < n; i++) {
		*d++ = p[i];
		if (p[i] == '"')
			*d++ = '"';
	}
	*d++ = '"';
	w->len = (size_t)(d - w->buf);
	return 0;
}

int
rec_writer_row(struct rec_writer *w, size_t n, char *const *fields,
	const size_t *lens)
{
	size_t i;
	int rc = 0;

	if (w->failed)
		return w->err;
	for (i = 0; i < n && rc == 0; i++) {
		if (i)
			rc = put(w, ",", 1);
		if (rc == 0)
			rc = put_field(w, fields[i], lens[i]);
	}
	if (rc == 0)
		rc = put(w, "\n", 1);
	return rc;
}

int
rec_writer_strings(struct rec_writer *w, size_t n, const char *const *fields)
{
	size_t i;
	int rc = 0;

	if (w->failed)
		return w->err;
	for (i = 0; i < n && rc == 0; i++) {
		if (i)
			rc = put(w, ",", 1);
		if (rc == 0)
			rc = put_field(w, fields[i], strlen(fields[i]));
	}
	if (rc == 0)
		rc = put(w, "\n", 1);
	return rc;
}

static void
writer_free(struct rec_writer *w)
{
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL);
	}
	if (w->spare) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	if (w->gz)
		deflateEnd(&w->zs);
	free(w->buf);
	free(w->spare);
	free(w->zbuf);
	free(w);
}

int
rec_writer_commit(struct rec_writer *w, struct err *e)
{
	char *path = xstrdup(w->af.path);
	int rc = writer_drain(w, 1);

	if (rc < 0) {
		err_set(e, rc, "cannot write '%s': %s", path, strerror(-rc));
		atomic_abort(&w->af);
	} else {
		rc = atomic_commit(&w->af, e);
	}
	writer_free(w);
	free(path);
	return rc;
}

void
rec_writer_abort(struct rec_writer *w)
{
	if (!w)
		return;
	atomic_abort(&w->af);
	writer_free(w);
}

/* ------------------------------------------------------------ rejects */

struct rejects {
	struct rec_writer *w;
	uint64_t count;
};

int
rejects_open(struct rejects **out, const char *path, struct err *e)
{
	static const char *const hdr[] = { "line", "reason", "record" };
	struct rejects *rj = xcalloc(1, sizeof(*rj));
	int rc;

	*out = NULL;
	rc = rec_writer_open(&rj->w, path, e);
	if (rc < 0) {
		free(rj);
		return rc;
	}
	rc = rec_writer_strings(rj->w, 3, hdr);
	if (rc < 0) {
		rejects_abort(rj);
		return err_set(e, rc, "cannot write '%s': %s", path,
			strerror(-rc));
	}
	*out = rj;
	return 0;
}

int
rejects_add(struct rejects *rj, uint64_t line, const char *reason,
	const char *raw, size_t raw_len)
{
	char num[24];
	char *f[3];
	size_t l[3];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)line);
	f[0] = num;
	l[0] = strlen(num);
	f[1] = (char *)reason;
	l[1] = strlen(reason);
	f[2] = (char *)raw;
	l[2] = raw_len;
	rj->count++;
	return rec_writer_row(rj->w, 3, f, l);
}

int
rejects_record(struct rejects *rj, const struct record *rec, const char *why,
	const char *task, struct err *e)
{
	int rc = rejects_add(rj, rec->line, why ? why : rec->reject, rec->raw,
		rec->raw_len);

	if (rc < 0)
		return err_set(e, rc, "task '%s': cannot write the rejects: %s",
			task, strerror(-rc));
	return 0;
}

int
rejects_commit(struct rejects *rj, struct err *e)
{
	int rc = rec_writer_commit(rj->w, e);

	free(rj);
	return rc;
}

void
rejects_abort(struct rejects *rj)
{
	if (!rj)
		return;
	rec_writer_abort(rj->w);
	free(rj);
}

uint64_t
rejects_count(const struct rejects *rj)
{
	return rj->count;
}
