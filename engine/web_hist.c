/*
 * A DAG's history kept between requests, so the status of a range after
 * a change is built without reading the state database whole: ten years
 * of a five-task DAG are 18,250 records and 14,000 consumed rows, which
 * take a reader about 100 ms, while a running backfill changes a few
 * between two requests.  The database appends every instance whose row
 * or consumed rows are written to its list of changes (schema 6, its
 * triggers); a refresh reads the instances changed since the last change
 * it saw, each again, and every lease (a lease goes without its
 * instance's row when a run ends; they are few), in one read
 * transaction.  Whether each lease's run is alive is the clock's to say:
 * judged again at every refresh.  The targets are not kept here (the
 * graph looks at them at every build).  A database without the list (an
 * older schema) is read whole, as status does.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "graph.h"
#include "hash.h"
#include "state.h"
#include "status.h"
#include "web_priv.h"

/* More changes than this at once: reading everything again is cheaper. */
#define HIST_MAX_DELTA 2000

/* One instance with a record. */
struct hist_inst {
	struct inst_rec rec;		/* rec.attempts -1: its record went */
	struct { struct consumed_row *v; size_t n, cap; } rows;
					/* every attempt's, by insertion */
	int end_for;			/* the attempt end_ms is of (0: none) */
	int64_t end_ms;			/* when it finished, unix ms */
};

static const struct hash_type hist_keys = { "instance", NULL, 0 };

/*
 * The index key of (task, partition), both with a NUL between, in buf
 * (256 bytes) or, when longer, allocated (the caller frees it when it is
 * not buf); its length in *len.
 */
static char *
key_of(const char *task, const char *partition, char *buf, size_t *len)
{
	size_t t = strlen(task), p = strlen(partition);
	char *k = t + 1 + p > 256 ? xmalloc(t + 1 + p) : buf;

	memcpy(k, task, t);
	k[t] = '\0';
	memcpy(k + t + 1, partition, p);
	*len = t + 1 + p;
	return k;
}

static long
find(const struct web_hist *h, const char *task, const char *partition)
{
	char buf[256], *key;
	const struct hash_entry *x;
	size_t len;

	key = key_of(task, partition, buf, &len);
	x = hash_find(&h->index, key, len);
	if (key != buf)
		free(key);
	return x ? (long)x->num : -1;
}

static void
inst_clear(struct hist_inst *in)
{
	state_inst_rec_release(&in->rec);
	state_consumed_free(in->rows.v, in->rows.n);
	memset(in, 0, sizeof(*in));
}

void
web_hist_release(struct web_hist *h)
{
	uint64_t gen = h->gen, full = h->full_loads;
	size_t i;

	for (i = 0; i < h->n; i++)
		inst_clear(&h->in[i]);
	free(h->in);
	free(h->order);
	hash_release(&h->index);
	free(h->recs.v);
	free(h->rows.v);
	memset(h, 0, sizeof(*h));
	/* What pointed into it must see it moved. */
	h->gen = gen + 1;
	h->full_loads = full;
}

/* (task, partition) of instance a against b's, as ORDER BY partition, task. */
static int
cmp_key(const struct inst_rec *a, const char *task, const char *partition)
{
	int c = strcmp(a->partition, partition);

	return c ? c : strcmp(a->task, task);
}

/*
 * The instance of (task, partition), added without a record when new:
 * into the index, and into order by partition and task.
 */
static size_t
inst_get(struct web_hist *h, const char *task, const char *partition)
{
	char buf[256], *key;
	size_t len, lo, hi, i;
	struct hash_entry *x;
	int added = 0;

	key = key_of(task, partition, buf, &len);
	x = hash_add(&h->index, key, len, &added);
	if (key != buf)
		free(key);
	if (!x)
		abort();	/* more than HASH_MAX keys: memory ran out first */
	if (!added)
		return (size_t)x->num;
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 1024;
		h->in = xrealloc(h->in, h->cap * sizeof(*h->in));
		h->order = xrealloc(h->order, h->cap * sizeof(*h->order));
	}
	i = h->n++;
	memset(&h->in[i], 0, sizeof(h->in[i]));
	h->in[i].rec.task = xstrdup(task);
	h->in[i].rec.partition = xstrdup(partition);
	x->num = (int64_t)i;
	lo = 0;
	hi = i;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cmp_key(&h->in[h->order[mid]].rec, task, partition) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(h->order + lo + 1, h->order + lo, (i - lo) * sizeof(*h->order));
	h->order[lo] = (uint32_t)i;
	return i;
}

/* Take rows (in partition and task order) into their instances. */
static void
rows_take(struct web_hist *h, struct consumed_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		long k = find(h, rows[i].task, rows[i].partition);

		if (k < 0) {
			/* No record: what it consumed never counts. */
			state_consumed_row_release(&rows[i]);
			continue;
		}
		VEC_PUSH(h->in[k].rows, rows[i]);
	}
	free(rows);
}

/* Read dag's whole history. */
static int
load(struct web_hist *h, struct state *st, const struct dag *dag,
	int64_t now_ms, struct err *e)
{
	struct inst_rec *recs = NULL;
	struct consumed_row *rows = NULL;
	size_t n = 0, n_rows = 0, i;
	int rc;

	web_hist_release(h);
	hash_init(&h->index, &hist_keys);
	rc = state_instances(st, dag->name, NULL, NULL, now_ms, &recs, &n, e);
	if (rc == 0)
		rc = state_consumed_rows(st, dag->name, NULL, NULL, &rows,
			&n_rows, e);
	if (rc < 0) {
		state_inst_recs_free(recs, n);
		return rc;
	}
	hash_reserve(&h->index, n);
	for (i = 0; i < n; i++) {
		size_t k = inst_get(h, recs[i].task, recs[i].partition);

		state_inst_rec_release(&h->in[k].rec);
		h->in[k].rec = recs[i];
	}
	free(recs);
	rows_take(h, rows, n_rows);
	return 0;
}

/* Read the instance of key again: its record and what it consumed. */
static int
reread(struct web_hist *h, struct state *st, const struct inst_key *key,
	int64_t now_ms, struct err *e)
{
	struct consumed_row *rows = NULL;
	struct inst_rec r;
	size_t k, n = 0;
	int rc;

	rc = state_instance_get(st, h->dag->name, key->task, key->partition,
		now_ms, &r, e);
	if (rc < 0)
		return rc;
	if (rc == 0 && find(h, key->task, key->partition) < 0)
		return 0;	/* never had a record: nothing to keep */
	k = inst_get(h, key->task, key->partition);
	state_consumed_free(h->in[k].rows.v, h->in[k].rows.n);
	memset(&h->in[k].rows, 0, sizeof(h->in[k].rows));
	h->in[k].end_for = 0;
	state_inst_rec_release(&h->in[k].rec);
	if (rc == 0) {
		/* Its record went: kept for its key, skipped by views. */
		memset(&h->in[k].rec, 0, sizeof(h->in[k].rec));
		h->in[k].rec.task = xstrdup(key->task);
		h->in[k].rec.partition = xstrdup(key->partition);
		h->in[k].rec.attempts = -1;
		return 0;
	}
	h->in[k].rec = r;
	rc = state_consumed_rows(st, h->dag->name, key->task, key->partition,
		&rows, &n, e);
	if (rc < 0)
		return rc;
	rows_take(h, rows, n);
	return 0;
}

/* Has instance k a record (not one that went)? */
static int
recorded(const struct hist_inst *in)
{
	return in->rec.attempts >= 0;
}

/* Who holds each lease now (leases are few: read whole every time). */
static int
leases(struct web_hist *h, struct state *st, int64_t now_ms, struct err *e)
{
	struct inst_key *keys = NULL;
	size_t n = 0, i;
	int rc;

	rc = state_leases(st, h->dag->name, &keys, &n, e);
	if (rc < 0)
		return rc;
	for (i = 0; i < h->n; i++)
		h->in[i].rec.lease_run = h->in[i].rec.running = 0;
	for (i = 0; i < n; i++) {
		long k = find(h, keys[i].task, keys[i].partition);

		if (k < 0 || !recorded(&h->in[k]))
			continue;
		h->in[k].rec.lease_run = keys[i].run;
		/* Whether its run is alive: the clock's to say. */
		h->in[k].rec.running = state_run_alive(st, keys[i].run, now_ms);
	}
	state_inst_keys_free(keys, n);
	return 0;
}

int
web_hist_refresh(struct web_hist *h, struct state *st, const struct dag *dag,
	int64_t now_ms, struct err *e)
{
	struct inst_key *keys = NULL;
	int64_t top = 0;
	size_t n = 0, i;
	int rc, began, changed;

	if (!st)
		return 0;
	if (h->dag != dag) {
		web_hist_release(h);
		h->dag = dag;
	}
	if ((began = state_snapshot_begin(st, e)) < 0)
		return began;
	rc = state_changes(st, dag->name, h->valid ? h->seq : INT64_MAX,
		&keys, &n, &top, e);
	if (rc == -ENOTSUP) {
		state_snapshot_end(st, began);
		web_hist_release(h);
		return 0;
	}
	changed = n > 0;
	if (rc == -ESTALE || (rc == 0 && (!h->valid || n > HIST_MAX_DELTA))) {
		/* Everything again (the changes since may have been dropped). */
		state_inst_keys_free(keys, n);
		keys = NULL;
		n = 0;
		rc = state_changes(st, dag->name, INT64_MAX, &keys, &n, &top,
			e);
		h->full_loads++;
		if (rc == 0)
			rc = load(h, st, dag, now_ms, e);
		h->dag = dag;
		changed = 1;
	} else {
		for (i = 0; rc == 0 && i < n; i++)
			rc = reread(h, st, &keys[i], now_ms, e);
	}
	state_inst_keys_free(keys, n);
	if (rc == 0)
		rc = leases(h, st, now_ms, e);
	state_snapshot_end(st, began);
	if (rc < 0) {
		web_hist_release(h);
		return rc;
	}
	if (changed)
		h->gen++;
	h->valid = 1;
	h->seq = top;
	return 1;
}

/* When the need's attempt made finished, read once per attempt. */
static int64_t
made_end_ms(struct web_hist *h, struct state *st, struct hist_inst *need)
{
	if (need->end_for != need->rec.made) {
		need->end_ms = state_attempt_end_ms(st, h->dag->name,
			need->rec.task, need->rec.partition, need->rec.made);
		need->end_for = need->rec.made;
	}
	return need->end_ms;
}

void
web_hist_view(struct web_hist *h, struct state *st, const char *from,
	const char *to, struct status_history *out)
{
	char toz[32];
	size_t lo = 0, hi = h->n, i, j;

	snprintf(toz, sizeof(toz), "%sz", to);
	h->recs.n = 0;
	h->rows.n = 0;
	/* The partitions from..to, as state_instances takes them. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(h->in[h->order[mid]].rec.partition, from) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < h->n; i++) {
		struct hist_inst *in = &h->in[h->order[i]];

		if (strcmp(in->rec.partition, toz) > 0)
			break;
		if (!recorded(in))
			continue;
		VEC_PUSH(h->recs, &in->rec);
		/* What the attempt that made its target consumed. */
		for (j = 0; j < in->rows.n; j++) {
			struct consumed_row r = in->rows.v[j];
			long d;

			if (!in->rec.made || r.attempt != in->rec.made)
				continue;
			d = r.need_task ? find(h, r.need_task,
				r.need_partition) : -1;
			if (d >= 0 && recorded(&h->in[d])) {
				r.need_made = h->in[d].rec.made;
				if (r.need_made > r.need_attempt)
					r.need_made_ms = made_end_ms(h, st,
						&h->in[d]);
			}
			VEC_PUSH(h->rows, r);
		}
	}
	out->recs = (const struct inst_rec *const *)h->recs.v;
	out->n_recs = h->recs.n;
	out->rows = h->rows.v;
	out->n_rows = h->rows.n;
}

int
web_hist_span(const struct web_hist *h, char **first, char **last)
{
	size_t lo = 0, hi = h->n;

	*first = *last = NULL;
	while (lo < hi && !recorded(&h->in[h->order[lo]]))
		lo++;
	while (hi > lo && !recorded(&h->in[h->order[hi - 1]]))
		hi--;
	if (lo == hi)
		return -ENOENT;
	*first = xstrdup(h->in[h->order[lo]].rec.partition);
	*last = xstrdup(h->in[h->order[hi - 1]].rec.partition);
	return 0;
}
