/*
 * Small shared helpers: allocation wrappers that abort on exhaustion, the
 * error record every fallible function fills, a growable string buffer and
 * a growable array.  Nothing here knows about DAGs.
 */
#ifndef DAG_UTIL_H
#define DAG_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation wrappers: they never return NULL; out of memory aborts. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* align: a power of two, a multiple of sizeof(void *); free() releases it. */
void *xmalloc_aligned(size_t align, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * What went wrong, for the user.  code is a negative errno; file, line and
 * column (1-based; 0 when unknown) locate the error in a DAG file.
 */
struct err {
	int code;
	char msg[1024];
	char file[512];
	int line;
	int column;
};

/* Clear e (accepts NULL). */
void err_clear(struct err *e);
/*
 * Fill e (which may be NULL) with code and a formatted message and return
 * code, so a caller can write "return err_set(e, -EINVAL, ...)".
 */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with a position in file (borrowed, copied). */
int err_set_at(struct err *e, int code, const char *file, int line, int column,
	const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Print "file:line:col: msg" (or just "msg") and a newline to fp. */
void err_print(const struct err *e, FILE *fp);

/*
 * A list of errors, for loaders that report every problem in a file rather
 * than the first (capped at ERRS_MAX; further ones are counted in dropped).
 */
#define ERRS_MAX 100
struct errs {
	struct err *v;
	size_t n, cap;
	size_t dropped;
};

/* Append a copy of e. */
void errs_add(struct errs *l, const struct err *e);
/* Append a positioned error. */
void errs_addf(struct errs *l, int code, const char *file, int line,
	int column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Print each error, sorted by line and column, then the dropped count. */
void errs_print(const struct errs *l, FILE *fp);
void errs_release(struct errs *l);

/* A growable NUL-terminated byte string. */
struct strbuf {
	char *buf;	/* always NUL-terminated once anything was added */
	size_t len;	/* bytes, without the NUL */
	size_t cap;
};

void sb_init(struct strbuf *sb);
void sb_release(struct strbuf *sb);
void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *data, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void sb_reset(struct strbuf *sb);
/* Hand the buffer to the caller (never NULL) and reset sb. */
char *sb_detach(struct strbuf *sb);

/*
 * All of fp, or of the file at path, NUL-terminated; *len (when len is not
 * NULL) its length without the NUL.  NULL when it cannot be opened or
 * read (errno says why).
 */
char *read_stream(FILE *fp, size_t *len);
char *read_path(const char *path, size_t *len);

/*
 * Growable array of T: declare "struct { T *v; size_t n, cap; } a = {0};"
 * and push with VEC_PUSH(a, value).
 */
#define VEC_GROW(a, want) do { \
	if ((want) > (a).cap) { \
		size_t nc_ = (a).cap ? (a).cap * 2 : 8; \
		while (nc_ < (want)) nc_ *= 2; \
		(a).v = xrealloc((a).v, nc_ * sizeof(*(a).v)); \
		(a).cap = nc_; \
	} \
} while (0)
#define VEC_PUSH(a, x) do { VEC_GROW(a, (a).n + 1); (a).v[(a).n++] = (x); } while (0)

/* Milliseconds since the epoch (wall clock: comparable across processes). */
int64_t wall_ms(void);
/* Milliseconds on the monotonic clock. */
int64_t clock_ms(void);
/*
 * Unix time t (seconds) in UTC as "2026-01-01T00:59:57Z" into buf (n
 * bytes; 21 hold it).
 */
void utc_stamp(int64_t t, char *buf, size_t n);

/*
 * Parse a duration "30s", "5m", "1h", "2d", "250ms" or a bare number of
 * seconds into milliseconds.  Returns 0, or -EINVAL.
 */
int duration_parse(const char *s, int64_t *ms);

/*
 * Parse a size "100", "10k", "5M", "1.5G", "2T" (powers of 1024, an
 * optional trailing B) into bytes.  Returns 0, or -EINVAL.
 */
int size_parse(const char *s, uint64_t *bytes);

/* Edit distance, for "did you mean" suggestions. */
int edit_distance(const char *a, const char *b);
/*
 * The candidate nearest to name, when near enough to be a typo (at most a
 * third of its length away); or NULL.  Returns one of cand (borrowed).
 */
const char *str_nearest(const char *name, const char *const *cand, size_t n);

/*
 * path made absolute against the working directory (unchanged when it
 * already is, or when the directory cannot be read): what a message about
 * a missing file shows, since a relative path depends on where dag-cli ran.
 * Caller frees.
 */
char *path_abs(const char *path);

/* Create every missing directory of path (like mkdir -p); 0 or -errno. */
int mkdir_p(const char *path, int mode);
/* Create the directories leading to file path (not the last part). */
int mkdir_parent(const char *path);
/* fsync the directory holding path; 0 or -errno. */
int fsync_parent(const char *path);
/* Write all n bytes (retrying short writes and EINTR); 0 or -errno. */
int write_full(int fd, const void *p, size_t n);
/* Write a then b, in one system call when the kernel takes both; 0 or -errno. */
int write2_full(int fd, const void *a, size_t alen, const void *b, size_t blen);

/*
 * The process environment's lock.  glibc's getenv is safe only while no
 * thread changes the environment: code that changes it (range.c switches
 * TZ) holds the lock exclusively (env_lock(1)), a thread that may read
 * it while the main thread goes on (a run's git provenance) holds it
 * shared (env_lock(0)).  The main thread alone needs no lock to read.
 */
void env_lock(int exclusive);
void env_unlock(void);

#endif
