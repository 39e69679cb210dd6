/*
 * Streaming record input and output for the data task kinds.
 *
 * The reader turns CSV (RFC 4180), TSV or JSON lines, plain or gzip
 * (detected by magic bytes), into records of fields in the header's
 * order.  It never drops a record: a malformed one comes back with
 * reject set to the reason, its starting physical line and its raw bytes,
 * so the caller can write it to the rejects file.  Memory is bounded by the
 * longest record, not the input.
 */
#ifndef DAG_CSV_H
#define DAG_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "util.h"

enum rec_format {
	REC_CSV,
	REC_TSV,
	REC_JSONL,
};

/* "csv", "tsv", "jsonl" to a format; 0 or -EINVAL. */
int rec_format_parse(const char *name, enum rec_format *out);

struct rec_reader;

/* One record; valid until the next call to rec_reader_next. */
struct record {
	size_t n;		/* fields (== header width unless rejected) */
	char **fields;		/* NUL-terminated values (may hold NUL only if len says so) */
	size_t *lens;		/* byte length of each field */
	uint64_t line;		/* physical line where the record starts (header is 1) */
	const char *raw;	/* the record's bytes as read, without the line end */
	size_t raw_len;
	const char *reject;	/* NULL, or why the record is malformed */
	const int64_t *prepared; /* rec_reader_prepare's values, or NULL */
};

/*
 * Open paths (read in order as one stream; each file's header must equal
 * the first's) in format fmt.  Reads the header.  An empty input is an
 * error; a header-only input is not.  Returns 0 or -errno with e filled.
 */
int rec_reader_open(struct rec_reader **out, const char *const *paths,
	size_t npaths, enum rec_format fmt, struct err *e);
/* The header: column names and their count (borrowed). */
size_t rec_reader_width(const struct rec_reader *r);
const char *const *rec_reader_header(const struct rec_reader *r);
/* Index of column name, or -1. */
int rec_reader_column(const struct rec_reader *r, const char *name);
/*
 * Read the next record into *rec.  Returns 1 for a record (check
 * rec->reject), 0 at the end, or -errno on an I/O or gzip error (a
 * truncated gzip stream is an error) with e filled.
 */
int rec_reader_next(struct rec_reader *r, struct record *rec, struct err *e);
/*
 * Have fn compute n integers for each well-formed record, in the parsing
 * thread, ahead of the caller: rec->prepared holds them.  fn must only
 * read what the caller no longer changes.  Call before the first
 * rec_reader_next.
 */
void rec_reader_prepare(struct rec_reader *r,
	void (*fn)(void *ctx, const struct record *rec, int64_t *out),
	void *ctx, size_t n);
/* Bytes of input consumed so far (compressed), for progress. */
uint64_t rec_reader_offset(const struct rec_reader *r);
/*
 * Blank lines skipped so far (an empty line after a file's header is no
 * record); final once rec_reader_next has returned 0.
 */
uint64_t rec_reader_blank_lines(const struct rec_reader *r);
/* Say on log (NULL: nowhere) how many blank lines task's input skipped. */
void rec_reader_log_blank(const struct rec_reader *r, FILE *log,
	const char *task);
void rec_reader_free(struct rec_reader *r);

struct rec_writer;

/*
 * Write CSV to a temporary file beside path (gzip when path ends in .gz),
 * published by rec_writer_commit.  Returns 0 or -errno with e filled.
 */
int rec_writer_open(struct rec_writer **out, const char *path, struct err *e);
/* Write one record, quoting fields as RFC 4180 requires; 0 or -errno. */
int rec_writer_row(struct rec_writer *w, size_t n, char *const *fields,
	const size_t *lens);
/* The same for NUL-terminated strings. */
int rec_writer_strings(struct rec_writer *w, size_t n, const char *const *fields);
/* Flush, fsync and rename into place; frees w either way. */
int rec_writer_commit(struct rec_writer *w, struct err *e);
/* Remove the temporary file; frees w (accepts NULL). */
void rec_writer_abort(struct rec_writer *w);

/*
 * The rejects file: a CSV with the header line,reason,record.  It is
 * written even when empty or when the task fails, so the user sees why;
 * renamed into place whole, without fsync (a report, not a target).
 */
struct rejects;
int rejects_open(struct rejects **out, const char *path, struct err *e);
int rejects_add(struct rejects *rj, uint64_t line, const char *reason,
	const char *raw, size_t raw_len);
/*
 * Set rec aside: why, or rec's own reason when why is NULL.  On a write
 * error fills e naming task.  Returns 0 or -errno.
 */
int rejects_record(struct rejects *rj, const struct record *rec,
	const char *why, const char *task, struct err *e);
int rejects_commit(struct rejects *rj, struct err *e);
void rejects_abort(struct rejects *rj);
uint64_t rejects_count(const struct rejects *rj);

#endif
