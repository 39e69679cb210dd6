/*
 * Shared plumbing of the warehouse task kinds.  Every load runs in one
 * write transaction taken with BEGIN IMMEDIATE, so a second writer waits
 * for the lock at the start (busy timeout) instead of failing halfway,
 * and the marker row of the table target is written in that same
 * transaction: a crash leaves either the data and its marker or neither.
 * Databases are put in WAL mode with synchronous=NORMAL, which keeps a
 * commit durable against a process crash and costs one fsync per
 * checkpoint rather than per transaction.
 */
#include "config.h"
#include "warehouse.h"
#include "sqlite_wal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv.h"
#include "target.h"
#include "task_kind.h"

static const char *const type_names[] = {
	[WH_TEXT] = "text",
	[WH_INTEGER] = "integer",
	[WH_REAL] = "real",
	[WH_DATE] = "date",
	[WH_TIMESTAMP] = "timestamp",
};

static const char *const type_sql[] = {
	[WH_TEXT] = "TEXT",
	[WH_INTEGER] = "INTEGER",
	[WH_REAL] = "REAL",
	[WH_DATE] = "DATE",
	[WH_TIMESTAMP] = "TIMESTAMP",
};

int
wh_type_parse(const char *name, enum wh_type *out)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(type_names); i++)
		if (name && !strcmp(name, type_names[i])) {
			*out = (enum wh_type)i;
			return 0;
		}
	return -EINVAL;
}

const char *
wh_type_sql(enum wh_type t)
{
	return type_sql[t];
}

const char *
wh_type_name(enum wh_type t)
{
	return type_names[t];
}

static int
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* YYYY-MM-DD, a real calendar day. */
static int
date_ok(const char *s, size_t len)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, m, d, leap;

	if (len < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		return 0;
	y = num(s, 4);
	m = num(s + 5, 2);
	d = num(s + 8, 2);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

/* The part after the date: [T ]HH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM|+HHMM]. */
static int
time_ok(const char *s, size_t len)
{
	size_t i = 0;

	if (len < 6 || (s[0] != 'T' && s[0] != ' '))
		return 0;
	s++, len--;
	if (!digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) ||
	    num(s, 2) > 23 || num(s + 3, 2) > 59)
		return 0;
	i = 5;
	if (i < len && s[i] == ':') {
		if (i + 3 > len || !digits(s + i + 1, 2) || num(s + i + 1, 2) > 60)
			return 0;
		i += 3;
		if (i < len && s[i] == '.') {
			size_t j = ++i;

			while (i < len && isdigit((unsigned char)s[i]))
				i++;
			if (i == j)
				return 0;
		}
	}
	if (i == len)
		return 1;
	if (s[i] == 'Z')
		return i + 1 == len;
	if (s[i] != '+' && s[i] != '-')
		return 0;
	i++;
	if (len - i == 5 && digits(s + i, 2) && s[i + 2] == ':' &&
	    digits(s + i + 3, 2))
		return num(s + i, 2) <= 23 && num(s + i + 3, 2) <= 59;
	if (len - i == 4 && digits(s + i, 4))
		return num(s + i, 2) <= 23 && num(s + i + 2, 2) <= 59;
	return len - i == 2 && digits(s + i, 2) && num(s + i, 2) <= 23;
}

static int
integer_ok(const char *s, size_t len)
{
	char buf[32];
	char *end;
	long long v;

	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!isdigit((unsigned char)buf[buf[0] == '-' || buf[0] == '+']))
		return 0;
	errno = 0;
	v = strtoll(buf, &end, 10);
	(void)v;
	return *end == '\0' && errno == 0;
}

static int
real_ok(const char *s, size_t len, double *out)
{
	char buf[64];
	char *end;
	double v;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* strtod also reads hex, inf and nan: a warehouse wants decimals. */
	for (i = 0; i < len; i++)
		if (!strchr("0123456789+-.eE", buf[i]))
			return 0;
	v = strtod(buf, &end);
	if (*end || end == buf || !isfinite(v))
		return 0;
	if (out)
		*out = v;
	return 1;
}

int
wh_value_fits(enum wh_type t, const char *s, size_t len)
{
	if (len == 0)
		return 1;
	switch (t) {
	case WH_TEXT:
		return 1;
	case WH_INTEGER:
		return integer_ok(s, len);
	case WH_REAL:
		return real_ok(s, len, NULL);
	case WH_DATE:
		return len == 10 && date_ok(s, len);
	case WH_TIMESTAMP:
		return date_ok(s, len) && (len == 10 || time_ok(s + 10, len - 10));
	}
	return 0;
}

int
wh_bind(sqlite3_stmt *st, int i, enum wh_type t, const char *s, size_t len,
	int transient)
{
	char buf[32];
	double d;

	if (len == 0)
		return t == WH_TEXT ? sqlite3_bind_text(st, i, "", 0, SQLITE_STATIC)
			: sqlite3_bind_null(st, i);
	switch (t) {
	case WH_INTEGER:
		memcpy(buf, s, len);
		buf[len] = '\0';
		return sqlite3_bind_int64(st, i, strtoll(buf, NULL, 10));
	case WH_REAL:
		if (!real_ok(s, len, &d))
			return sqlite3_bind_null(st, i);
		return sqlite3_bind_double(st, i, d);
	default:
		return sqlite3_bind_text(st, i, s, (int)len,
			transient ? SQLITE_TRANSIENT : SQLITE_STATIC);
	}
}

void
wh_result(sqlite3_context *c, enum wh_type t, const char *s, size_t len)
{
	char buf[32];
	double d;

	if (len == 0) {
		if (t == WH_TEXT)
			sqlite3_result_text(c, "", 0, SQLITE_STATIC);
		else
			sqlite3_result_null(c);
		return;
	}
	switch (t) {
	case WH_INTEGER:
		memcpy(buf, s, len);
		buf[len] = '\0';
		sqlite3_result_int64(c, strtoll(buf, NULL, 10));
		return;
	case WH_REAL:
		if (real_ok(s, len, &d))
			sqlite3_result_double(c, d);
		else
			sqlite3_result_null(c);
		return;
	default:
		sqlite3_result_text(c, s, (int)len, SQLITE_STATIC);
		return;
	}
}

int
wh_input_open(const struct task_run *run, struct rec_reader **r,
	struct err *e)
{
	const struct node *in = node_get(run->fields, "input");
	const char *fmt_name = task_run_str(run, "format");
	enum rec_format fmt = REC_CSV;
	const char **paths;
	size_t n = 0, i;
	int rc;

	*r = NULL;
	if (fmt_name && rec_format_parse(fmt_name, &fmt) < 0)
		return err_set(e, -EINVAL, "unknown format '%s' (expected csv, "
			"tsv or jsonl)", fmt_name);
	if (!in || (in->type != NODE_SCALAR && in->type != NODE_SEQ))
		return err_set(e, -EINVAL, "no input given");
	paths = xcalloc(in->type == NODE_SEQ ? in->n + 1 : 2, sizeof(*paths));
	if (in->type == NODE_SCALAR) {
		paths[n++] = in->str;
	} else {
		for (i = 0; i < in->n; i++)
			if (in->items[i]->type == NODE_SCALAR)
				paths[n++] = in->items[i]->str;
	}
	if (n == 0) {
		free(paths);
		return err_set(e, -EINVAL, "no input given");
	}
	rc = rec_reader_open(r, paths, n, fmt, e);
	free(paths);
	return rc;
}

int
wh_ident_ok(const char *s)
{
	size_t i;

	if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; s[i]; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return i <= 64 && strncmp(s, "sqlite_", 7) != 0;
}

void
wh_quote_ident(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			sb_addc(sb, '"');
		sb_addc(sb, *s);
	}
	sb_addc(sb, '"');
}

static const char *
task_name(const struct task_run *run)
{
	return run && run->task ? run->task : "?";
}

/*
 * Connections kept across instances (a worker's): by the file they opened
 * (device and inode, so a database removed and made again is opened
 * anew).  Only a connection as clean as a fresh one is kept (see
 * wh_close), so an instance sees nothing of the one before.
 */
#define WH_KEPT_MAX 4

struct wh_kept {
	sqlite3 *db;
	dev_t dev;
	ino_t ino;
};

static struct wh_kept kept[WH_KEPT_MAX];
static size_t n_kept;
static int keeping;

static void wh_disconnect(sqlite3 *db);

void
wh_keep_connections(int on)
{
	keeping = on;
	if (on)
		return;
	while (n_kept)
		wh_disconnect(kept[--n_kept].db);
}

/* A kept connection to database, taken out of the cache, or NULL. */
static sqlite3 *
take_kept(const char *database)
{
	struct stat st;
	sqlite3 *db;
	size_t i;

	if (!n_kept || stat(database, &st) < 0)
		return NULL;
	for (i = 0; i < n_kept; i++)
		if (kept[i].dev == st.st_dev && kept[i].ino == st.st_ino)
			break;
	if (i == n_kept)
		return NULL;
	db = kept[i].db;
	kept[i] = kept[--n_kept];
	return db;
}

/*
 * Statements of fixed text that every instance runs (the marker row, the
 * table check, the check of a connection before it is kept), prepared
 * once per kept connection: compiling them was most of the CPU a small
 * instance spends in SQLite (a worker's `sql SELECT 1` compiled 127K
 * instructions of SQL per instance, 54K of them the marker's INSERT).
 * Only while connections are kept (a worker); otherwise each is prepared
 * and finalized as before.  A cached statement is reset and its bindings
 * cleared after each use, so it holds nothing of an instance; a schema
 * changed by someone else recompiles it (SQLite checks the cookie).
 * Every close of a warehouse connection goes through wh_disconnect,
 * which finalizes its statements first.
 */
enum wh_fixed {
	WH_ST_MARK,
	WH_ST_EXISTS,
	WH_ST_CLEAN,
	WH_ST_N
};

static const char *const fixed_sql[WH_ST_N] = {
	[WH_ST_MARK] = "INSERT OR REPLACE INTO " TARGET_MARKER_TABLE
		" (table_name, partition, dag, task, records)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[WH_ST_EXISTS] = "SELECT 1 FROM sqlite_master WHERE type = 'table'"
		" AND name = ?1",
	[WH_ST_CLEAN] = "SELECT (SELECT count(*) FROM temp.sqlite_master) + "
		"(SELECT count(*) FROM pragma_database_list WHERE name NOT IN "
		"('main', 'temp'))",
};

/* Connections with cached statements: the kept ones and those in use. */
#define WH_CACHED_MAX (2 * WH_KEPT_MAX)

struct wh_cached {
	sqlite3 *db;
	sqlite3_stmt *st[WH_ST_N];
	wh_auth_fn *auth;	/* the authorizer set (wh_set_authorizer) */
	void *auth_arg;
};

static struct wh_cached cached[WH_CACHED_MAX];

static struct wh_cached *
cached_of(sqlite3 *db, int add)
{
	size_t i;

	for (i = 0; i < WH_CACHED_MAX; i++)
		if (cached[i].db == db)
			return &cached[i];
	if (!add)
		return NULL;
	for (i = 0; i < WH_CACHED_MAX; i++)
		if (!cached[i].db) {
			cached[i].db = db;
			return &cached[i];
		}
	return NULL;
}

/* Is st one of db's cached statements? */
static int
is_cached(sqlite3 *db, sqlite3_stmt *st)
{
	struct wh_cached *c = cached_of(db, 0);
	size_t k;

	for (k = 0; c && k < WH_ST_N; k++)
		if (c->st[k] == st)
			return 1;
	return 0;
}

/* The statement of fixed text k on db, prepared or kept: put it back
 * with fixed_done.  0, or -EIO with e. */
static int
fixed_get(sqlite3 *db, enum wh_fixed k, sqlite3_stmt **st, struct err *e)
{
	struct wh_cached *c = keeping ? cached_of(db, 1) : NULL;

	if (c && c->st[k]) {
		*st = c->st[k];
		return 0;
	}
	if (sqlite3_prepare_v3(db, fixed_sql[k], -1, c ?
	    SQLITE_PREPARE_PERSISTENT : 0, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return err_set(e, -EIO, "%s (in: %.200s)", sqlite3_errmsg(db),
			fixed_sql[k]);
	}
	if (c)
		c->st[k] = *st;
	return 0;
}

static void
fixed_done(sqlite3 *db, sqlite3_stmt *st)
{
	if (!st)
		return;
	if (!is_cached(db, st)) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

void
wh_set_authorizer(sqlite3 *db, wh_auth_fn *fn, void *arg)
{
	struct wh_cached *c = keeping ? cached_of(db, 1) : NULL;

	if (c && c->auth == fn && c->auth_arg == arg)
		return;
	sqlite3_set_authorizer(db, fn, arg);
	if (c) {
		c->auth = fn;
		c->auth_arg = arg;
	}
}

/* Close a warehouse connection, its cached statements first. */
static void
wh_disconnect(sqlite3 *db)
{
	struct wh_cached *c = cached_of(db, 0);
	size_t k;

	if (!db)
		return;
	if (c) {
		for (k = 0; k < WH_ST_N; k++)
			sqlite3_finalize(c->st[k]);
		memset(c, 0, sizeof(*c));
	}
	sqlite3_close(db);
}

/*
 * Is db as a fresh connection would be: no transaction, no statement, no
 * temporary object, nothing attached?
 */
static int
wh_clean(sqlite3 *db)
{
	sqlite3_stmt *st, *any;
	struct err e;
	int clean;

	if (!sqlite3_get_autocommit(db))
		return 0;
	/* No statement of an instance's left: only idle cached ones. */
	for (any = sqlite3_next_stmt(db, NULL); any;
	    any = sqlite3_next_stmt(db, any))
		if (!is_cached(db, any) || sqlite3_stmt_busy(any))
			return 0;
	err_clear(&e);
	if (fixed_get(db, WH_ST_CLEAN, &st, &e) < 0)
		return 0;
	clean = sqlite3_step(st) == SQLITE_ROW &&
		sqlite3_column_int64(st, 0) == 0;
	fixed_done(db, st);
	return clean;
}

void
wh_close(sqlite3 *db, int reusable)
{
	const char *path;
	struct stat st;

	if (!db)
		return;
	path = sqlite3_db_filename(db, "main");
	if (!keeping || !reusable || !path || stat(path, &st) < 0 ||
	    !wh_clean(db)) {
		wh_disconnect(db);
		return;
	}
	if (n_kept == WH_KEPT_MAX) {
		wh_disconnect(kept[0].db);
		kept[0] = kept[--n_kept];
	}
	kept[n_kept].db = db;
	kept[n_kept].dev = st.st_dev;
	kept[n_kept].ino = st.st_ino;
	n_kept++;
}

/*
 * The warehouse's VFS: the default one, except that a WAL file that has
 * had WB_CHUNK bytes written since the last time gets their write-back
 * started (sync_file_range WRITE, not waiting).  A load writes its whole
 * transaction into the WAL, and the checkpoint at its commit began with
 * an fdatasync that waited for all of it (40 ms of a 100,000-row fact
 * load): now the disk writes while the load runs, and that fdatasync,
 * still the durability point, waits for the tail, at most WB_CHUNK (2 MiB:
 * the commit of a 100,000-row fact load waited 24-30 ms for that
 * fdatasync with 8 MiB, 8-9 ms with 2 MiB).  sync_file_range acts
 * on the file, not the descriptor, so a descriptor of our own, opened by
 * name at the first chunk, serves.
 *
 * The checkpoint then copies the load's pages into the database file and
 * ends in an fdatasync of it that waited for all of them: the database
 * file gets the same treatment, so the disk writes while the checkpoint
 * copies.  Not with a descriptor of our own: closing a second descriptor
 * of the database would drop this process's POSIX locks on it, which
 * SQLite's connections rely on (the WAL file is never locked).  SQLite's
 * own is used instead (real_fd); in WAL mode only checkpoints write the
 * database file.
 */
#ifdef SYNC_FILE_RANGE_WRITE
#define WB_CHUNK ((sqlite3_int64)2 << 20)
#define WB_VFS "dag-writeback"

struct wb_file {
	sqlite3_file base;
	sqlite3_file *real;	/* the default VFS's file, right after this */
	char *path;		/* a WAL file's, opened when needed; else NULL */
	int fd;			/* for sync_file_range; -1: none (yet) */
	int own;		/* fd is ours to close (a WAL file's) */
	sqlite3_int64 pending;	/* bytes written since write-back started */
};

static sqlite3_vfs *wb_real;

static int
wb_close(sqlite3_file *f)
{
	struct wb_file *w = (struct wb_file *)f;
	int rc = w->real->pMethods->xClose(w->real);

	if (w->fd >= 0 && w->own)
		close(w->fd);
	free(w->path);
	return rc;
}

static int
wb_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct wb_file *w = (struct wb_file *)f;

	return w->real->pMethods->xRead(w->real, buf, n, off);
}

static int
wb_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct wb_file *w = (struct wb_file *)f;
	int rc = w->real->pMethods->xWrite(w->real, buf, n, off);

	if (rc != SQLITE_OK || (!w->path && w->fd < 0))
		return rc;
	w->pending += n;
	if (w->pending < WB_CHUNK)
		return rc;
	w->pending = 0;
	if (w->fd < 0) {
		w->fd = open(w->path, O_RDONLY | O_CLOEXEC);
		w->own = 1;
	}
	/* A hint only: the next xSync reports any error. */
	if (w->fd >= 0)
		(void)sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return rc;
}

#define WB_PASS(name, proto, args) \
	static int wb_##name proto \
	{ \
		struct wb_file *w = (struct wb_file *)f; \
		return w->real->pMethods->x##name args; \
	}

WB_PASS(Truncate, (sqlite3_file *f, sqlite3_int64 size), (w->real, size))
WB_PASS(Sync, (sqlite3_file *f, int flags), (w->real, flags))
WB_PASS(FileSize, (sqlite3_file *f, sqlite3_int64 *size), (w->real, size))
WB_PASS(Lock, (sqlite3_file *f, int lock), (w->real, lock))
WB_PASS(Unlock, (sqlite3_file *f, int lock), (w->real, lock))
WB_PASS(CheckReservedLock, (sqlite3_file *f, int *out), (w->real, out))
WB_PASS(FileControl, (sqlite3_file *f, int op, void *arg), (w->real, op, arg))
WB_PASS(SectorSize, (sqlite3_file *f), (w->real))
WB_PASS(DeviceCharacteristics, (sqlite3_file *f), (w->real))
WB_PASS(ShmMap, (sqlite3_file *f, int pg, int size, int extend,
	void volatile **out), (w->real, pg, size, extend, out))
WB_PASS(ShmLock, (sqlite3_file *f, int off, int n, int flags),
	(w->real, off, n, flags))
WB_PASS(ShmUnmap, (sqlite3_file *f, int del), (w->real, del))
WB_PASS(Fetch, (sqlite3_file *f, sqlite3_int64 off, int n, void **out),
	(w->real, off, n, out))
WB_PASS(Unfetch, (sqlite3_file *f, sqlite3_int64 off, void *p),
	(w->real, off, p))

static void
wb_ShmBarrier(sqlite3_file *f)
{
	struct wb_file *w = (struct wb_file *)f;

	w->real->pMethods->xShmBarrier(w->real);
}

static const sqlite3_io_methods wb_methods = {
	3, wb_close, wb_read, wb_write, wb_Truncate, wb_Sync, wb_FileSize,
	wb_Lock, wb_Unlock, wb_CheckReservedLock, wb_FileControl,
	wb_SectorSize, wb_DeviceCharacteristics, wb_ShmMap, wb_ShmLock,
	wb_ShmBarrier, wb_ShmUnmap, wb_Fetch, wb_Unfetch,
};

/*
 * The descriptor the unix VFS holds for file real, opened on name, or -1.
 * Its file object starts with its methods, its VFS, its inode record and
 * the descriptor (so since SQLite 3.7); the descriptor is only taken when
 * it is open on name's file (device and inode), so a layout that differs
 * costs the write-back hint and nothing else.
 */
static int
real_fd(const sqlite3_file *real, const char *name)
{
	const struct {
		const void *methods, *vfs, *inode;
		int h;
	} *u = (const void *)real;
	struct stat a, b;

	if (strcmp(wb_real->zName, "unix") != 0 || wb_real->szOsFile <
	    (int)sizeof(*u) || u->h < 0 || fstat(u->h, &a) < 0 ||
	    stat(name, &b) < 0)
		return -1;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? u->h : -1;
}

static int
wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
	int *out_flags)
{
	struct wb_file *w = (struct wb_file *)f;
	int rc;

	(void)vfs;
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	w->fd = -1;
	rc = wb_real->xOpen(wb_real, name, w->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		/* SQLite closes a failed file only when it has methods. */
		w->base.pMethods = w->real->pMethods ? &wb_methods : NULL;
		return rc;
	}
	/* The real methods are version 3 or more: ours forward them all. */
	if (!w->real->pMethods || w->real->pMethods->iVersion < 3) {
		if (w->real->pMethods)
			w->real->pMethods->xClose(w->real);
		w->base.pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	if (name && (flags & SQLITE_OPEN_WAL))
		w->path = xstrdup(name);
	else if (name && (flags & SQLITE_OPEN_MAIN_DB))
		w->fd = real_fd(w->real, name);
	w->base.pMethods = &wb_methods;
	return SQLITE_OK;
}

static sqlite3_vfs wb_vfs_def;
static int wb_ok;

/* The default VFS with our xOpen; every other method is its own. */
static void
wb_register(void)
{
	wb_real = sqlite3_vfs_find(NULL);
	if (!wb_real || wb_real->iVersion < 2)
		return;
	wb_vfs_def = *wb_real;
	wb_vfs_def.iVersion = 2;
	wb_vfs_def.szOsFile = (int)sizeof(struct wb_file) + wb_real->szOsFile;
	wb_vfs_def.zName = WB_VFS;
	wb_vfs_def.pNext = NULL;
	wb_vfs_def.xOpen = wb_open;
	wb_ok = sqlite3_vfs_register(&wb_vfs_def, 0) == SQLITE_OK;
}

/* The write-back VFS's name, registered at the first call; NULL: none. */
static const char *
wb_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, wb_register);
	return wb_ok ? WB_VFS : NULL;
}
#else
static const char *
wb_vfs(void)
{
	return NULL;
}
#endif

/*
 * The marker table of a kept connection, made again when someone dropped
 * it: looked for with the cached statement, and the DDL run (compiled)
 * only when it is missing.  An SQLite result code.
 */
static int
marker_table(sqlite3 *db)
{
	struct err e;
	int rc;

	err_clear(&e);
	rc = wh_table_exists(db, TARGET_MARKER_TABLE, &e);
	if (rc < 0)
		return SQLITE_ERROR;
	return rc ? SQLITE_OK : sqlite3_exec(db, TARGET_MARKER_DDL, NULL,
		NULL, NULL);
}

/* Is the database file empty (just created by sqlite3_open_v2)? */
static int
new_database(const char *database)
{
	struct stat sb;

	return stat(database, &sb) == 0 && sb.st_size == 0;
}

int
wh_open(const struct task_run *run, const char *database, sqlite3 **db,
	struct err *e)
{
	int rc, fresh;

	*db = NULL;
	if (!database || !*database)
		return err_set(e, -EINVAL, "task '%s': no database given",
			task_name(run));
	if (keeping && (*db = take_kept(database))) {
		/* Dropped since by someone else?  Then made again. */
		if (marker_table(*db) == SQLITE_OK)
			return 0;
		wh_disconnect(*db);
		*db = NULL;
	}
	rc = mkdir_parent(database);
	if (rc < 0)
		return err_set(e, rc, "task '%s': cannot create the directory "
			"of '%s': %s", task_name(run), database, strerror(-rc));
	/* One thread uses the connection: no mutex around every call. */
	rc = sqlite3_open_v2(database, db, SQLITE_OPEN_READWRITE |
		SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, wb_vfs());
	if (rc != SQLITE_OK) {
		err_set(e, -EIO, "task '%s': cannot open database '%s': %s",
			task_name(run), database,
			*db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(*db, WH_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(*db, 1);
	/*
	 * The first statement reads the header, so this is where a file that
	 * is not a database (or a damaged one) shows.
	 */
	/*
	 * 16 KiB pages for a database we create (a no-op on an existing one):
	 * a bulk load then writes a quarter of the WAL frames and b-tree
	 * pages, about 40% less system time than with 4 KiB.
	 */
	rc = sqlite3_exec(*db, "PRAGMA page_size=16384", NULL, NULL, NULL);
	/*
	 * A database this open has just created (an empty file) is switched
	 * to WAL and given its marker table with synchronous=OFF: through
	 * the rollback journal that takes three fdatasyncs and the
	 * directory's, and the new WAL's header one and the directory's
	 * again, six in all (2-10 ms each here, a file's first the
	 * slowest), protecting a database with nothing in it yet.  A power
	 * cut before the first load's commit reaches the disk leaves an
	 * empty or unreadable file and no marker row, so the load runs
	 * again, as synchronous=NORMAL lets a power cut take its last
	 * commits anyway; a process crash loses nothing either way.
	 */
	fresh = new_database(database);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(*db, fresh ? "PRAGMA synchronous=OFF" :
			"PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite_use_wal(*db, WH_BUSY_TIMEOUT_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(*db, TARGET_MARKER_DDL, NULL, NULL, NULL);
	if (rc == SQLITE_OK && fresh)
		rc = sqlite3_exec(*db, "PRAGMA synchronous=NORMAL", NULL, NULL,
			NULL);
	if (rc != SQLITE_OK) {
		err_set(e, -EIO, "task '%s': cannot use database '%s': %s",
			task_name(run), database, sqlite3_errmsg(*db));
		goto fail;
	}
	return 0;
fail:
	wh_disconnect(*db);
	*db = NULL;
	return -EIO;
}

int
wh_exec(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	err_set(e, -EIO, "%s (in: %.200s)", msg ? msg : sqlite3_errmsg(db), sql);
	sqlite3_free(msg);
	return -EIO;
}

int
wh_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct err *e)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	*st = NULL;
	return err_set(e, -EIO, "%s (in: %.200s)", sqlite3_errmsg(db), sql);
}

int
wh_begin(sqlite3 *db, struct err *e)
{
	return wh_exec(db, "BEGIN IMMEDIATE", e);
}

int
wh_commit(sqlite3 *db, struct err *e)
{
	return wh_exec(db, "COMMIT", e);
}

void
wh_rollback(sqlite3 *db)
{
	if (db && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

const char *
wh_target_table(const struct task_run *run)
{
	const char *t = node_get_str(node_get(run->fields, "target"), "table");

	return t ? t : task_run_str(run, "table");
}

int
wh_mark(sqlite3 *db, const struct task_run *run, const char *table,
	int64_t records, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = fixed_get(db, WH_ST_MARK, &st, e);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, run->partition, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, run->dag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, run->task, -1, SQLITE_STATIC);
	if (records >= 0)
		sqlite3_bind_int64(st, 5, records);
	else
		sqlite3_bind_null(st, 5);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : err_set(e, -EIO,
		"cannot write the marker row: %s", sqlite3_errmsg(db));
	fixed_done(db, st);
	return rc;
}

int
wh_table_exists(sqlite3 *db, const char *table, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = fixed_get(db, WH_ST_EXISTS, &st, e);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = err_set(e, -EIO, "%s", sqlite3_errmsg(db));
	fixed_done(db, st);
	return rc;
}

int
wh_table_columns(sqlite3 *db, const char *table, char ***names,
	char ***types, int *pk, struct err *e)
{
	struct { char **v; size_t n, cap; } nv = { 0 }, tv = { 0 };
	struct strbuf sql;
	sqlite3_stmt *st = NULL;
	int rc, npk = 0;

	*pk = -1;
	sb_init(&sql);
	sb_adds(&sql, "PRAGMA table_info(");
	wh_quote_ident(&sql, table);
	sb_adds(&sql, ")");
	rc = wh_prepare(db, sql.buf, &st, e);
	sb_release(&sql);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 1);
		const char *t = (const char *)sqlite3_column_text(st, 2);

		if (sqlite3_column_int(st, 5) > 0) {
			npk++;
			if (t && !strcasecmp(t, "INTEGER"))
				*pk = (int)nv.n;
		}
		VEC_PUSH(nv, xstrdup(n ? n : ""));
		VEC_PUSH(tv, xstrdup(t ? t : ""));
	}
	if (npk != 1)
		*pk = -1;
	VEC_PUSH(nv, NULL);
	VEC_PUSH(tv, NULL);
	*names = nv.v;
	*types = tv.v;
	if (rc != SQLITE_DONE) {
		rc = err_set(e, -EIO, "%s", sqlite3_errmsg(db));
		wh_strv_free(*names);
		wh_strv_free(*types);
		*names = *types = NULL;
	} else {
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

void
wh_strv_free(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

int
wh_strv_find(char *const *v, const char *s)
{
	int i;

	for (i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return i;
	return -1;
}

int
wh_require(const struct task_run *run, const char *const *fields,
	struct err *e)
{
	size_t i;

	for (i = 0; fields[i]; i++)
		if (!node_get(run->fields, fields[i]))
			return err_set(e, -EINVAL, "task '%s': no %s given",
				task_name(run), fields[i]);
	return 0;
}

char *
wh_rejects_path(const struct task_run *run, const char *table)
{
	const char *r = task_run_str(run, "rejects");

	if (r && *r)
		return xstrdup(r);
	return xasprintf("%s.%s.%s.rejects.csv", run->database ? run->database
		: task_run_str(run, "database"), table, run->partition);
}

double
wh_reject_ratio(const struct task_run *run)
{
	const char *s = task_run_str(run, "max_reject_ratio");
	char *end;
	double v;

	if (!s || !*s)
		return 0.01;
	v = strtod(s, &end);
	if (*end || !(v >= 0 && v <= 1))
		return 0.01;
	return v;
}

int
wh_too_many_rejects(int64_t rejected, int64_t in, double ratio)
{
	if (rejected <= 0)
		return 0;
	if (in <= 0)
		return 1;
	return (double)rejected > ratio * (double)in;
}

int
wh_check_ident_field(const char *file, const struct node *task,
	const char *field, struct errs *errs)
{
	const struct node *n = node_get(task, field);

	if (!n)
		return 0;
	if (n->type != NODE_SCALAR) {
		errs_addf(errs, -EINVAL, file, n->line, n->column,
			"'%s' must be a name, not %s", field, node_type_name(n));
		return 1;
	}
	/* A template is checked once it is expanded. */
	if (strchr(n->str, '{') || wh_ident_ok(n->str))
		return 0;
	errs_addf(errs, -EINVAL, file, n->line, n->column,
		"%s '%s' is not a valid name (expected letters, digits and _, "
		"not starting with a digit)", field, n->str);
	return 1;
}

int
wh_check_ratio(const char *file, const struct node *task, struct errs *errs)
{
	const struct node *n = node_get(task, "max_reject_ratio");
	char *end;
	double v;

	if (!n || n->type != NODE_SCALAR)
		return 0;
	v = strtod(n->str, &end);
	if (*n->str && !*end && v >= 0 && v <= 1)
		return 0;
	errs_addf(errs, -EINVAL, file, n->line, n->column,
		"max_reject_ratio '%s' must be a number from 0 to 1", n->str);
	return 1;
}

int
wh_check_columns(const char *file, const struct node *columns,
	struct errs *errs)
{
	enum wh_type t;
	size_t i;
	int bad = 0;

	if (!columns)
		return 0;
	if (columns->type != NODE_MAP) {
		errs_addf(errs, -EINVAL, file, columns->line, columns->column,
			"columns must be a map of column: type, not %s",
			node_type_name(columns));
		return 1;
	}
	if (columns->n == 0) {
		errs_addf(errs, -EINVAL, file, columns->line, columns->column,
			"columns must name at least one column");
		return 1;
	}
	for (i = 0; i < columns->n; i++) {
		const struct node *k = columns->keys[i], *v = columns->items[i];

		if (!wh_ident_ok(k->str)) {
			errs_addf(errs, -EINVAL, file, k->line, k->column,
				"column '%s' is not a valid name (expected letters, "
				"digits and _, not starting with a digit)", k->str);
			bad++;
		}
		if (v->type != NODE_SCALAR || wh_type_parse(v->str, &t) < 0) {
			errs_addf(errs, -EINVAL, file, v->line, v->column,
				"unknown type '%s' for column '%s' (expected text, "
				"integer, real, date or timestamp)",
				v->type == NODE_SCALAR ? v->str : node_type_name(v),
				k->str);
			bad++;
		}
	}
	return bad;
}

int
wh_check_ident_list(const char *file, const struct node *n, const char *what,
	struct errs *errs)
{
	size_t i;
	int bad = 0;

	if (!n)
		return 0;
	if (n->type == NODE_SCALAR) {
		if (wh_ident_ok(n->str))
			return 0;
		errs_addf(errs, -EINVAL, file, n->line, n->column,
			"%s '%s' is not a valid column name", what, n->str);
		return 1;
	}
	if (n->type != NODE_SEQ || n->n == 0) {
		errs_addf(errs, -EINVAL, file, n->line, n->column,
			"%s must be a column or a non-empty list of columns", what);
		return 1;
	}
	for (i = 0; i < n->n; i++) {
		const struct node *c = n->items[i];

		if (c->type == NODE_SCALAR && wh_ident_ok(c->str))
			continue;
		errs_addf(errs, -EINVAL, file, c->line, c->column,
			"%s '%s' is not a valid column name", what,
			c->type == NODE_SCALAR ? c->str : node_type_name(c));
		bad++;
	}
	return bad;
}

/* tag, decimal length, ':', bytes; without printf, it runs per field. */
static void
canon_bytes(struct strbuf *sb, char tag, const void *s, size_t len)
{
	char num[24];
	size_t i = sizeof(num), n = len;

	do {
		num[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	sb_grow(sb, 2 + sizeof(num) + len);
	sb->buf[sb->len++] = tag;
	memcpy(sb->buf + sb->len, num + i, sizeof(num) - i);
	sb->len += sizeof(num) - i;
	sb->buf[sb->len++] = ':';
	if (len)
		memcpy(sb->buf + sb->len, s, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

int
wh_canon_text(struct strbuf *sb, enum wh_type t, const char *s, size_t len)
{
	char buf[32];
	double d;

	if (len == 0 && t != WH_TEXT) {
		sb_add(sb, "N;", 2);
		return 0;
	}
	if (!wh_value_fits(t, s, len))
		return -EINVAL;
	switch (t) {
	case WH_INTEGER:
		memcpy(buf, s, len);
		buf[len] = '\0';
		sb_addf(sb, "I%lld;", strtoll(buf, NULL, 10));
		return 0;
	case WH_REAL:
		real_ok(s, len, &d);
		sb_addf(sb, "R%.17g;", d);
		return 0;
	default:
		canon_bytes(sb, 'T', s, len);
		return 0;
	}
}

void
wh_canon_column(struct strbuf *sb, sqlite3_stmt *st, int i)
{
	const void *p;
	int n;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		sb_add(sb, "N;", 2);
		break;
	case SQLITE_INTEGER:
		sb_addf(sb, "I%lld;", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		sb_addf(sb, "R%.17g;", sqlite3_column_double(st, i));
		break;
	case SQLITE_TEXT:
		p = sqlite3_column_text(st, i);
		n = sqlite3_column_bytes(st, i);
		canon_bytes(sb, 'T', p, (size_t)n);
		break;
	default:
		p = sqlite3_column_blob(st, i);
		n = sqlite3_column_bytes(st, i);
		canon_bytes(sb, 'B', p, (size_t)n);
		break;
	}
}

enum wh_type
wh_type_from_sql(const char *decl)
{
	enum wh_type t;
	size_t i;
	char low[16];

	for (i = 0; decl && decl[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)decl[i]);
	low[i] = '\0';
	if (!strcmp(low, "int") || !strcmp(low, "bigint"))
		return WH_INTEGER;
	if (!strcmp(low, "double") || !strcmp(low, "float"))
		return WH_REAL;
	return wh_type_parse(low, &t) == 0 ? t : WH_TEXT;
}

int
wh_too_many_keys(struct err *e, const char *task, const struct hash *h)
{
	return err_set(e, -E2BIG, "task '%s': more than %zu distinct %s",
		task, hash_max(h), h->type ? h->type->name : "keys");
}

int
wh_each_record(struct task_run *run, struct rec_reader *r,
	struct rejects *rj,
	int (*check)(void *ctx, const struct record *rec, char **why),
	int (*apply)(void *ctx, const struct record *rec, struct err *e),
	void *ctx, struct err *e)
{
	struct record rec;
	int rc;

	while ((rc = rec_reader_next(r, &rec, e)) == 1) {
		char *why = NULL;

		run->records_in++;
		if (rec.reject || (check && check(ctx, &rec, &why))) {
			run->records_rejected++;
			rc = rejects_record(rj, &rec, rec.reject ? NULL : why,
				run->task, e);
			free(why);
			if (rc < 0)
				return rc;
			continue;
		}
		rc = apply(ctx, &rec, e);
		if (rc < 0)
			return rc;
		run->records_out++;
	}
	if (rc == 0)
		rec_reader_log_blank(r, run->log, run->task);
	return rc;
}
