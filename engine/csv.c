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
 * This file is the reader: files in turn, the header, each record's
 * checks, and a second thread that parses ahead in batches.  The bytes
 * come from csv_source.c, the parsers are csv_parse.c, the writer and the
 * rejects files csv_write.c.
 */
#include "config.h"
#include "csv.h"
#include "csv_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

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

/* ------------------------------------------------------------- reader */

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
	if (r->fmt != REC_JSONL && memchr(rec.raw, '\r', rec.raw_len))
		return err_set(e, -EINVAL, "'%s':1: the header line holds a "
			"carriage return: are its lines ended by CR alone? "
			"convert them to LF or CRLF", path);
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
#define RP_BATCH_BYTES (256u << 10)	/* not more: first-touch page faults */
#define RP_FIRST (32u << 10)	/* the first batch; each next twice as large */

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
	struct bqueue q;	/* of b[] */
	struct rbatch b[RP_BATCHES];
	long held;		/* the batch the caller reads, or -1 */
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
	size_t i, flen = 0, need;
	char *d;
	int joined = 1;

	h.line = rec->line;
	h.nf = rec->n;
	h.raw_len = rec->raw_len;
	h.reject_len = rec->reject ? strlen(rec->reject) : SIZE_MAX;
	h.nprepared = 0;
	if (rec->prepared)
		h.nprepared = nprep;
	/*
	 * The parser stores a record's fields one after another, each
	 * NUL-ended: copied in one piece when they are so.
	 */
	for (i = 0; i < rec->n; i++) {
		if (i && rec->fields[i] != rec->fields[i - 1] +
		    rec->lens[i - 1] + 1)
			joined = 0;
		flen += rec->lens[i] + 1;
	}
	/* One growth check: the header, reason, raw bytes, fields, padding. */
	need = sizeof(h) + (rec->reject ? h.reject_len + 1 : 0) +
		rec->raw_len + rec->n * sizeof(size_t) + flen +
		sizeof(size_t) + h.nprepared * sizeof(int64_t);
	sb_grow(&b->data, need);
	d = b->data.buf + b->data.len;
	memcpy(d, &h, sizeof(h));
	d += sizeof(h);
	if (rec->reject) {
		memcpy(d, rec->reject, h.reject_len + 1);
		d += h.reject_len + 1;
	}
	memcpy(d, rec->raw, rec->raw_len);
	d += rec->raw_len;
	if (rec->n) {
		memcpy(d, rec->lens, rec->n * sizeof(size_t));
		d += rec->n * sizeof(size_t);
	}
	if (joined && rec->n) {
		memcpy(d, rec->fields[0], flen);
		d += flen;
	} else {
		for (i = 0; i < rec->n; i++) {
			memcpy(d, rec->fields[i], rec->lens[i]);
			d += rec->lens[i];
			*d++ = 0;
		}
	}
	/* Keep every header (and the values) aligned for the caller's reads. */
	while ((size_t)(d - b->data.buf) % sizeof(size_t))
		*d++ = 0;
	if (h.nprepared) {
		memcpy(d, rec->prepared, h.nprepared * sizeof(int64_t));
		d += h.nprepared * sizeof(int64_t);
	}
	b->data.len = (size_t)(d - b->data.buf);
	b->data.buf[b->data.len] = 0;
	b->nrec++;
}

static void *
rp_main(void *arg)
{
	struct rec_reader *r = arg;
	struct rpipe *rp = r->rp;
	size_t limit = RP_FIRST;
	long i;

	/* Small batches first: the caller starts on the first records. */
	while ((i = bq_wait_free(&rp->q)) >= 0) {
		struct rbatch *b = &rp->b[i];
		struct record rec;
		int rc = 1;

		sb_reset(&b->data);
		b->nrec = b->pos = b->taken = 0;
		b->last = 0;
		b->rc = 0;
		err_clear(&b->e);
		while (b->data.len < limit) {
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
		bq_publish(&rp->q);
		if (limit < RP_BATCH_BYTES)
			limit *= 2;
		if (rc <= 0)
			break;
	}
	return NULL;
}

static void
rp_start(struct rec_reader *r)
{
	struct rpipe *rp = xcalloc(1, sizeof(*rp));
	size_t i;

	for (i = 0; i < RP_BATCHES; i++)
		sb_init(&rp->b[i].data);
	bq_init(&rp->q, RP_BATCHES);
	rp->held = -1;
	r->rp = rp;
	if (pthread_create(&rp->th, NULL, rp_main, r) != 0) {
		/* Parse in the caller's thread instead: slower, not wrong. */
		bq_destroy(&rp->q);
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
	bq_stop(&rp->q);
	pthread_join(rp->th, NULL);
	for (i = 0; i < RP_BATCHES; i++)
		sb_release(&rp->b[i].data);
	bq_destroy(&rp->q);
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
		/* A held batch is whole and ours: no lock while one lasts. */
		if (rp->held >= 0) {
			b = &rp->b[rp->held];
			if (b->taken < b->nrec)
				break;
			if (b->last) {
				if (b->rc < 0 && e)
					*e = b->e;
				return b->rc;
			}
			/* Done with this batch: give it back. */
			rp->held = -1;
			bq_release(&rp->q);
		}
		/* The producer ends on a last batch, so this never gets -1. */
		rp->held = bq_wait_full(&rp->q);
		if (rp->held < 0)
			return 0;
		rp->offset = rp->b[rp->held].offset;
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
	/* A record of no fields (JSON lines of {}) has no array to fill. */
	if (h.nf)
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
		long got = 0;

		r->rp_tried = 1;
		/*
		 * A small last (or only) input is all in the buffer once a read
		 * finds its end: it is parsed in this thread, as a parsing
		 * thread would cost more than the parse (a worker runs such
		 * loads by the thousand).
		 */
		if (r->cur + 1 >= r->npaths && r->end - r->pos < RP_BATCH_BYTES)
			got = reader_fill(r, e);
		if (got < 0)
			return (int)got;
		if (!r->eof || r->cur + 1 < r->npaths)
			rp_start(r);
	}
	return r->rp ? rp_next(r, rec, e) : reader_next_sync(r, rec, e);
}

uint64_t
rec_reader_blank_lines(const struct rec_reader *r)
{
	return r->blank;
}

void
rec_reader_log_blank(const struct rec_reader *r, FILE *log, const char *task)
{
	if (log && r->blank)
		fprintf(log, "task '%s': skipped %llu blank line%s\n", task,
			(unsigned long long)r->blank, r->blank == 1 ? "" : "s");
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

