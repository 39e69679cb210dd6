/*
 * Writing records: RFC 4180 CSV, quoted only where a field needs it,
 * buffered and handed to a second thread that deflates (paths ending in
 * .gz) and writes while the caller fills the other buffer; published by
 * rename through engine/atomic.  The rejects file is a writer too.
 */
#include "config.h"
#include "csv.h"
#include "csv_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "queue.h"

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
	int report;		/* a rejects file: no thread, no fsync */
	int lazy;		/* the thread starts when a first buffer is full */
	pthread_t th;
	struct bqueue q;	/* of bufs[]; buf is bufs[cur] */
	char *bufs[2];
	size_t lens[2];
	int finish[2];		/* the last buffer: end the gzip stream */
	long cur;
	uint64_t written;	/* bytes written to the file (the thread's) */
	uint64_t started;	/* of them, handed to write-back */
};

/*
 * Start write-back of every WB_CHUNK written, without waiting for it: the
 * disk works while the task still runs, and commit's fsync waits only for
 * the tail (at 1M rows of clean, 0.2 s less).  The fsync stays the only
 * durability point and reports any error.
 */
#define WB_CHUNK (8u << 20)

static int
file_write(struct rec_writer *w, const void *buf, size_t len)
{
	int rc = write_full(w->af.fd, buf, len);

	if (rc < 0)
		return rc;
	w->written += len;
#ifdef SYNC_FILE_RANGE_WRITE
	if (w->written - w->started >= WB_CHUNK) {
		(void)sync_file_range(w->af.fd, (off_t)w->started,
			(off_t)(w->written - w->started),
			SYNC_FILE_RANGE_WRITE);
		w->started = w->written;
	}
#endif
	return 0;
}

/* Deflate (or not) and write one buffer; 0 or -errno. */
static int
flush_buf(struct rec_writer *w, const char *buf, size_t len, int finish)
{
	int rc;

	if (!w->gz)
		return file_write(w, buf, len);
	w->zs.next_in = (unsigned char *)buf;
	w->zs.avail_in = (unsigned)len;
	do {
		w->zs.next_out = w->zbuf;
		w->zs.avail_out = OUT_BUF;
		if (deflate(&w->zs, finish ? Z_FINISH : Z_NO_FLUSH) ==
		    Z_STREAM_ERROR)
			return -EIO;
		rc = file_write(w, w->zbuf, OUT_BUF - w->zs.avail_out);
		if (rc < 0)
			return rc;
	} while (w->zs.avail_out == 0 || (finish && w->zs.avail_in));
	return 0;
}

static void *
writer_main(void *arg)
{
	struct rec_writer *w = arg;
	long i;

	while ((i = bq_wait_full(&w->q)) >= 0) {
		/* After a failure the rest is dropped: commit fails anyway. */
		if (!bq_error(&w->q)) {
			int rc = flush_buf(w, w->bufs[i], w->lens[i],
				w->finish[i]);

			if (rc < 0)
				bq_fail(&w->q, rc);
		}
		bq_release(&w->q);
	}
	return NULL;
}

static void writer_start(struct rec_writer *w);

/* Pass the buffer on; with finish, wait until everything is written. */
static int
writer_drain(struct rec_writer *w, int finish)
{
	int rc;

	if (w->failed)
		return w->err;
	if (w->lazy && !finish)
		writer_start(w);
	if (!w->threaded) {
		rc = flush_buf(w, w->buf, w->len, finish);
		w->len = 0;
		goto out;
	}
	rc = bq_error(&w->q);
	if (rc == 0) {
		w->lens[w->cur] = w->len;
		w->finish[w->cur] = finish;
		bq_publish(&w->q);
		w->len = 0;
		if (finish) {
			bq_wait_empty(&w->q);
			rc = bq_error(&w->q);
		} else {
			/* The other buffer, once the thread wrote it. */
			w->cur = bq_wait_free(&w->q);
			w->buf = w->bufs[w->cur];
		}
	}
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

static int
writer_open(struct rec_writer **out, const char *path, int report,
	struct err *e)
{
	struct rec_writer *w = xcalloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	w->report = report;
	rc = atomic_open(&w->af, path, e);
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->bufs[0] = w->buf = xmalloc(OUT_BUF);
	w->bufs[1] = xmalloc(OUT_BUF);
	bq_init(&w->q, 2);
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
	/*
	 * The thread starts with the second buffer: an output that fits in
	 * one is written by the caller at commit, as a thread would cost
	 * more than the write (a worker runs such tasks by the thousand).
	 */
	w->lazy = !report;
	*out = w;
	return 0;
}

/* Start the writing thread; without one the caller writes: slower, not wrong. */
static void
writer_start(struct rec_writer *w)
{
	w->lazy = 0;
	w->threaded = pthread_create(&w->th, NULL, writer_main, w) == 0;
	if (w->threaded)
		w->cur = bq_wait_free(&w->q);	/* 0: the queue is empty */
}

int
rec_writer_open(struct rec_writer **out, const char *path, struct err *e)
{
	return writer_open(out, path, 0, e);
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
	const char *q;
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
			q = memchr(p, '"', n);
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
	/*
	 * Fits even if every byte is a quote: copy the runs between quotes
	 * whole, doubling each quote (JSON text is full of them).
	 */
	d = w->buf + w->len;
	*d++ = '"';
	while ((q = memchr(p, '"', n)) != NULL) {
		i = (size_t)(q - p) + 1;
		memcpy(d, p, i);
		d += i;
		*d++ = '"';
		p += i;
		n -= i;
	}
	memcpy(d, p, n);
	d += n;
	*d++ = '"';
	w->len = (size_t)(d - w->buf);
	return 0;
}

/* One row of n fields; lens NULL: the fields are NUL-terminated. */
static inline int
put_row(struct rec_writer *w, size_t n, const char *const *fields,
	const size_t *lens)
{
	size_t i;
	int rc = 0;

	if (w->failed)
		return w->err;
	/*
	 * One empty field would be an empty line, which readers (ours
	 * included) skip as blank: quote it.
	 */
	if (n == 1 && !(lens ? lens[0] : strlen(fields[0])))
		return put(w, "\"\"\n", 3);
	for (i = 0; i < n && rc == 0; i++) {
		if (i)
			rc = put(w, ",", 1);
		if (rc == 0)
			rc = put_field(w, fields[i],
				lens ? lens[i] : strlen(fields[i]));
	}
	if (rc == 0)
		rc = put(w, "\n", 1);
	return rc;
}

int
rec_writer_row(struct rec_writer *w, size_t n, char *const *fields,
	const size_t *lens)
{
	return put_row(w, n, (const char *const *)fields, lens);
}

int
rec_writer_strings(struct rec_writer *w, size_t n, const char *const *fields)
{
	return put_row(w, n, fields, NULL);
}

static void
writer_free(struct rec_writer *w)
{
	if (w->threaded) {
		bq_close(&w->q);
		pthread_join(w->th, NULL);
	}
	bq_destroy(&w->q);
	if (w->gz)
		deflateEnd(&w->zs);
	free(w->bufs[0]);
	free(w->bufs[1]);
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
		rc = w->report ? atomic_commit_nosync(&w->af, e)
			: atomic_commit(&w->af, e);
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
	/*
	 * A report: rejects are few, so the caller writes them itself (no
	 * thread per file), and the file is renamed into place without
	 * fsync (docs/DESIGN.md, "Rejects files").
	 */
	rc = writer_open(&rj->w, path, 1, e);
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
