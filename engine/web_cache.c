/*
 * The status of a range, kept between requests.  Building it (the
 * partitions, the instance graph with a look at every target, the state
 * database's rows, each done instance's definition digest) took hundreds
 * of milliseconds for ten years of a five-task DAG; the grid page asks
 * for it every second or two.  An entry is used again while the state
 * database has not changed (SQLite's data_version moves with every commit
 * of another connection) and it is younger than WEB_CACHE_TTL_MS, which
 * bounds how long a change that leaves the database alone (a target
 * deleted by hand, a lease that ran out) stays unseen.  A request without
 * a range is keyed by the span the database records (taken from the
 * DAG's kept history), so the grid and a backfill's progress over the
 * same dates share one entry; while that entry is fresh the span is not
 * asked again.  A build takes the history from web_hist.c, brought up to
 * date, and the digests from the answer it replaces (status_rebuild);
 * the answers built from a history that changed since are not used
 * again.  The server answers on one thread: no lock.
 */
#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "state.h"
#include "web_priv.h"

/* SQLite's count of commits by other connections, or -1 without state. */
static int64_t
data_version(struct state *st)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	if (!st || sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &q,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static void
drop(struct web_cached *x)
{
	if (x->valid)
		web_status_release(&x->s);
	memset(x, 0, sizeof(*x));
}

static int
same_key(const struct web_cached *x, const struct dag *dag, const char *from,
	const char *to)
{
	return x->valid && x->dag == dag && !strcmp(x->from, from ? from : "") &&
		!strcmp(x->to, to ? to : "");
}

/* Built from the database as it is now, and young enough. */
static int
fresh(const struct web_cached *x, int64_t version, int64_t now)
{
	return x->data_version == version && now - x->built_ms <
		WEB_CACHE_TTL_MS;
}

static const struct web_status *
reuse(struct web_ctx *c, struct web_cached *x)
{
	x->used = c->cache_tick;
	c->cache_hits++;
	return &x->s;
}

/*
 * An answer kept for dag to take the digests from: slot's own when it is
 * dag's (the same range, changed since), else dag's most recent.
 */
static const struct web_status *
prev_of(struct web_ctx *c, const struct dag *dag, const struct web_cached *slot)
{
	const struct web_cached *best = NULL;
	size_t i;

	if (slot->valid && slot->dag == dag)
		return &slot->s;
	for (i = 0; i < WEB_CACHE_SLOTS; i++) {
		const struct web_cached *x = &c->cache[i];

		if (x->valid && x->dag == dag && (!best || x->used > best->used))
			best = x;
	}
	return best ? &best->s : NULL;
}

/* dag's kept history, or the least recently used slot, made dag's. */
static struct web_hist *
hist_of(struct web_ctx *c, const struct dag *dag)
{
	struct web_hist *h = &c->hist[0];
	size_t i;

	for (i = 0; i < WEB_HIST_SLOTS; i++) {
		if (c->hist[i].dag == dag) {
			h = &c->hist[i];
			break;
		}
		if (!c->hist[i].dag || c->hist[i].used < h->used)
			h = &c->hist[i];
	}
	if (h->dag != dag)
		web_hist_release(h);
	h->used = c->cache_tick;
	return h;
}

/*
 * The answers of dag point into its kept history: when h changed since
 * gen, none is used again (each is built anew, taking only its digests
 * and graph from the old one).  Count the times h was read whole since
 * loads.
 */
static void
hist_changed(struct web_ctx *c, const struct web_hist *h, uint64_t gen,
	uint64_t loads)
{
	size_t i;

	c->history_reads += h->full_loads - loads;
	if (h->gen == gen)
		return;
	for (i = 0; i < WEB_CACHE_SLOTS; i++)
		if (c->cache[i].valid && c->cache[i].dag == h->dag)
			c->cache[i].data_version = -2;
}

/*
 * The span of partitions dag has records for, from its kept history
 * brought up to date (else from the database): 0 with *first and *last
 * the caller's, or -ENOENT.
 */
static int
span(struct web_ctx *c, struct state *st, const struct dag *dag,
	char **first, char **last)
{
	struct web_hist *h = hist_of(c, dag);
	uint64_t gen = h->gen, loads = h->full_loads;
	struct err ignore;
	int rc;

	err_clear(&ignore);
	rc = web_hist_refresh(h, st, dag, cli_now() * 1000, &ignore);
	hist_changed(c, h, gen, loads);
	if (rc == 1)
		return web_hist_span(h, first, last);
	return state_partition_span(st, dag->name, first, last, &ignore);
}

/*
 * Build dag from..to into slot, from what slot or another kept answer
 * knew and dag's kept history.
 */
static int
build(struct web_ctx *c, struct state *st, const struct dag *dag,
	const char *from, const char *to, struct web_cached *slot,
	struct err *e)
{
	struct web_hist *h = hist_of(c, dag);
	uint64_t gen = h->gen, loads = h->full_loads;
	struct web_status s;
	int rc;

	rc = web_status_rebuild(st, dag, from, to, cli_now(),
		prev_of(c, dag, slot), h, &s, e);
	hist_changed(c, h, gen, loads);
	drop(slot);
	if (rc < 0) {
		web_status_release(&s);
		return -1;
	}
	slot->s = s;
	return 0;
}

const struct web_status *
web_status_get(struct web_ctx *c, const struct dag *dag, const char *from,
	const char *to, struct err *e)
{
	struct state *st = web_state(c);
	int64_t version = data_version(st), now = clock_ms();
	struct web_cached *x, *slot = &c->cache[0];
	const struct web_status *found = NULL;
	char *first = NULL, *last = NULL;
	int unranged = !from || !to;
	size_t i;

	if ((from && strlen(from) >= sizeof(slot->from)) ||
	    (to && strlen(to) >= sizeof(slot->to))) {
		err_set(e, -EINVAL, "'%s' is not a partition",
			from && strlen(from) >= sizeof(slot->from) ? from : to);
		return NULL;
	}
	c->cache_tick++;
	/* No range asked: an answer for the recorded span, still fresh. */
	for (i = 0; unranged && i < WEB_CACHE_SLOTS; i++) {
		x = &c->cache[i];
		if (x->valid && x->dag == dag && x->unranged &&
		    fresh(x, version, now)) {
			found = reuse(c, x);
			goto out;
		}
	}
	/* The recorded span, when no range is asked: one key for both. */
	if (unranged && st && span(c, st, dag, &first, &last) == 0) {
		from = first;
		to = last;
	}
	for (i = 0; i < WEB_CACHE_SLOTS; i++) {
		x = &c->cache[i];
		if (same_key(x, dag, from, to)) {
			if (fresh(x, version, now)) {
				x->unranged |= unranged;
				found = reuse(c, x);
				goto out;
			}
			slot = x;
			break;
		}
		if (!x->valid || x->used < slot->used)
			slot = x;
	}
	c->cache_misses++;
	if (build(c, st, dag, from, to, slot, e) < 0)
		goto out;
	slot->valid = 1;
	slot->dag = dag;
	snprintf(slot->from, sizeof(slot->from), "%s", from ? from : "");
	snprintf(slot->to, sizeof(slot->to), "%s", to ? to : "");
	slot->data_version = version;
	slot->built_ms = now;
	slot->used = c->cache_tick;
	slot->unranged = unranged;
	found = &slot->s;
out:
	free(first);
	free(last);
	return found;
}

void
web_cache_forget(struct web_ctx *c, const struct dag *dag)
{
	size_t i;

	for (i = 0; dag && i < WEB_CACHE_SLOTS; i++)
		if (c->cache[i].valid && c->cache[i].dag == dag)
			drop(&c->cache[i]);
	for (i = 0; dag && i < WEB_HIST_SLOTS; i++)
		if (c->hist[i].dag == dag)
			web_hist_release(&c->hist[i]);
}

void
web_cache_expire(struct web_ctx *c, const struct dag *dag)
{
	size_t i;

	for (i = 0; i < WEB_CACHE_SLOTS; i++)
		if (c->cache[i].valid && c->cache[i].dag == dag)
			c->cache[i].data_version = -2;
}
