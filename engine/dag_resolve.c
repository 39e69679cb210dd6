/*
 * Expansion: an instance's fields, target and database with every
 * template reference replaced by its value for one partition (dates
 * shifted in the DAG's zone, params, the task's own fields, the targets
 * and files of its needs).  dag_resolve is the one place a task's
 * definition becomes the values its instance runs with.
 */
#include "config.h"
#include "dag_load.h"
#include "range.h"
#include "task_kind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- expansion ---- */

struct rctx {
	const struct dag *dag;
	size_t task;
	const struct partition *p;
	const struct resolve_env *env;
	struct err *e;
};

static int expand(struct rctx *c, const struct template *t, struct strbuf *out);

/* t moved by offset units of hours and less (days: zone_tm_days). */
static int64_t
shift(int64_t t, long off, char unit)
{
	switch (unit) {
	case 's': return t + off;
	case 'm': return t + off * 60;
	case 'h': return t + off * 3600;
	}
	return t;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
add_time(struct strbuf *out, const char *fmt, const struct tm *tm)
{
	char buf[256];
	size_t n = strftime(buf, sizeof(buf), fmt, tm);

	sb_add(out, buf, n);
}
#pragma GCC diagnostic pop

static int
expand_date(struct rctx *c, const struct tref *r, struct strbuf *out)
{
	const struct dag *dag = c->dag;
	struct zone *z = dag_priv(dag)->zone;
	int64_t t;
	struct partition q;
	struct tm tm;
	char buf[64];

	/* The partition's own date or id, as most targets use it: no clock. */
	if (!r->fmt && !r->unit && (r->kind == REF_PARTITION ||
	    (r->kind == REF_DATE && dag->schedule == SCHEDULE_DAILY))) {
		if (r->kind == REF_DATE)
			sb_add(out, c->p->id, 10);
		else
			sb_adds(out, c->p->id);
		return 0;
	}
	/* Days and weeks are calendar arithmetic: the day may not exist. */
	if (r->unit == 'd' || r->unit == 'w')
		t = zone_tm_days(z, c->p->start, (int64_t)r->offset *
			(r->unit == 'w' ? 7 : 1), &tm);
	else
		zone_tm(z, t = shift(c->p->start, r->offset, r->unit), &tm);
	if (r->fmt) {
		add_time(out, r->fmt, &tm);
		return 0;
	}
	switch (r->kind) {
	case REF_DATE:
		sb_addf(out, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday);
		return 0;
	case REF_HOUR:
		sb_addf(out, "%02d", tm.tm_hour);
		return 0;
	case REF_PARTITION:
		if (dag->schedule == SCHEDULE_DAILY && r->unit != 'h' &&
		    r->unit != 'm' && r->unit != 's') {
			sb_addf(out, "%04d-%02d-%02d", tm.tm_year + 1900,
				tm.tm_mon + 1, tm.tm_mday);
			return 0;
		}
		dag_partition_at(dag, t, &q);
		sb_adds(out, q.id);
		return 0;
	case REF_TS:
		zone_iso(z, t, buf, sizeof(buf));
		sb_adds(out, buf);
		return 0;
	}
	return 0;
}

static int
resolve_target_str(struct rctx *c, size_t task, const struct partition *p,
	struct strbuf *out)
{
	const struct task *t = &c->dag->tasks[task];
	struct rctx sub = *c;

	if (t->target_type == TARGET_TABLE) {
		sb_adds(out, t->table);
		return 0;
	}
	if (!t->target)
		return 0;
	sub.task = task;
	sub.p = p;
	return expand(&sub, t->target, out);
}

/*
 * Each partition of need nd from c's partition (those before the start
 * are satisfied and skipped), through fn, joined by spaces into out, or,
 * with words, each pushed onto that list.
 */
static int
each_need_part(struct rctx *c, const struct need *nd,
	int (*fn)(struct rctx *, const struct need *, const struct partition *,
	struct strbuf *), struct strbuf *out, struct node *words)
{
	struct strbuf one;
	int k, rc = 0, any = 0;

	sb_init(&one);
	for (k = nd->lo; k <= nd->hi; k++) {
		struct partition q;

		if (dag_partition_step(c->dag, c->p, k, &q) < 0)
			continue;
		sb_reset(&one);
		rc = fn(c, nd, &q, &one);
		if (rc < 0)
			break;
		if (!one.len)
			continue;
		if (words) {
			node_seq_push(words, node_new_scalar(one.buf));
			continue;
		}
		if (any++)
			sb_addc(out, ' ');
		sb_add(out, one.buf, one.len);
	}
	sb_release(&one);
	return rc;
}

static int
need_target_one(struct rctx *c, const struct need *nd,
	const struct partition *q, struct strbuf *out)
{
	const char *s = NULL;

	if (c->env && c->env->need_target)
		s = c->env->need_target(c->env->ctx, nd->task, q);
	if (s) {
		sb_adds(out, s);
		return 0;
	}
	return resolve_target_str(c, nd->task, q, out);
}

static const struct node *
need_files(struct rctx *c, const struct need *nd, const struct partition *q)
{
	if (c->env && c->env->need_files)
		return c->env->need_files(c->env->ctx, nd->task, q);
	return NULL;
}

static int
need_files_one(struct rctx *c, const struct need *nd,
	const struct partition *q, struct strbuf *out)
{
	const struct node *files = need_files(c, nd, q);
	size_t i;

	if (!files) {
		/* Not probed (a plain target check): its target is the file. */
		if (c->dag->tasks[nd->task].target)
			return resolve_target_str(c, nd->task, q, out);
		return err_set(c->e, -EINVAL, "the files of '%s' at %s are not "
			"known yet", c->dag->tasks[nd->task].name, q->id);
	}
	if (files->type == NODE_SCALAR) {
		sb_adds(out, files->str);
		return 0;
	}
	for (i = 0; i < files->n; i++) {
		if (i)
			sb_addc(out, ' ');
		if (files->items[i]->type == NODE_SCALAR)
			sb_adds(out, files->items[i]->str);
	}
	return 0;
}

static int
expand_ref(struct rctx *c, const struct tref *r, struct strbuf *out)
{
	const struct dag *dag = c->dag;
	const struct task *t = &dag->tasks[c->task];
	const char *s;

	switch (r->kind) {
	case REF_DATE:
	case REF_HOUR:
	case REF_PARTITION:
	case REF_TS:
		return expand_date(c, r, out);
	case REF_DAG:
		sb_adds(out, dag->name);
		return 0;
	case REF_TASK:
		sb_adds(out, t->name);
		return 0;
	case REF_ENV:
		s = getenv(r->name + 4);
		if (!s)
			return err_set(c->e, -EINVAL, "environment variable '%s' is "
				"not set (used by task '%s')", r->name + 4, t->name);
		sb_adds(out, s);
		return 0;
	case REF_PARAM:
		return expand(c, dag_priv(dag)->params[r->idx].t, out);
	case REF_FIELD: {
		const struct task_priv *tp = &dag_priv(dag)->tp[c->task];
		if ((size_t)r->idx < tp->n_fields && tp->fields[r->idx].t)
			return expand(c, tp->fields[r->idx].t, out);
		sb_adds(out, t->def->items[r->idx]->str);
		return 0;
	}
	case REF_TARGET:
		if (c->env && c->env->tmp_target) {
			sb_adds(out, c->env->tmp_target);
			return 0;
		}
		return resolve_target_str(c, c->task, c->p, out);
	case REF_NEED_TARGET:
		return each_need_part(c, &t->needs[r->idx], need_target_one, out,
			NULL);
	case REF_NEED_FILES:
		return each_need_part(c, &t->needs[r->idx], need_files_one, out,
			NULL);
	}
	return err_set(c->e, -EINVAL, "unbound name '%s'", r->name);
}

static struct node *files_node(struct rctx *c, const struct tref *r);

/* Append s[0..n) quoted for q (enum tquote). */
static void
put_quoted(struct strbuf *out, const char *s, size_t n, int q)
{
	size_t i;

	if (q == TQ_WORD)
		sb_addc(out, '\'');
	for (i = 0; i < n; i++) {
		if (s[i] == '\'' && q != TQ_DOUBLE)
			sb_adds(out, "'\\''");	/* close, a quote, reopen */
		else if (q == TQ_DOUBLE && strchr("$`\"\\", s[i]))
			sb_addc(out, '\\');
		if (s[i] != '\'' || q == TQ_DOUBLE)
			sb_addc(out, s[i]);
	}
	if (q == TQ_WORD)
		sb_addc(out, '\'');
}

/*
 * A reference in a shell command, quoted for where it stands (r->quote):
 * a list (the targets or files of a need) as one word each, anything
 * else as one word, whatever it holds.
 */
static int
expand_quoted(struct rctx *c, const struct tref *r, struct strbuf *out)
{
	struct node *words = NULL;
	struct strbuf one;
	size_t i, n = 0;
	int rc = 0;

	if (r->kind == REF_NEED_FILES) {
		words = files_node(c, r);
		if (!words)
			return -EINVAL;
	} else if (r->kind == REF_NEED_TARGET) {
		words = node_new_seq();
		rc = each_need_part(c, &c->dag->tasks[c->task].needs[r->idx],
			need_target_one, NULL, words);
	}
	if (words) {
		for (i = 0; rc == 0 && i < words->n; i++) {
			const struct node *w = words->items[i];

			if (w->type != NODE_SCALAR || !*w->str)
				continue;
			if (n++)
				sb_addc(out, ' ');
			put_quoted(out, w->str, strlen(w->str), r->quote);
		}
		node_free(words);
		return rc;
	}
	sb_init(&one);
	rc = expand_ref(c, r, &one);
	if (rc == 0)
		put_quoted(out, one.buf ? one.buf : "", one.len, r->quote);
	sb_release(&one);
	return rc;
}

static int
expand(struct rctx *c, const struct template *t, struct strbuf *out)
{
	size_t i;
	int rc;

	if (!t)
		return 0;
	for (i = 0; i < t->n; i++) {
		if (t->parts[i].text) {
			sb_add(out, t->parts[i].text, t->parts[i].len);
			continue;
		}
		if (t->parts[i].ref.quote)
			rc = expand_quoted(c, &t->parts[i].ref, out);
		else
			rc = expand_ref(c, &t->parts[i].ref, out);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static char *
expand_str(struct rctx *c, const struct template *t)
{
	struct strbuf sb;

	sb_init(&sb);
	if (expand(c, t, &sb) < 0) {
		sb_release(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

/* {needs.X.files} alone: the list of files itself, not their joined text. */
static struct node *
files_node(struct rctx *c, const struct tref *r)
{
	const struct task *t = &c->dag->tasks[c->task];
	const struct need *nd = &t->needs[r->idx];
	struct node *list = node_new_seq();
	int k;
	size_t i;

	for (k = nd->lo; k <= nd->hi; k++) {
		struct partition q;
		const struct node *f;

		if (dag_partition_step(c->dag, c->p, k, &q) < 0)
			continue;
		f = need_files(c, nd, &q);
		if (!f) {
			struct strbuf sb;
			sb_init(&sb);
			if (need_files_one(c, nd, &q, &sb) < 0) {
				sb_release(&sb);
				node_free(list);
				return NULL;
			}
			node_seq_push(list, node_new_scalar(sb.buf ? sb.buf : ""));
			sb_release(&sb);
			continue;
		}
		if (f->type == NODE_SCALAR)
			node_seq_push(list, node_new_scalar(f->str));
		for (i = 0; f->type == NODE_SEQ && i < f->n; i++)
			node_seq_push(list, node_clone(f->items[i]));
	}
	return list;
}

static struct node *
resolve_node(struct rctx *c, const struct node *v, const struct ttree *tt)
{
	struct node *n;
	size_t i;

	if (!tt || (!tt->t && !tt->kids))
		return node_clone(v);
	if (tt->t) {
		const struct tref *r = template_whole_ref(tt->t);
		char *s;

		if (r && r->kind == REF_NEED_FILES)
			n = files_node(c, r);
		else if ((s = expand_str(c, tt->t))) {
			n = node_new_scalar(s);
			free(s);
		} else {
			return NULL;
		}
		if (n) {
			n->line = v->line;
			n->column = v->column;
			n->quoted = 1;
		}
		return n;
	}
	n = node_clone(v);
	for (i = 0; i < v->n && i < tt->n; i++) {
		struct node *kid;

		if (!tt->kids[i].t && !tt->kids[i].kids)
			continue;
		kid = resolve_node(c, v->items[i], &tt->kids[i]);
		if (!kid) {
			node_free(n);
			return NULL;
		}
		node_free(n->items[i]);
		n->items[i] = kid;
	}
	return n;
}

int
dag_resolve_target(const struct dag *dag, size_t task,
	const struct partition *p, const struct resolve_env *env, char **target,
	struct err *e)
{
	struct rctx c = { dag, task, p, env, e };
	const struct task *t = &dag->tasks[task];

	*target = NULL;
	if (!t->target || t->target_type == TARGET_TABLE ||
	    t->target_type == TARGET_NONE)
		return 0;
	*target = expand_str(&c, t->target);
	return *target ? 0 : -EINVAL;
}

int
dag_resolve(const struct dag *dag, size_t task, const struct partition *p,
	const struct resolve_env *env, struct node **fields, char **target,
	struct err *e)
{
	struct rctx c = { dag, task, p, env, e };
	const struct task *t = &dag->tasks[task];
	const struct task_priv *tp = &dag_priv(dag)->tp[task];
	struct node *map;
	size_t i;
	int rc;

	*fields = NULL;
	if (target)
		*target = NULL;
	map = node_new_map();
	map->line = t->def->line;
	map->column = t->def->column;
	for (i = 0; i < t->def->n; i++) {
		struct node *v = resolve_node(&c, t->def->items[i],
			i < tp->n_fields ? &tp->fields[i] : NULL);
		struct node *key;

		if (!v) {
			node_free(map);
			return -EINVAL;
		}
		node_map_set(map, t->def->keys[i]->str, v);
		key = map->keys[map->n - 1];
		key->line = t->def->keys[i]->line;
		key->column = t->def->keys[i]->column;
	}
	if (target) {
		rc = dag_resolve_target(dag, task, p, env, target, e);
		if (rc < 0) {
			node_free(map);
			return rc;
		}
	}
	*fields = map;
	return 0;
}

/* The resolved 'database' of an instance, or NULL (caller frees). */
char *
dag_resolve_database(const struct dag *dag, size_t task,
	const struct partition *p, const struct resolve_env *env, struct err *e)
{
	struct rctx c = { dag, task, p, env, e };

	if (!dag->tasks[task].database)
		return NULL;
	return expand_str(&c, dag->tasks[task].database);
}

void
dag_task_run_init(struct task_run *run, const struct dag *dag, size_t task,
	const struct partition *p, const struct partition_info *info,
	const struct node *fields, const char *database)
{
	memset(run, 0, sizeof(*run));
	run->dag = dag->name;
	run->task = dag->tasks[task].name;
	run->partition = p->id;
	run->date = info->date;
	run->hour = info->hour;
	run->start_iso = info->start_iso;
	run->end_iso = info->end_iso;
	run->start = p->start;
	run->end = p->end;
	run->fields = fields;
	run->database = database;
	run->prepared = dag->tasks[task].prepared;
	run->records_in = run->records_out = run->records_rejected = -1;
}
