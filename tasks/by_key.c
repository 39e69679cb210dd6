/*
 * by-key: split input into one CSV per distinct value of key (or into
 * buckets: N hash partitions), each file with the header, published as a
 * directory target whose _SUCCESS comes last.
 *
 * Tuned for many keys (100,000 and more) with few open files and bounded
 * memory.  Records are appended to a per-key buffer in memory; when the
 * buffers together pass the memory: budget, the largest ones are written
 * out until the total is back under half the budget.  Writing goes through
 * a small LRU cache of open descriptors (max_open_files): a key whose file
 * is not open gets it reopened in append mode, evicting the least
 * recently used.  At the end every buffer is written once more, the files
 * are closed, the file system is synced once (syncfs) rather than per
 * file, and the directory is renamed into place.  When everything fits the
 * budget, each file is opened and written exactly once.
 *
 * Creating the files is most of the time at many keys (ext4 spends tens
 * of microseconds of system time on each), so at the end a second thread
 * writes half of the files that do not exist yet: the directory's lock is
 * held only while a file is created, and one thread fills a file while the
 * other creates the next.  A third syncs the file system every
 * SYNC_EVERY_MS meanwhile, so the disk writes while files are still being
 * made and the last syncfs waits only for the tail.
 *
 * CSV input without columns: is passed through byte for byte (the raw
 * record); otherwise records are re-encoded as RFC 4180.
 */
#include "config.h"
#include "task_kind.h"
#include "by_key.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "csv.h"
#include "load_common.h"
#include "warehouse.h"

#define BYKEY_DEFAULT_MEMORY (128LL << 20)
#define BYKEY_DEFAULT_OPEN 256
#define BYKEY_MAX_OPEN 1024
#define NAME_MAX_KEEP 180
#define NAME_CUT_AT 200
#define SYNC_EVERY_MS 100

static const struct field_spec bykey_fields[] = {
	{ "input", FIELD_LIST, FIELD_REQUIRED | FIELD_TEMPLATE,
		"file(s) to split, read in order as one stream" },
	{ "format", FIELD_STRING, 0, "csv (default), tsv or jsonl" },
	{ "key", FIELD_STRING, FIELD_REQUIRED, "the column to split by" },
	{ "output", FIELD_STRING, FIELD_REQUIRED | FIELD_TEMPLATE,
		"the directory target (end it with /)" },
	{ "columns", FIELD_LIST, 0, "the columns to write, in order (default all)" },
	{ "buckets", FIELD_INT, 0,
		"write N hash partitions part-00000.csv.. instead of one file per value" },
	{ "memory", FIELD_SIZE, 0,
		"buffer budget before spilling to the files (default 128M)" },
	{ "max_open_files", FIELD_INT, 0,
		"files open at once, 1 to 1024 (default 256)" },
	{ "rejects", FIELD_STRING, FIELD_TEMPLATE,
		"rejects file (default <output>.rejects.csv beside the directory)" },
	{ "max_reject_ratio", FIELD_NUMBER, 0,
		"fail when rejects exceed this share of records (default 0.01)" },
	{ NULL, 0, 0, NULL },
};

static int
safe_byte(unsigned char c, size_t pos)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-' ||
		(c == '.' && pos > 0);
}

void
bykey_file_name(struct strbuf *out, const char *v, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = out->len, i;

	if (len == 0) {
		sb_adds(out, "%.csv");
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (out->len - start > NAME_CUT_AT)
			break;
		if (safe_byte(c, i)) {
			sb_addc(out, (char)c);
		} else {
			sb_addc(out, '%');
			sb_addc(out, hex[c >> 4]);
			sb_addc(out, hex[c & 15]);
		}
	}
	if (out->len - start > NAME_CUT_AT) {
		size_t keep = NAME_MAX_KEEP;

		/* Never cut inside a %XX. */
		if (out->buf[start + keep - 1] == '%')
			keep -= 1;
		else if (out->buf[start + keep - 2] == '%')
			keep -= 2;
		out->len = start + keep;
		out->buf[out->len] = '\0';
		sb_addf(out, "~%016llx", (unsigned long long)hash_bytes(v, len));
	}
	sb_adds(out, ".csv");
}

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
bykey_value_of_name(const char *name, struct strbuf *out)
{
	size_t n = strlen(name), i;

	if (n < 5 || strcmp(name + n - 4, ".csv"))
		return -EINVAL;
	n -= 4;
	if (n == 1 && name[0] == '%')
		return 0;
	/* Longer names are always cut, with '~' and the hash. */
	if (n > NAME_CUT_AT && !memchr(name, '~', n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		int hi, lo;

		if (c == '~') {
			size_t j;

			/* Cut after 178 to 180 bytes (never inside a %XX). */
			if (n - i != 17 || i > NAME_MAX_KEEP ||
			    i + 2 < NAME_MAX_KEEP)
				return -EINVAL;
			for (j = i + 1; j < n; j++)
				if (!strchr("0123456789abcdef", name[j]))
					return -EINVAL;
			return 1;
		}
		if (c != '%') {
			if (!safe_byte(c, i))
				return -EINVAL;
			sb_addc(out, (char)c);
			continue;
		}
		if (i + 2 >= n || (hi = unhex(name[i + 1])) < 0 ||
		    (lo = unhex(name[i + 2])) < 0)
			return -EINVAL;
		c = (unsigned char)(hi << 4 | lo);
		/* Only the one spelling bykey_file_name makes is a name. */
		if (safe_byte(c, i ? 1 : 0) && !(c == '.' && i == 0))
			return -EINVAL;
		sb_addc(out, (char)c);
		i += 2;
	}
	return 0;
}

size_t
bykey_bucket(const char *v, size_t len, size_t n)
{
	return n ? (size_t)(hash_bytes(v, len) % n) : 0;
}

/* One output file. */
struct part {
	char *name;		/* file name inside the directory */
	struct strbuf buf;	/* records not written yet */
	int fd;			/* open descriptor, or -1 */
	int created;		/* the file exists and holds the header */
	int helper;		/* finish's second thread writes it */
	struct part *prev, *next;	/* LRU of open files, most recent first */
};

struct bykey {
	struct task_run *run;
	struct atomic_dir dir;
	int dirfd;
	struct hash keys;	/* value -> struct part (per-value mode) */
	struct { struct part **v; size_t n, cap; } parts;
	size_t nbuckets;
	int key_col;
	int *proj;		/* projected input columns, or NULL: all */
	size_t nproj;
	int passthrough;	/* write rec->raw as it is */
	struct strbuf header;
	struct strbuf name;	/* scratch */
	int64_t budget;		/* bytes of buffers before spilling */
	int64_t buffered;	/* bytes held by buffers (capacity) */
	int max_open, nopen;
	struct part *lru_head, *lru_tail;
	int64_t spills, opens;
};

static void
csv_field(struct strbuf *sb, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			break;
	if (i == len) {
		sb_add(sb, s, len);
		return;
	}
	sb_addc(sb, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			sb_addc(sb, '"');
		sb_addc(sb, s[i]);
	}
	sb_addc(sb, '"');
}

static void
lru_unlink(struct bykey *b, struct part *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		b->lru_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		b->lru_tail = p->prev;
	p->prev = p->next = NULL;
}

static void
lru_front(struct bykey *b, struct part *p)
{
	p->next = b->lru_head;
	p->prev = NULL;
	if (b->lru_head)
		b->lru_head->prev = p;
	b->lru_head = p;
	if (!b->lru_tail)
		b->lru_tail = p;
}

static int
close_part(struct bykey *b, struct part *p)
{
	int rc = 0;

	if (p->fd < 0)
		return 0;
	lru_unlink(b, p);
	if (close(p->fd) < 0)
		rc = -errno;
	p->fd = -1;
	b->nopen--;
	return rc;
}

/* Open p (append), evicting the least recently used file when full. */
static int
open_part(struct bykey *b, struct part *p, struct err *e)
{
	int rc;

	if (p->fd >= 0) {
		lru_unlink(b, p);
		lru_front(b, p);
		return 0;
	}
	if (b->nopen >= b->max_open) {
		rc = close_part(b, b->lru_tail);
		if (rc < 0)
			return err_set(e, rc, "cannot close a by-key file: %s",
				strerror(-rc));
	}
	p->fd = openat(b->dirfd, p->name, O_WRONLY | O_CREAT | O_APPEND |
		O_CLOEXEC, 0644);
	if (p->fd < 0)
		return err_set(e, -errno, "cannot open '%s/%s': %s", b->dir.tmp,
			p->name, strerror(errno));
	b->nopen++;
	b->opens++;
	lru_front(b, p);
	return 0;
}

/* Write out p's buffer and give its memory back. */
static int
flush_part(struct bykey *b, struct part *p, struct err *e)
{
	int rc;

	if (p->created && p->buf.len == 0)
		return 0;
	rc = open_part(b, p, e);
	if (rc < 0)
		return rc;
	/* A new file gets its header and first rows in one write. */
	if (!p->created)
		rc = write2_full(p->fd, b->header.buf, b->header.len,
			p->buf.buf ? p->buf.buf : "", p->buf.len);
	else
		rc = write_full(p->fd, p->buf.buf, p->buf.len);
	if (rc < 0)
		return err_set(e, rc, "cannot write '%s': %s", p->name,
			strerror(-rc));
	p->created = 1;
	b->buffered -= (int64_t)p->buf.cap;
	sb_release(&p->buf);
	return 0;
}

static int
by_len_desc(const void *a, const void *b)
{
	const struct part *pa = *(struct part *const *)a;
	const struct part *pb = *(struct part *const *)b;

	return pa->buf.len < pb->buf.len ? 1 : pa->buf.len > pb->buf.len ? -1 : 0;
}

/* Over budget: write out the largest buffers until under half of it. */
static int
spill(struct bykey *b, struct err *e)
{
	struct part **v = xmalloc((b->parts.n + 1) * sizeof(*v));
	size_t i;
	int rc = 0;

	memcpy(v, b->parts.v, b->parts.n * sizeof(*v));
	qsort(v, b->parts.n, sizeof(*v), by_len_desc);
	for (i = 0; i < b->parts.n && b->buffered > b->budget / 2; i++) {
		if (!v[i]->buf.len)
			break;
		rc = flush_part(b, v[i], e);
		if (rc < 0)
			break;
	}
	b->spills++;
	free(v);
	return rc;
}

static struct part *
new_part(struct bykey *b, const char *name)
{
	struct part *p = xcalloc(1, sizeof(*p));

	p->name = xstrdup(name);
	p->fd = -1;
	sb_init(&p->buf);
	VEC_PUSH(b->parts, p);
	return p;
}

static struct part *
part_for(struct bykey *b, const char *v, size_t len)
{
	struct hash_entry *s;
	int added;

	if (b->nbuckets)
		return b->parts.v[bykey_bucket(v, len, b->nbuckets)];
	s = hash_add(&b->keys, v, len, &added);
	if (!s)
		return NULL;
	if (added) {
		sb_reset(&b->name);
		bykey_file_name(&b->name, v, len);
		s->ptr = new_part(b, b->name.buf);
	}
	return s->ptr;
}

static void
encode_record(struct bykey *b, struct strbuf *sb, const struct record *rec)
{
	size_t i;

	if (b->passthrough) {
		sb_add(sb, rec->raw, rec->raw_len);
		sb_addc(sb, '\n');
		return;
	}
	for (i = 0; i < b->nproj; i++) {
		int c = b->proj ? b->proj[i] : (int)i;

		if (i)
			sb_addc(sb, ',');
		csv_field(sb, rec->fields[c], rec->lens[c]);
	}
	sb_addc(sb, '\n');
}

static int
add_record(void *ctx, const struct record *rec, struct err *e)
{
	struct bykey *b = ctx;
	struct part *p = part_for(b, rec->fields[b->key_col],
		rec->lens[b->key_col]);
	size_t cap;

	if (!p)
		return wh_too_many_keys(e, b->run->task, &b->keys);
	cap = p->buf.cap;
	encode_record(b, &p->buf, rec);
	b->buffered += (int64_t)(p->buf.cap - cap);
	if (b->buffered > b->budget)
		return spill(b, e);
	return 0;
}

static int
setup_columns(struct bykey *b, struct rec_reader *r, int csv_in,
	struct err *e)
{
	const struct node *cols = node_get(b->run->fields, "columns");
	const char *key = task_run_str(b->run, "key");
	const char *const *hdr = rec_reader_header(r);
	size_t i, n;

	b->key_col = rec_reader_column(r, key);
	if (b->key_col < 0)
		return err_set(e, -EINVAL, "task '%s': the input has no key "
			"column '%s'", b->run->task, key);
	if (cols) {
		n = cols->type == NODE_SEQ ? cols->n : 1;
		b->proj = xcalloc(n, sizeof(*b->proj));
		b->nproj = n;
		for (i = 0; i < n; i++) {
			const char *c = cols->type == NODE_SEQ ?
				node_str(cols->items[i]) : cols->str;

			b->proj[i] = c ? rec_reader_column(r, c) : -1;
			if (b->proj[i] < 0)
				return err_set(e, -EINVAL, "task '%s': the input "
					"has no column '%s' (named in columns)",
					b->run->task, c ? c : "");
			if (i)
				sb_addc(&b->header, ',');
			csv_field(&b->header, c, strlen(c));
		}
	} else {
		b->nproj = rec_reader_width(r);
		b->passthrough = csv_in;
		for (i = 0; i < b->nproj; i++) {
			if (i)
				sb_addc(&b->header, ',');
			csv_field(&b->header, hdr[i], strlen(hdr[i]));
		}
	}
	sb_addc(&b->header, '\n');
	return 0;
}

/* A size field ("64M", "512k"); fallback when absent, zero or not a size. */
static int64_t
size_field(const struct task_run *run, const char *field, int64_t fallback)
{
	uint64_t v;

	if (size_parse(task_run_str(run, field), &v) < 0 || v == 0 ||
	    v > INT64_MAX)
		return fallback;
	return (int64_t)v;
}

/* Create p's file and write it whole (a part no file exists for yet). */
static int
write_new(const struct bykey *b, struct part *p, struct err *e)
{
	int fd = openat(b->dirfd, p->name, O_WRONLY | O_CREAT | O_APPEND |
		O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return err_set(e, -errno, "cannot open '%s/%s': %s", b->dir.tmp,
			p->name, strerror(errno));
	rc = write2_full(fd, b->header.buf, b->header.len,
		p->buf.buf ? p->buf.buf : "", p->buf.len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		return err_set(e, rc, "cannot write '%s': %s", p->name,
			strerror(-rc));
	p->created = 1;
	sb_release(&p->buf);
	return 0;
}

/* finish's second thread: the parts marked helper, one file at a time. */
struct helper {
	const struct bykey *b;
	pthread_t th;
	int rc;
	int64_t opens;
	struct err e;
};

static void *
helper_main(void *arg)
{
	struct helper *h = arg;
	size_t i;

	for (i = 0; h->rc == 0 && i < h->b->parts.n; i++)
		if (h->b->parts.v[i]->helper) {
			h->rc = write_new(h->b, h->b->parts.v[i], &h->e);
			h->opens++;
		}
	return NULL;
}

/*
 * Hand every second part without a file to a helper thread; 1 when it
 * runs.  It holds one descriptor, so the cache keeps one fewer.
 */
static int
helper_start(struct bykey *b, struct helper *h, struct err *e)
{
	size_t i, fresh = 0;

	memset(h, 0, sizeof(*h));
	h->b = b;
	if (b->max_open < 2)
		return 0;
	while (b->nopen > b->max_open - 1) {
		int rc = close_part(b, b->lru_tail);

		if (rc < 0)
			return err_set(e, rc, "cannot close a by-key file: %s",
				strerror(-rc));
	}
	b->max_open--;
	for (i = 0; i < b->parts.n; i++) {
		struct part *p = b->parts.v[i];

		if (!p->created && p->fd < 0 && fresh++ % 2)
			p->helper = 1;
	}
	if (fresh < 2 || pthread_create(&h->th, NULL, helper_main, h) != 0) {
		for (i = 0; i < b->parts.n; i++)
			b->parts.v[i]->helper = 0;
		return 0;
	}
	return 1;
}

/* Sync the file system every SYNC_EVERY_MS until told to stop. */
struct syncer {
	int dirfd;
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
};

static void *
syncer_main(void *arg)
{
	struct syncer *sy = arg;
	struct timespec ts;

	pthread_mutex_lock(&sy->mu);
	while (!sy->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += SYNC_EVERY_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sy->cv, &sy->mu, &ts);
		if (sy->stop)
			break;
		pthread_mutex_unlock(&sy->mu);
		/* Only to start write-back early: the last syncfs decides. */
		(void)syncfs(sy->dirfd);
		pthread_mutex_lock(&sy->mu);
	}
	pthread_mutex_unlock(&sy->mu);
	return NULL;
}

static int
syncer_start(struct syncer *sy, int dirfd)
{
	memset(sy, 0, sizeof(*sy));
	sy->dirfd = dirfd;
	pthread_mutex_init(&sy->mu, NULL);
	pthread_cond_init(&sy->cv, NULL);
	if (pthread_create(&sy->th, NULL, syncer_main, sy) == 0)
		return 1;
	pthread_mutex_destroy(&sy->mu);
	pthread_cond_destroy(&sy->cv);
	return 0;
}

static void
syncer_stop(struct syncer *sy)
{
	pthread_mutex_lock(&sy->mu);
	sy->stop = 1;
	pthread_cond_signal(&sy->cv);
	pthread_mutex_unlock(&sy->mu);
	pthread_join(sy->th, NULL);
	pthread_mutex_destroy(&sy->mu);
	pthread_cond_destroy(&sy->cv);
}

/* Write every buffer, close every file, make it all durable. */
static int
finish(struct bykey *b, struct err *e)
{
	struct helper h;
	size_t i;
	int rc, helping;
#ifdef __linux__
	struct syncer sy;
	int syncing = syncer_start(&sy, b->dirfd);
#endif

	helping = helper_start(b, &h, e);
	rc = helping < 0 ? helping : 0;
	for (i = 0; rc == 0 && i < b->parts.n; i++)
		if (!b->parts.v[i]->helper)
			rc = flush_part(b, b->parts.v[i], e);
	if (helping > 0) {
		pthread_join(h.th, NULL);
		b->opens += h.opens;
		if (rc == 0 && h.rc < 0) {
			*e = h.e;
			rc = h.rc;
		}
	}
#ifdef __linux__
	if (syncing)
		syncer_stop(&sy);
#endif
	while (b->lru_head) {
		int c = close_part(b, b->lru_head);

		if (c < 0 && rc == 0)
			rc = err_set(e, c, "cannot close a by-key file: %s",
				strerror(-c));
	}
	if (rc < 0)
		return rc;
#ifdef __linux__
	/* One sync for the whole file system beats 100,000 fsyncs. */
	if (syncfs(b->dirfd) < 0)
		return err_set(e, -errno, "cannot sync '%s': %s", b->dir.tmp,
			strerror(errno));
#else
	for (i = 0; i < b->parts.n; i++) {
		int fd = openat(b->dirfd, b->parts.v[i]->name, O_RDONLY);

		if (fd < 0 || fsync(fd) < 0) {
			rc = err_set(e, -errno, "cannot sync '%s': %s",
				b->parts.v[i]->name, strerror(errno));
			if (fd >= 0)
				close(fd);
			return rc;
		}
		close(fd);
	}
#endif
	return 0;
}

static char *
rejects_path(const struct task_run *run)
{
	const char *r = task_run_str(run, "rejects");
	const char *out = task_run_str(run, "output");
	size_t n = strlen(out);

	if (r && *r)
		return xstrdup(r);
	while (n > 1 && out[n - 1] == '/')
		n--;
	return xasprintf("%.*s.rejects.csv", (int)n, out);
}

static void
bykey_release(struct bykey *b)
{
	size_t i;

	for (i = 0; i < b->parts.n; i++) {
		struct part *p = b->parts.v[i];

		if (p->fd >= 0)
			close(p->fd);
		sb_release(&p->buf);
		free(p->name);
		free(p);
	}
	free(b->parts.v);
	hash_release(&b->keys);
	free(b->proj);
	sb_release(&b->header);
	sb_release(&b->name);
	if (b->dirfd >= 0)
		close(b->dirfd);
}

static int
bykey_run(struct task_run *run, struct err *e)
{
	struct bykey b;
	struct rec_reader *r = NULL;
	struct rejects *rj = NULL;
	const char *fmt = task_run_str(run, "format");
	char *rj_path = NULL;
	int dir_open = 0, rc;
	size_t i;

	static const char *const required[] = { "input", "key", "output",
		NULL };

	rc = wh_require(run, required, e);
	if (rc < 0)
		return rc;
	memset(&b, 0, sizeof(b));
	b.run = run;
	b.dirfd = -1;
	hash_init(&b.keys, NULL);
	sb_init(&b.header);
	sb_init(&b.name);
	b.budget = size_field(run, "memory", BYKEY_DEFAULT_MEMORY);
	b.max_open = (int)task_run_int(run, "max_open_files", BYKEY_DEFAULT_OPEN);
	if (b.max_open < 1 || b.max_open > BYKEY_MAX_OPEN)
		b.max_open = BYKEY_DEFAULT_OPEN;
	b.nbuckets = (size_t)task_run_int(run, "buckets", 0);
	run->records_in = run->records_out = run->records_rejected = 0;

	rc = wh_input_open(run, &r, e);
	if (rc == 0)
		rc = setup_columns(&b, r, !fmt || !strcmp(fmt, "csv"), e);
	if (rc < 0)
		goto out;
	rj_path = rejects_path(run);
	rc = rejects_open(&rj, rj_path, e);
	if (rc == 0)
		rc = atomic_dir_open(&b.dir, task_run_str(run, "output"), e);
	if (rc < 0)
		goto out;
	dir_open = 1;
	b.dirfd = open(b.dir.tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b.dirfd < 0) {
		rc = err_set(e, -errno, "cannot open '%s': %s", b.dir.tmp,
			strerror(errno));
		goto out;
	}
	for (i = 0; i < b.nbuckets; i++) {
		char name[32];

		snprintf(name, sizeof(name), "part-%05zu.csv", i);
		new_part(&b, name);
	}
	rc = wh_each_record(run, r, rj, NULL, add_record, &b, e);
	if (rc == 0)
		rc = load_check_reject_ratio(run, rj_path, e);
	if (rc == 0)
		rc = finish(&b, e);
	if (rc == 0) {
		fprintf(run->log, "by-key: %zu files, %lld spills, %lld opens\n",
			b.parts.n, (long long)b.spills, (long long)b.opens);
		rc = atomic_dir_commit(&b.dir, e);
		dir_open = 0;
	}
out:
	/* The rejects file is written even when the split fails. */
	rc = load_rejects_commit(rj, run, rc, e);
	bykey_release(&b);
	if (dir_open)
		atomic_dir_abort(&b.dir);
	rec_reader_free(r);
	free(rj_path);
	return rc;
}

static int
bykey_validate(const char *file, const struct node *task, struct errs *errs)
{
	const struct node *n;
	int bad = wh_check_ratio(file, task, errs);
	char *end;
	long v;

	n = node_get(task, "buckets");
	if (n && n->type == NODE_SCALAR) {
		v = strtol(n->str, &end, 10);
		if (*end || v < 1 || v > 100000) {
			errs_addf(errs, -EINVAL, file, n->line, n->column,
				"buckets '%s' must be from 1 to 100000", n->str);
			bad++;
		}
	}
	n = node_get(task, "max_open_files");
	if (n && n->type == NODE_SCALAR) {
		v = strtol(n->str, &end, 10);
		if (*end || v < 1 || v > BYKEY_MAX_OPEN) {
			errs_addf(errs, -EINVAL, file, n->line, n->column,
				"max_open_files '%s' must be from 1 to %d", n->str,
				BYKEY_MAX_OPEN);
			bad++;
		}
	}
	n = node_get(task, "output");
	if (n && n->type == NODE_SCALAR && !node_get(task, "target") &&
	    (!*n->str || n->str[strlen(n->str) - 1] != '/')) {
		errs_addf(errs, -EINVAL, file, n->line, n->column,
			"output '%s' is a directory: end it with '/'", n->str);
		bad++;
	}
	return bad ? -EINVAL : 0;
}

const struct task_kind task_kind_by_key = {
	.name = "by-key",
	.summary = "split input into one CSV per key value (or N hash buckets)",
	.fields = bykey_fields,
	.target_field = "output",
	.validate = bykey_validate,
	.run = bykey_run,
};
