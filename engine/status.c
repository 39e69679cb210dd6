/*
 * The status of instances: the graph's verdict from the targets (done,
 * missing, waiting on an external input) joined with the state
 * database's history (the last attempt failed or timed out; a live run
 * holds the lease; the counts).  Precedence follows what a user can act
 * on: a live lease wins (someone is making it now), then an existing
 * target (the truth of completeness, whatever the history says), then
 * waiting, then a recorded failure, then a failed need.
 *
 * Instances are sorted by partition and, within one, in topological task
 * order, so one pass in index order sees a need of the same or an earlier
 * partition before its dependant: upstream_failed spreads in that pass.
 * A history row finds its instance by a binary search on the sorted
 * partition ids and a scan of that partition's few instances.
 *
 * Data staleness: a done instance is stale when the history says a need
 * was made again by a later attempt than the one it consumed, or an
 * external input file it consumed changed (size, mtime or inode), or was
 * gone when it finished (its consumer moved it away) and is there again:
 * a delivery again; or a table partition it consumed is gone (cleared,
 * or undone by an scd2 dimension's correction).  What needs a stale instance is stale
 * too.  The targets still decide what is complete; stale is shown, and
 * redone only when asked (run --rerun-stale).  Code staleness: each done
 * attempt records a digest of its resolved definition
 * (status_def_digest); a done instance whose definition digests
 * differently now is stale, and the reason names the fields that changed.
 */
#include "config.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dag.h"
#include "hash.h"
#include "node.h"
#include "state.h"
#include "target.h"
#include "task_kind.h"
#include "util.h"

/* first[p]: the first instance of partition p (n_inst when it has none). */
static size_t *
part_index(const struct graph *g)
{
	size_t *first = xcalloc(g->n_parts + 1, sizeof(*first));
	size_t i;

	for (i = 0; i <= g->n_parts; i++)
		first[i] = g->n_inst;
	for (i = g->n_inst; i-- > 0;)
		first[g->inst[i].part] = i;
	return first;
}

static long
find_part(const struct graph *g, const char *id)
{
	size_t lo = 0, hi = g->n_parts;

	/* Partition ids sort like their starts (a repeated hour's 'b' too). */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(g->parts[mid].id, id);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static long
find_inst(const struct status *s, long p, int t)
{
	const struct graph *g = s->g;
	size_t k;

	if (p < 0 || t < 0)
		return -1;
	for (k = s->part_first[p]; k < g->n_inst &&
	    g->inst[k].part == (uint32_t)p; k++)
		if (g->inst[k].task == (uint32_t)t)
			return (long)k;
	return -1;
}

long
status_find(const struct status *s, const char *task, const char *partition)
{
	return find_inst(s, find_part(s->g, partition),
		dag_task_index(s->g->dag, task));
}

/*
 * status_find for lookups in partition order (records, consumed rows):
 * the partition of the last one, or the next, before a binary search.
 */
static long
find_near(struct status *s, const char *task, const char *partition)
{
	const struct graph *g = s->g;
	size_t h = s->hint;
	long p = -1;

	if (h < g->n_parts && !strcmp(g->parts[h].id, partition))
		p = (long)h;
	else if (h + 1 < g->n_parts && !strcmp(g->parts[h + 1].id, partition))
		p = (long)h + 1;
	else
		p = find_part(g, partition);
	if (p >= 0)
		s->hint = (size_t)p;
	return find_inst(s, p, dag_task_index(g->dag, task));
}

/* One instance's state from its graph verdict, history and needs. */
static void
judge(struct status *s, size_t i)
{
	const struct graph *g = s->g;
	const struct instance *in = &g->inst[i];
	struct status_inst *si = &s->inst[i];
	const struct inst_rec *r = si->rec;
	uint32_t k;

	si->cause = STATUS_NO_CAUSE;
	si->state = INST_TODO;
	if (r && r->running) {
		si->state = INST_RUNNING;
	} else if (in->state == INST_DONE || in->state == INST_WAITING ||
	    in->state == INST_BLOCKED) {
		si->state = in->state;
	} else if (r && (r->state == ATTEMPT_FAILED ||
	    r->state == ATTEMPT_TIMEOUT || r->state == ATTEMPT_LOST)) {
		si->state = INST_FAILED;
	} else {
		for (k = 0; k < in->n_deps; k++) {
			uint32_t d = g->deps[in->dep_off + k];
			const struct status_inst *ds = &s->inst[d];

			if (ds->state != INST_FAILED &&
			    ds->state != INST_UPSTREAM_FAILED)
				continue;
			si->state = INST_UPSTREAM_FAILED;
			if (si->cause == STATUS_NO_CAUSE)
				si->cause = ds->state == INST_FAILED ? d :
					ds->cause;
		}
	}
	if (si->state == INST_BLOCKED)
		for (k = 0; k < in->n_deps && si->cause == STATUS_NO_CAUSE; k++) {
			uint32_t d = g->deps[in->dep_off + k];

			if (g->inst[d].state == INST_WAITING ||
			    g->inst[d].state == INST_BLOCKED)
				si->cause = d;
		}
}

/* Fields that do not shape what an instance makes. */
static int
ignored(const char *field)
{
	static const char *const names[] = { "description", "needs",
		"retries", "retry_delay", "timeout", "priority", "pool", "poll",
		NULL };
	size_t i;

	for (i = 0; names[i]; i++)
		if (!strcmp(names[i], field))
			return 1;
	return 0;
}

/*
 * A hash of v's canonical JSON (sorted keys, no spaces), as 16 hex
 * digits.  Every scalar is a string, so dumping the tree with its keys
 * sorted gives what parsing node_to_json's text and dumping that would;
 * a string that is not UTF-8 cannot be dumped either way and hashes as
 * "null", node_to_json's text then.
 */
static void
field_hash(const struct node *v, char out[17])
{
	struct strbuf canon;
	const char *text;

	sb_init(&canon);
	text = node_json_put_sorted(&canon, v) < 0 || !canon.len ? "null" :
		canon.buf;
	snprintf(out, 17, "%016llx", (unsigned long long)hash_bytes(text,
		strlen(text)));
	sb_release(&canon);
}

char *
status_def_digest(const struct dag *dag, size_t task,
	const struct partition *p)
{
	const struct task *t = &dag->tasks[task];
	struct resolve_env env;
	struct node *fields = NULL;
	struct strbuf text;
	struct node *o;
	struct err e;
	char h[17];
	size_t i;
	int rc;

	memset(&env, 0, sizeof(env));
	err_clear(&e);
	if (dag_resolve(dag, task, p, &env, &fields, NULL, &e) < 0 ||
	    !fields || fields->type != NODE_MAP) {
		node_free(fields);
		return NULL;
	}
	/* Written as json_dumps(JSON_SORT_KEYS | JSON_COMPACT) did. */
	o = node_new_map();
	for (i = 0; i < fields->n; i++) {
		if (ignored(fields->keys[i]->str))
			continue;
		field_hash(fields->items[i], h);
		node_map_set(o, fields->keys[i]->str, node_new_scalar(h));
	}
	snprintf(h, sizeof(h), "%016llx", (unsigned long long)hash_bytes(
		t->kind->name, strlen(t->kind->name)));
	node_map_set(o, "kind", node_new_scalar(h));
	sb_init(&text);
	rc = node_json_put_sorted(&text, o);
	node_free(o);
	node_free(fields);
	if (rc < 0) {
		sb_release(&text);
		return NULL;
	}
	return sb_detach(&text);
}

/*
 * Why the definition that made rec's target differs from now's, or NULL
 * when it does not (or either cannot be told).
 */
static char *
code_why(const char *then, const char *now)
{
	json_t *a, *b, *v;
	const char *k;
	struct strbuf sb;

	if (!then || !now || !strcmp(then, now))
		return NULL;
	a = json_loads(then, 0, NULL);
	b = json_loads(now, 0, NULL);
	sb_init(&sb);
	json_object_foreach(b, k, v) {
		json_t *w = json_object_get(a, k);

		if (!w || !json_equal(v, w))
			sb_addf(&sb, "%s%s", sb.len ? ", " : "", k);
	}
	json_object_foreach(a, k, v)
		if (!json_object_get(b, k))
			sb_addf(&sb, "%s%s (removed)", sb.len ? ", " : "", k);
	json_decref(a);
	json_decref(b);
	if (!sb.len) {
		sb_release(&sb);
		return NULL;
	}
	{
		char *why = xasprintf("its definition changed since it ran: %s",
			sb.buf);

		sb_release(&sb);
		return why;
	}
}

/*
 * The digest of instance i's definition now: prev's when prev (the same
 * loaded DAG) worked it out for the same task and partition, else made
 * here; kept in s->digest either way.
 */
static const char *
digest_now(struct status *s, size_t i, const struct status *prev,
	int same_parts)
{
	const struct graph *g = s->g;
	const struct instance *in = &g->inst[i];
	long k = -1;

	if (s->digest[i])
		return s->digest[i];
	if (prev && same_parts)
		k = find_inst(prev, (long)in->part, (int)in->task);
	else if (prev)
		k = find_inst(prev, find_part(prev->g, g->parts[in->part].id),
			(int)in->task);
	if (k >= 0 && prev->digest[k])
		s->digest[i] = xstrdup(prev->digest[k]);
	else
		s->digest[i] = status_def_digest(g->dag, in->task,
			&g->parts[in->part]);
	return s->digest[i];
}

/* Done instances whose definition now digests differently. */
static void
judge_code(struct status *s, const struct status *prev)
{
	const struct graph *g = s->g;
	int same_parts;
	size_t i;

	if (prev && (!prev->digest || prev->g->dag != g->dag))
		prev = NULL;
	/* The same partitions (the same range): prev's indexes are ours. */
	same_parts = prev && prev->g->n_parts == g->n_parts;
	for (i = 0; same_parts && i < g->n_parts; i++)
		same_parts = !strcmp(prev->g->parts[i].id, g->parts[i].id);
	for (i = 0; i < g->n_inst; i++) {
		struct status_inst *si = &s->inst[i];
		char *why;

		if (si->state != INST_DONE || !si->rec || !si->rec->def)
			continue;
		why = code_why(si->rec->def, digest_now(s, i, prev,
			same_parts));
		if (!why)
			continue;
		si->state = INST_STALE;
		si->why = why;
	}
}

/* Why row makes its consumer stale, or NULL when it does not. */
static char *
stale_why(const struct consumed_row *r)
{
	struct stat st;
	char when[32];
	int64_t mtime;

	if (r->need_task) {
		if (r->need_made <= r->need_attempt)
			return NULL;
		utc_stamp(r->need_made_ms / 1000, when, sizeof(when));
		return xasprintf("%s %s was made again at %s, after %s consumed "
			"it", r->need_task, r->need_partition, when, r->task);
	}
	if (!r->input || stat(r->input, &st) < 0)
		return NULL;	/* gone since: consumed, not changed */
	if (r->size < 0)
		return xasprintf("input '%s' was delivered again after %s "
			"consumed it", r->input, r->task);
	mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if ((int64_t)st.st_size == r->size && mtime == r->mtime_ns &&
	    (int64_t)st.st_ino == r->inode)
		return NULL;
	return xasprintf("input '%s' changed after %s consumed it (%lld bytes "
		"then, %lld now)", r->input, r->task, (long long)r->size,
		(long long)st.st_size);
}

/*
 * Why row makes its consumer stale when the table partition it consumed
 * is gone: its marker row was removed by clear, or by the reload of an
 * earlier partition of an scd2 dimension, which deletes the later
 * versions that lookups used.  Only tables: a marker goes only when its
 * partition is to be loaded again, whereas a file may be deleted to save
 * room (an old archive) while what was made from it stays good.  The
 * need's instance (d, its graph index, -1 when not in it) must be in the
 * graph, incomplete and not merely forced.  NULL when it is not so.
 */
static char *
gone_why(const struct status *s, const struct consumed_row *r, long d)
{
	const struct instance *in;

	if (!r->need_task || d < 0)
		return NULL;
	in = &s->g->inst[d];
	if (in->state == INST_DONE || in->forced ||
	    target_kind_of(s->g->dag, in->task) != &target_table_kind)
		return NULL;
	return xasprintf("%s %s is gone since %s consumed it (it will be loaded "
		"again)", r->need_task, r->need_partition, r->task);
}

/*
 * Mark the done instances that consumed something made again or changed,
 * then, until nothing changes, the done instances that consumed a stale
 * one (rows name the needs: a done instance has no needs in the graph).
 * The first row that makes an instance stale gives the reason, so the
 * rows' order (state_consumed's) is part of the answer.
 */
static void
judge_stale(struct status *s, const struct consumed_row *rows, size_t n,
	const struct status *prev)
{
	long *at = xcalloc(2 * n + 1, sizeof(*at));	/* consumer, need */
	size_t i;
	int changed = 1;

	for (i = 0; i < n; i++) {
		long k = find_near(s, rows[i].task, rows[i].partition);
		char *why;

		at[2 * i] = k;
		at[2 * i + 1] = k >= 0 && rows[i].need_task ? find_near(s,
			rows[i].need_task, rows[i].need_partition) : -1;
		if (k < 0 || s->inst[k].state != INST_DONE)
			continue;
		why = stale_why(&rows[i]);
		if (!why)
			why = gone_why(s, &rows[i], at[2 * i + 1]);
		if (!why)
			continue;
		s->inst[k].state = INST_STALE;
		s->inst[k].why = why;
	}
	judge_code(s, prev);
	while (changed) {
		changed = 0;
		for (i = 0; i < n; i++) {
			long k = at[2 * i], d = at[2 * i + 1];

			if (k < 0 || d < 0 || s->inst[k].state != INST_DONE ||
			    s->inst[d].state != INST_STALE)
				continue;
			s->inst[k].state = INST_STALE;
			s->inst[k].cause = (uint32_t)d;
			s->inst[k].why = xasprintf("needs %s %s, which is stale",
				rows[i].need_task, rows[i].need_partition);
			changed = 1;
		}
	}
	free(at);
}

/*
 * The first and last partition ids of the graph (needs included): the
 * state database's rows outside them match no instance, so they are not
 * read (a one-partition status of a DAG with years of history reads one
 * partition's rows).
 */
static void
graph_span(const struct graph *g, const char **from, const char **to)
{
	size_t i;

	*from = *to = NULL;
	for (i = 0; i < g->n_parts; i++) {
		const char *id = g->parts[i].id;

		if (!*from || strcmp(id, *from) < 0)
			*from = id;
		if (!*to || strcmp(id, *to) > 0)
			*to = id;
	}
}

int
status_build(struct status *s, const struct graph *g, struct state *db,
	int64_t now_ms, struct err *e)
{
	return status_rebuild(s, g, db, now_ms, NULL, e);
}

/* s for g, every instance without history yet. */
static void
status_init(struct status *s, const struct graph *g)
{
	memset(s, 0, sizeof(*s));
	s->g = g;
	s->inst = xcalloc(g->n_inst + 1, sizeof(*s->inst));
	s->part_first = part_index(g);
	s->digest = xcalloc(g->n_inst + 1, sizeof(*s->digest));
}

/* Judge every instance from its record (set), then count. */
static void
status_judge(struct status *s, const struct consumed_row *rows, size_t n,
	int history, const struct status *prev)
{
	const struct graph *g = s->g;
	size_t i;

	for (i = 0; i < g->n_inst; i++)
		judge(s, i);
	if (history)
		judge_stale(s, rows, n, prev);
	for (i = 0; i < g->n_inst; i++)
		if (g->inst[i].requested)
			s->count[s->inst[i].state]++;
}

int
status_rebuild(struct status *s, const struct graph *g, struct state *db,
	int64_t now_ms, const struct status *prev, struct err *e)
{
	struct consumed_row *rows = NULL;
	size_t n = 0, i;
	const char *from, *to;
	int rc;

	status_init(s, g);
	graph_span(g, &from, &to);
	if (db && !from)
		db = NULL;	/* no partition: nothing to read */
	if (db) {
		rc = state_instances(db, g->dag->name, from, to, now_ms,
			&s->recs, &s->n_recs, e);
		if (rc == 0)
			rc = state_consumed(db, g->dag->name, from, to, &rows,
				&n, e);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < s->n_recs; i++) {
		long k = find_near(s, s->recs[i].task, s->recs[i].partition);

		if (k >= 0)
			s->inst[k].rec = &s->recs[i];
	}
	status_judge(s, rows, n, db != NULL, prev);
	state_consumed_free(rows, n);
	return 0;
}

void
status_build_from(struct status *s, const struct graph *g,
	const struct status_history *h, const struct status *prev)
{
	const char *from, *to;
	size_t i;

	status_init(s, g);
	graph_span(g, &from, &to);
	if (!from)
		h = NULL;	/* no partition: no history */
	for (i = 0; h && i < h->n_recs; i++) {
		long k = find_near(s, h->recs[i]->task,
			h->recs[i]->partition);

		if (k >= 0)
			s->inst[k].rec = h->recs[i];
	}
	status_judge(s, h ? h->rows : NULL, h ? h->n_rows : 0, h != NULL,
		prev);
}

void
status_release(struct status *s)
{
	size_t i;

	if (!s)
		return;
	state_inst_recs_free(s->recs, s->n_recs);
	for (i = 0; s->inst && i < s->g->n_inst; i++)
		free(s->inst[i].why);
	for (i = 0; s->digest && i < s->g->n_inst; i++)
		free(s->digest[i]);
	free(s->digest);
	free(s->inst);
	free(s->part_first);
	memset(s, 0, sizeof(*s));
}

const char *
status_plan_label(enum inst_state st)
{
	switch (st) {
	case INST_DONE: return "done";
	case INST_TODO: return "run";
	case INST_WAITING: return "waiting";
	case INST_BLOCKED: return "blocked";
	default: return inst_state_name(st);
	}
}

/*
 * What instance in makes or looks for: its path, table, or pattern.  A
 * missing input is named by its absolute path (abs): the relative one
 * depends on where dag-cli ran, the first thing to doubt when an input
 * that exists is reported missing.
 */
static void
what(const struct graph *g, const struct instance *in, int abs,
	struct strbuf *sb)
{
	const struct task *t = &g->dag->tasks[in->task];
	const char *pat, *dir;
	struct node *fields = NULL;
	struct resolve_env env;
	struct err e;
	char *p;

	if (in->target) {
		p = abs ? path_abs(in->target) : xstrdup(in->target);
		sb_adds(sb, p);
		free(p);
		return;
	}
	if (t->target_type == TARGET_TABLE) {
		sb_addf(sb, "table %s, partition %s", t->table,
			g->parts[in->part].id);
		return;
	}
	/* A pattern check: say what it looks for, expanded. */
	graph_resolve_env((struct graph *)g, &env);
	if (dag_resolve(g->dag, in->task, &g->parts[in->part], &env, &fields,
	    NULL, &e) < 0)
		return;
	pat = node_get_str(fields, "pattern");
	dir = node_get_str(fields, "dir");
	p = abs ? path_abs(dir ? dir : ".") : xstrdup(dir ? dir : ".");
	if (pat)
		sb_addf(sb, "a file matching '%s' in %s", pat, p);
	free(p);
	node_free(fields);
}

static void
done_reason(const struct graph *g, const struct instance *in,
	struct strbuf *sb)
{
	size_t i;

	if (in->consumed) {
		sb_adds(sb, "input consumed: every instance that needs it is "
			"complete (");
		what(g, in, 0, sb);
		sb_adds(sb, " is gone)");
		return;
	}
	if (in->inputs && in->inputs->type == NODE_SEQ && in->inputs->n) {
		sb_adds(sb, "input found:");
		for (i = 0; i < in->inputs->n && i < 3; i++)
			sb_addf(sb, " %s", node_str(in->inputs->items[i]) ?
				node_str(in->inputs->items[i]) : "");
		if (in->inputs->n > 3)
			sb_addf(sb, " (+%zu more)", in->inputs->n - 3);
		return;
	}
	sb_adds(sb, "complete: ");
	what(g, in, 0, sb);
}

void
status_graph_reason(const struct graph *g, size_t i, struct strbuf *sb)
{
	const struct instance *in = &g->inst[i];
	const struct task *t = &g->dag->tasks[in->task];
	uint32_t k;

	switch (in->state) {
	case INST_DONE:
		done_reason(g, in, sb);
		return;
	case INST_WAITING:
		sb_adds(sb, "waiting for an external input: ");
		what(g, in, 1, sb);
		return;
	case INST_BLOCKED:
		for (k = 0; k < in->n_deps; k++) {
			const struct instance *d = &g->inst[g->deps[in->dep_off + k]];

			if (d->state != INST_WAITING && d->state != INST_BLOCKED)
				continue;
			sb_addf(sb, "blocked by a need: %s %s (%s)",
				g->dag->tasks[d->task].name, g->parts[d->part].id,
				status_plan_label(d->state));
			return;
		}
		sb_adds(sb, "blocked by a need");
		return;
	default:
		if (in->forced)
			sb_adds(sb, "forced: ");
		else if (t->kind->probe)
			sb_adds(sb, "will poll for an external input: ");
		else if (t->target_type == TARGET_NONE)
			sb_adds(sb, "no target: runs every time");
		else
			sb_adds(sb, "target missing: ");
		what(g, in, 0, sb);
		return;
	}
}

void
status_reason(const struct status *s, size_t i, struct strbuf *sb)
{
	const struct graph *g = s->g;
	const struct status_inst *si = &s->inst[i];
	const struct inst_rec *r = si->rec;
	const struct instance *c;

	switch (si->state) {
	case INST_STALE:
		sb_adds(sb, si->why ? si->why : "stale");
		return;
	case INST_RUNNING:
		sb_addf(sb, "attempt %d running: a live run holds its lease",
			r ? r->attempts : 0);
		return;
	case INST_FAILED:
		sb_addf(sb, "attempt %d %s", r ? r->attempts : 0,
			r && r->state == ATTEMPT_TIMEOUT ? "timed out" :
			r && r->state == ATTEMPT_LOST ? "lost" : "failed");
		return;
	case INST_UPSTREAM_FAILED:
		if (si->cause == STATUS_NO_CAUSE) {
			sb_adds(sb, "a need failed");
			return;
		}
		c = &g->inst[si->cause];
		sb_addf(sb, "needs %s %s, which failed",
			g->dag->tasks[c->task].name, g->parts[c->part].id);
		return;
	case INST_TODO:
		if (r && r->state == ATTEMPT_INTERRUPTED) {
			sb_addf(sb, "attempt %d was interrupted; ", r->attempts);
		}
		status_graph_reason(g, i, sb);
		return;
	default:
		status_graph_reason(g, i, sb);
		return;
	}
}

static json_t *
count_json(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

json_t *
status_inst_json(const struct status *s, size_t i, unsigned flags)
{
	const struct graph *g = s->g;
	const struct instance *in = &g->inst[i];
	const struct inst_rec *r = s->inst[i].rec;
	json_t *o = json_object();
	struct strbuf sb;

	json_object_set_new(o, "task", json_string(g->dag->tasks[in->task].name));
	json_object_set_new(o, "partition", json_string(g->parts[in->part].id));
	json_object_set_new(o, "state",
		json_string(inst_state_name(s->inst[i].state)));
	json_object_set_new(o, "attempts", json_integer(r ? r->attempts : 0));
	json_object_set_new(o, "records_in", count_json(r ? r->records_in : -1));
	json_object_set_new(o, "records_out",
		count_json(r ? r->records_out : -1));
	json_object_set_new(o, "records_rejected",
		count_json(r ? r->records_rejected : -1));
	json_object_set_new(o, "duration_s", r && r->attempts &&
		r->state != ATTEMPT_RUNNING ? json_real(r->duration_s) :
		json_null());
	/* Provenance, when the run that made it loaded a file under git. */
	if (r && r->git_commit) {
		json_object_set_new(o, "commit", json_string(r->git_commit));
		json_object_set_new(o, "dirty", json_boolean(r->git_dirty));
	}
	if (!(flags & STATUS_JSON_REASON) && s->inst[i].state != INST_STALE)
		return o;
	sb_init(&sb);
	status_reason(s, i, &sb);
	json_object_set_new(o, "reason", json_string(sb.buf ? sb.buf : ""));
	sb_release(&sb);
	return o;
}

size_t
status_runs(const struct status *s, size_t task, size_t part_from,
	size_t max_parts, struct status_run **out, size_t *next_part)
{
	const struct graph *g = s->g;
	struct { struct status_run *v; size_t n, cap; } runs = { 0 };
	size_t p, end = g->n_parts;

	if (max_parts && part_from < end && max_parts < end - part_from)
		end = part_from + max_parts;
	for (p = part_from; p < end; p++) {
		long k = find_inst(s, (long)p, (int)task);
		struct status_run *last = runs.n ? &runs.v[runs.n - 1] : NULL;
		uint8_t st;

		if (k < 0 || !g->inst[k].requested)
			continue;
		st = s->inst[k].state;
		if (last && last->state == st) {
			last->last = (uint32_t)p;
			last->count++;
			continue;
		}
		VEC_GROW(runs, runs.n + 1);
		runs.v[runs.n].task = (uint32_t)task;
		runs.v[runs.n].first = runs.v[runs.n].last = (uint32_t)p;
		runs.v[runs.n].count = 1;
		runs.v[runs.n].state = st;
		runs.n++;
	}
	*next_part = end;
	*out = runs.v;
	return runs.n;
}
