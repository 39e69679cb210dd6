/*
 * The record reader's and writer's own header, shared by engine/csv.c
 * (the reader and its parsing thread), csv_source.c (files, plain or
 * gzip, inflated in a second thread), csv_parse.c (CSV, TSV and JSON
 * lines into records) and csv_write.c (the writer and rejects files);
 * never included elsewhere.
 */
#ifndef DAG_CSV_PRIV_H
#define DAG_CSV_PRIV_H

#include <stdint.h>
#include <zlib.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "csv.h"
#include "util.h"

/*
 * Buffers are no larger than keeps each thread busy: every page is a page
 * fault the first time it is written (csv_source.c).
 */
#define READ_CHUNK (256u << 10)		/* compressed bytes per read() */
#define BUF_MIN (512u << 10)		/* decompressed buffer, grows by doubling */
#define REC_MAX ((size_t)64 << 20)	/* one physical line may not exceed this */
#define OUT_BUF (1u << 18)		/* writer buffer before write()/deflate */
#define GZ_LEVEL 1
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Nonzero when some byte of w is zero. */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGHS)

/* One input file, plain or gzip. */
struct src {
	int fd;
	const char *path;
	int gz;			/* a gzip stream (by magic bytes) */
	int zinit;		/* zs initialised */
	int zend;		/* the current gzip member ended */
	z_stream zs;
#ifdef HAVE_ISAL
	struct inflate_state *is;	/* ISA-L's inflate, used instead of zs */
#endif
	unsigned char *zin;	/* compressed bytes read, not yet inflated */
	int feof;		/* read() returned 0 */
	uint64_t consumed;	/* bytes read from the file (reader thread) */
	uint64_t shown;		/* consumed as of the block last taken */
	struct zpipe *zp;	/* gzip: inflating in a second thread */
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
	uint64_t blank;		/* blank lines skipped, every file */
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

/* csv_source.c */
/* Open path as s (plain or gzip, told by src_detect); 0 or -errno. */
int src_open(struct src *s, const char *path, struct err *e);
void src_close(struct src *s);
/* Peek at the first bytes to tell gzip from plain text; 0 or -errno. */
int src_detect(struct src *s, struct rec_reader *r, struct err *e);
/*
 * Make room and read more into r->buf, keeping buf[pos..end).  Returns
 * bytes added, 0 at the end of the file (sets eof), or -errno.
 */
long reader_fill(struct rec_reader *r, struct err *e);

/* csv_parse.c */
/*
 * 0 when p[0..n) is valid UTF-8 without NUL, 1 for a NUL byte, 2 for
 * invalid UTF-8 (overlong forms, surrogates and code points past
 * U+10FFFF included).
 */
int text_check(const unsigned char *p, size_t n);
/*
 * Parse the next record of the current file into rec, refilling as
 * needed (header: the JSON lines header record): 1, 0 at the end of the
 * file, or -errno.
 */
int next_raw(struct rec_reader *r, struct record *rec, int header,
	struct err *e);
/* Check a parsed CSV/TSV record's text and width; sets rec->reject. */
void check_record(struct rec_reader *r, struct record *rec);

#endif
