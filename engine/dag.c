/*
 * Loading a DAG file: the YAML tree is checked top to bottom and every
 * problem is collected (not just the first), each with its file:line:col.
 * Task fields are checked generically from the common table below and the
 * kind's own field table (type, required, unknown names with a "did you
 * mean"), then the kind's validate hook sees the task.  Templates are
 * compiled here and every name in them is bound to what it refers to, so
 * an unknown name is a load error and expanding an instance later cannot
 * meet one.  Expansion (dag_resolve) lives at the end of this file.
 */
#include "config.h"
#include "dag.h"
#include "dag_priv.h"
#include "range.h"
#include "task_kind.h"
#include "template.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct load {
	const char *path;
	struct errs *errs;
	struct dag *dag;
	struct dag_priv *priv;
	const struct node *defaults;
	int failed;
};

static void lerr(struct load *L, const struct node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void lerr_at(struct load *L, int line, int column, const char *fmt,
	va_list ap) __attribute__((format(printf, 4, 0)));

static void
lerr_at(struct load *L, int line, int column, const char *fmt, va_list ap)
{
	struct err e;
	size_t i;

	err_clear(&e);
	e.code = -EINVAL;
	snprintf(e.file, sizeof(e.file), "%s", L->path);
	e.line = line;
	e.column = column;
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	L->failed = 1;
	/* A template compiled for two roles (target and field) reports once. */
	for (i = 0; i < L->errs->n; i++)
		if (L->errs->v[i].line == line && L->errs->v[i].column == column &&
		    !strcmp(L->errs->v[i].msg, e.msg))
			return;
	errs_add(L->errs, &e);
}

static void
lerr(struct load *L, const struct node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lerr_at(L, at ? at->line : 0, at ? at->column : 0, fmt, ap);
	va_end(ap);
}

static void lerr_line(struct load *L, int line, int column, const char *fmt,
	...) __attribute__((format(printf, 4, 5)));

static void
lerr_line(struct load *L, int line, int column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lerr_at(L, line, column, fmt, ap);
	va_end(ap);
}

static void lerr_pos(struct load *L, const struct node *at, size_t pos,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * An error at byte pos of scalar at: exact when the scalar sits on one
 * line (a quote shifts it by one), else the scalar's own position.
 */
static void
lerr_pos(struct load *L, const struct node *at, size_t pos, const char *fmt,
	...)
{
	int col = at->column;
	va_list ap;

	if (at->type == NODE_SCALAR && !strchr(at->str, '\n'))
		col += (int)pos + (at->quoted ? 1 : 0);
	va_start(ap, fmt);
	lerr_at(L, at->line, col, fmt, ap);
	va_end(ap);
}

/* ---- names and suggestions ---- */

/* The candidate nearest to name, when near enough to be a typo; or NULL. */
static const char *
nearest(const char *name, const char *const *cand, size_t n)
{
	const char *best = NULL;
	int bestd = 1 << 30;
	size_t i;
	int len = (int)strlen(name), limit = (len + 2) / 3;

	for (i = 0; i < n; i++) {
		int d = edit_distance(name, cand[i]);
		if (d < bestd) {
			bestd = d;
			best = cand[i];
		}
	}
	return bestd <= limit && bestd < len ? best : NULL;
}

static int
valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '_')
			return 0;
	return 1;
}

/* Params may use capitals too ({Root}); nothing else. */
static int
param_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* ---- field tables ---- */

static const struct field_spec common_fields[] = {
	{ "kind", FIELD_STRING, FIELD_REQUIRED, "the task kind" },
	{ "needs", FIELD_ANY, 0, "tasks this one needs, with offset: or range:" },
	{ "target", FIELD_ANY, 0, "a path, a directory/ or {table: NAME}" },
	{ "retries", FIELD_INT, 0, "extra attempts after a failure" },
	{ "retry_delay", FIELD_DURATION, 0, "wait before a retry, doubled each time" },
	{ "timeout", FIELD_DURATION, 0, "per attempt" },
	{ "pool", FIELD_STRING, 0, "a named limit from pools:" },
	{ "priority", FIELD_INT, 0, "higher runs first" },
	{ "description", FIELD_STRING, 0, "free text" },
	{ NULL, 0, 0, NULL },
};

static const struct field_spec *
spec_find(const struct field_spec *t, const char *name)
{
	for (; t && t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static const struct field_spec *
field_find(const struct task_kind *kind, const char *name)
{
	const struct field_spec *f = spec_find(common_fields, name);

	if (!f && kind)
		f = spec_find(kind->fields, name);
	return f;
}

static const char *
type_name(enum field_type t)
{
	switch (t) {
	case FIELD_STRING: return "a string";
	case FIELD_INT: return "an integer";
	case FIELD_NUMBER: return "a number";
	case FIELD_BOOL: return "true or false";
	case FIELD_DURATION: return "a duration (30s, 5m, 1h, 2d)";
	case FIELD_SIZE: return "a size in bytes (100, 10k, 5M, 1G)";
	case FIELD_LIST: return "a list";
	case FIELD_MAP: return "a map";
	case FIELD_ANY: return "a value";
	}
	return "a value";
}

static int
parse_int(const char *s, long long *v)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return *end || errno ? -1 : 0;
}

static int
parse_duration(const char *s, int64_t *ms)
{
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	return duration_parse(s, ms);
}

/* Check a scalar against type; 0 or -1 (an error was reported). */
static int
check_scalar(struct load *L, const char *field, const struct node *v,
	enum field_type type)
{
	uint64_t bytes;
	long long i;
	int64_t ms;
	char *end;

	switch (type) {
	case FIELD_INT:
		if (parse_int(v->str, &i) == 0)
			return 0;
		break;
	case FIELD_NUMBER:
		strtod(v->str, &end);
		if (*v->str && !*end)
			return 0;
		break;
	case FIELD_BOOL:
		if (!strcmp(v->str, "true") || !strcmp(v->str, "false") ||
		    !strcmp(v->str, "yes") || !strcmp(v->str, "no"))
			return 0;
		break;
	case FIELD_DURATION:
		if (parse_duration(v->str, &ms) == 0)
			return 0;
		lerr(L, v, "bad duration '%s' for '%s'; expected a number with "
			"s, m, h or d (30s, 5m, 1h, 2d)", v->str, field);
		return -1;
	case FIELD_SIZE:
		if (size_parse(v->str, &bytes) == 0)
			return 0;
		break;
	default:
		return 0;
	}
	lerr(L, v, "bad value '%s' for '%s'; expected %s", v->str, field,
		type_name(type));
	return -1;
}

static int
check_type(struct load *L, const char *field, const struct node *v,
	enum field_type type)
{
	size_t i;
	int rc = 0;

	switch (type) {
	case FIELD_ANY:
		return 0;
	case FIELD_MAP:
		if (v->type == NODE_MAP)
			return 0;
		break;
	case FIELD_LIST:
		if (v->type == NODE_SCALAR)
			return 0;
		if (v->type != NODE_SEQ)
			break;
		for (i = 0; i < v->n; i++) {
			if (v->items[i]->type == NODE_SCALAR)
				continue;
			lerr(L, v->items[i], "each item of '%s' must be a string, "
				"not %s", field, node_type_name(v->items[i]));
			rc = -1;
		}
		return rc;
	default:
		if (v->type == NODE_SCALAR)
			return check_scalar(L, field, v, type);
		break;
	}
	lerr(L, v, "'%s' must be %s, not %s", field, type_name(type),
		node_type_name(v));
	return -1;
}

/* ---- templates ---- */

static const char *const builtin_names[] = {
	"date", "hour", "partition", "ts", "dag", "task", "target",
};

/* strftime conversions we accept (a typo in a format is a load error). */
static int
check_format(const char *fmt, const char **bad)
{
	const char *s;

	for (s = fmt; (s = strchr(s, '%')); s++) {
		const char *c = s + 1;
		if (*c == 'E' || *c == 'O')
			c++;
		if (!*c || !strchr("aAbBcCdDeFgGhHIjmMnprRSTuUVwWxXyYzZ%", *c)) {
			*bad = s;
			return -1;
		}
		s = c;
	}
	return 0;
}

struct bind {
	struct load *L;
	const struct node *at;		/* the scalar, for positions */
	struct task *task;		/* NULL for params */
	const struct task_kind *kind;
};

static int
param_index(const struct dag_priv *priv, const char *name)
{
	size_t i;

	for (i = 0; i < priv->n_params; i++)
		if (!strcmp(priv->params[i].name, name))
			return (int)i;
	return -1;
}

static int
key_index(const struct node *map, const char *key)
{
	size_t i;

	if (!map || map->type != NODE_MAP)
		return -1;
	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->str, key))
			return (int)i;
	return -1;
}

static void
unknown_name(struct bind *b, struct tref *r)
{
	struct { const char **v; size_t n, cap; } c = { 0 };
	const char *near;
	size_t i;

	for (i = 0; i < ARRAY_LEN(builtin_names); i++)
		VEC_PUSH(c, builtin_names[i]);
	for (i = 0; i < b->L->priv->n_params; i++)
		VEC_PUSH(c, b->L->priv->params[i].name);
	if (b->task)
		for (i = 0; i < b->task->def->n; i++)
			VEC_PUSH(c, b->task->def->keys[i]->str);
	near = nearest(r->name, c.v, c.n);
	if (near)
		lerr_pos(b->L, b->at, r->pos, "unknown name '%s' in template; "
			"did you mean '%s'?", r->name, near);
	else
		lerr_pos(b->L, b->at, r->pos, "unknown name '%s' in template; "
			"expected a param, a task field or one of date, hour, "
			"partition, ts, dag, task, env.NAME, needs.TASK.target",
			r->name);
	free(c.v);
}

static int
need_of(struct task *t, const struct dag *dag, const char *name)
{
	size_t i;

	for (i = 0; i < t->n_needs; i++)
		if (!strcmp(dag->tasks[t->needs[i].task].name, name))
			return (int)i;
	return -1;
}

static void
bind_ref(struct bind *b, struct tref *r)
{
	static const struct { const char *name; int kind; } builtins[] = {
		{ "date", REF_DATE }, { "hour", REF_HOUR },
		{ "partition", REF_PARTITION }, { "ts", REF_TS },
		{ "dag", REF_DAG }, { "task", REF_TASK },
	};
	struct load *L = b->L;
	const char *bad;
	size_t i;
	int k;

	r->kind = REF_UNKNOWN;
	for (i = 0; i < ARRAY_LEN(builtins); i++)
		if (!strcmp(r->name, builtins[i].name))
			r->kind = builtins[i].kind;
	if ((r->unit || r->fmt) && (r->kind < REF_DATE || r->kind > REF_TS)) {
		lerr_pos(L, b->at, r->pos, "'%s' takes no offset or format; only "
			"date, hour, partition and ts do", r->name);
		return;
	}
	if (r->fmt && check_format(r->fmt, &bad) < 0) {
		lerr_pos(L, b->at, r->pos, "bad format '%s' in '{%s:%s}'; expected "
			"strftime conversions like %%Y%%m%%d", r->fmt, r->name,
			r->fmt);
		return;
	}
	if (r->kind != REF_UNKNOWN)
		return;
	if (!strncmp(r->name, "env.", 4) && r->name[4] &&
	    !strchr(r->name + 4, '.')) {
		r->kind = REF_ENV;
		return;
	}
	if (!strncmp(r->name, "needs.", 6)) {
		const char *task = r->name + 6, *dot = strchr(task, '.');
		char *tname;

		if (!b->task) {
			lerr_pos(L, b->at, r->pos, "'{%s}' can only be used in a "
				"task's fields", r->name);
			return;
		}
		if (!dot || (strcmp(dot, ".target") && strcmp(dot, ".files"))) {
			lerr_pos(L, b->at, r->pos, "bad reference '{%s}'; expected "
				"{needs.TASK.target} or {needs.TASK.files}", r->name);
			return;
		}
		tname = xstrndup(task, (size_t)(dot - task));
		k = need_of(b->task, L->dag, tname);
		if (k < 0)
			lerr_pos(L, b->at, r->pos, "'{%s}': task '%s' is not in the "
				"needs of task '%s'", r->name, tname, b->task->name);
		free(tname);
		r->idx = k;
		r->kind = !strcmp(dot, ".target") ? REF_NEED_TARGET : REF_NEED_FILES;
		return;
	}
	if (!strcmp(r->name, "target")) {
		if (!b->task) {
			lerr_pos(L, b->at, r->pos, "'{target}' can only be used in a "
				"task's fields");
			return;
		}
		r->kind = REF_TARGET;
		return;
	}
	if ((k = param_index(L->priv, r->name)) >= 0) {
		r->kind = REF_PARAM;
		r->idx = k;
		return;
	}
	if (b->task && (k = key_index(b->task->def, r->name)) >= 0) {
		const struct node *v = b->task->def->items[k];
		if (v->type != NODE_SCALAR) {
			lerr_pos(L, b->at, r->pos, "'{%s}' refers to field '%s', "
				"which is %s, not a string", r->name, r->name,
				node_type_name(v));
			return;
		}
		r->kind = REF_FIELD;
		r->idx = k;
		return;
	}
	unknown_name(b, r);
}

static struct template *
compile_at(struct load *L, const struct node *v, unsigned flags,
	struct task *task)
{
	struct template *t;
	struct bind b = { L, v, task, task ? task->kind : NULL };
	struct err e;
	size_t pos = 0, i;

	if (template_compile(v->str, flags, &t, &pos, &e) < 0) {
		lerr_pos(L, v, pos, "%s", e.msg);
		return NULL;
	}
	for (i = 0; i < t->n; i++)
		if (!t->parts[i].text)
			bind_ref(&b, &t->parts[i].ref);
	return t;
}

static void
ttree_release(struct ttree *tt)
{
	size_t i;

	if (!tt)
		return;
	template_free(tt->t);
	for (i = 0; i < tt->n; i++)
		ttree_release(&tt->kids[i]);
	free(tt->kids);
	memset(tt, 0, sizeof(*tt));
}

/* Compile every scalar under v (a templated field may be a list or map). */
static void
ttree_build(struct load *L, const struct node *v, unsigned flags,
	struct task *task, struct ttree *tt)
{
	size_t i;

	memset(tt, 0, sizeof(*tt));
	if (v->type == NODE_SCALAR) {
		tt->t = compile_at(L, v, flags, task);
		return;
	}
	tt->n = v->n;
	tt->kids = xcalloc(v->n ? v->n : 1, sizeof(*tt->kids));
	for (i = 0; i < v->n; i++)
		ttree_build(L, v->items[i], flags, task, &tt->kids[i]);
}

/* ---- top level ---- */

static const char *const top_keys[] = {
	"dag", "description", "schedule", "timezone", "start", "params",
	"defaults", "pools", "executor", "tasks",
};

static const struct node *
top_get(struct load *L, const char *key, enum node_type type, int required)
{
	const struct node *v = node_get(L->dag->root, key);

	if (!v) {
		if (required)
			lerr(L, L->dag->root, "missing '%s:' at the top level", key);
		return NULL;
	}
	if (v->type != type) {
		lerr(L, v, "'%s' must be %s, not %s", key,
			type == NODE_MAP ? "a map" : type == NODE_SEQ ? "a list" :
			"a string", node_type_name(v));
		return NULL;
	}
	return v;
}

static const char *const executor_keys[] = {
	"name", "partition", "account", "options",
};

/*
 * executor: local | slurm, or a map of name, partition, account and
 * options (a list of sbatch options).  Kept as pointers into the tree.
 */
static void
load_executor(struct load *L, const struct node *v)
{
	struct dag_executor *x = &L->dag->executor;
	const struct node *name = v, *f;
	size_t i;

	if (v->type == NODE_MAP) {
		for (i = 0; i < v->n; i++) {
			const char *k = v->keys[i]->str, *near;
			size_t j;

			for (j = 0; j < ARRAY_LEN(executor_keys); j++)
				if (!strcmp(k, executor_keys[j]))
					break;
			if (j < ARRAY_LEN(executor_keys))
				continue;
			near = nearest(k, executor_keys, ARRAY_LEN(executor_keys));
			lerr(L, v->keys[i], "unknown executor field '%s'; %s%s%s", k,
				near ? "did you mean '" : "expected name, partition, "
				"account or options", near ? near : "", near ? "'?" : "");
		}
		name = node_get(v, "name");
		if (!name) {
			lerr(L, v, "executor: needs a name (local or slurm)");
			return;
		}
		if ((f = node_get(v, "partition")) && f->type == NODE_SCALAR)
			x->partition = f->str;
		else if (f)
			lerr(L, f, "'partition' must be a string");
		if ((f = node_get(v, "account")) && f->type == NODE_SCALAR)
			x->account = f->str;
		else if (f)
			lerr(L, f, "'account' must be a string");
		if ((f = node_get(v, "options"))) {
			int ok = f->type == NODE_SEQ;

			for (i = 0; ok && i < f->n; i++)
				ok = f->items[i]->type == NODE_SCALAR;
			if (ok)
				x->options = f;
			else
				lerr(L, f, "'options' must be a list of sbatch "
					"options");
		}
	}
	if (name->type != NODE_SCALAR) {
		lerr(L, name, "'executor' must be local, slurm or a map");
		return;
	}
	if (strcmp(name->str, "local") && strcmp(name->str, "slurm"))
		lerr(L, name, "unknown executor '%s'; expected local or slurm",
			name->str);
	else
		x->name = name->str;
}

static void
load_top(struct load *L)
{
	struct dag *dag = L->dag;
	const struct node *root = dag->root, *v;
	struct err e;
	size_t i;

	for (i = 0; i < root->n; i++) {
		const char *k = root->keys[i]->str, *near;
		size_t j;

		for (j = 0; j < ARRAY_LEN(top_keys); j++)
			if (!strcmp(k, top_keys[j]))
				break;
		if (j < ARRAY_LEN(top_keys))
			continue;
		near = nearest(k, top_keys, ARRAY_LEN(top_keys));
		if (near)
			lerr(L, root->keys[i], "unknown top-level key '%s'; did you "
				"mean '%s'?", k, near);
		else
			lerr(L, root->keys[i], "unknown top-level key '%s'; expected "
				"dag, description, schedule, timezone, start, params, "
				"defaults, pools, executor or tasks", k);
	}
	if ((v = top_get(L, "dag", NODE_SCALAR, 1))) {
		if (!valid_name(v->str))
			lerr(L, v, "bad DAG name '%s'; expected lowercase letters, "
				"digits and '_'", v->str);
		dag->name = xstrdup(v->str);
	}
	if ((v = top_get(L, "description", NODE_SCALAR, 0)))
		dag->description = xstrdup(v->str);
	dag->schedule = SCHEDULE_DAILY;
	if ((v = top_get(L, "schedule", NODE_SCALAR, 0))) {
		if (!strcmp(v->str, "hourly"))
			dag->schedule = SCHEDULE_HOURLY;
		else if (strcmp(v->str, "daily"))
			lerr(L, v, "bad schedule '%s'; expected daily or hourly",
				v->str);
	}
	dag->timezone = xstrdup("UTC");
	if ((v = top_get(L, "timezone", NODE_SCALAR, 0))) {
		free(dag->timezone);
		dag->timezone = xstrdup(v->str);
	}
	if (zone_open(dag->timezone, &L->priv->zone, &e) < 0) {
		lerr(L, v, "%s", e.msg);
		zone_open("UTC", &L->priv->zone, &e);
	}
	if ((v = top_get(L, "start", NODE_SCALAR, 1))) {
		int y, m, d, n = 0;

		if (sscanf(v->str, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
		    n != 10 || v->str[n] || v->str[4] != '-' || v->str[7] != '-' ||
		    m < 1 || m > 12 || d < 1 || d > civil_month_days(y, m)) {
			lerr(L, v, "bad start date '%s'; expected YYYY-MM-DD", v->str);
		} else {
			dag->start = xstrdup(v->str);
			dag->start_epoch = zone_to_utc(L->priv->zone,
				civil_days(y, m, d) * 86400);
		}
	}
	if ((v = node_get(root, "executor")))
		load_executor(L, v);
	if ((v = top_get(L, "pools", NODE_MAP, 0))) {
		dag->pools = xcalloc(v->n ? v->n : 1, sizeof(*dag->pools));
		for (i = 0; i < v->n; i++) {
			long long lim;
			struct pool_limit *p = &dag->pools[dag->n_pools++];

			p->name = xstrdup(v->keys[i]->str);
			p->limit = 1;
			if (v->items[i]->type != NODE_SCALAR ||
			    parse_int(v->items[i]->str, &lim) < 0 || lim < 1 ||
			    lim > 1000000)
				lerr(L, v->items[i], "bad limit for pool '%s'; expected "
					"a positive integer", p->name);
			else
				p->limit = (int)lim;
		}
	}
}

static void
load_params(struct load *L)
{
	const struct node *v = top_get(L, "params", NODE_MAP, 0);
	struct dag_priv *priv = L->priv;
	size_t i;

	if (!v)
		return;
	priv->params = xcalloc(v->n ? v->n : 1, sizeof(*priv->params));
	for (i = 0; i < v->n; i++) {
		struct param *p = &priv->params[priv->n_params++];

		p->name = xstrdup(v->keys[i]->str);
		p->node = v->items[i];
		if (!param_name(p->name))
			lerr(L, v->keys[i], "bad param name '%s'; expected letters, "
				"digits and '_'", p->name);
		else if (p->node->type != NODE_SCALAR)
			lerr(L, p->node, "param '%s' must be a string, not %s",
				p->name, node_type_name(p->node));
	}
	/* Bind after all names are known: params may use later params. */
	for (i = 0; i < priv->n_params; i++)
		if (priv->params[i].node->type == NODE_SCALAR)
			priv->params[i].t = compile_at(L, priv->params[i].node, 0,
				NULL);
}

/* A reference cycle among params: DFS with colours. */
static int
param_cycle(struct load *L, size_t i, char *colour, size_t *stack, size_t depth)
{
	struct dag_priv *priv = L->priv;
	struct template *t = priv->params[i].t;
	size_t k;

	colour[i] = 1;
	stack[depth] = i;
	for (k = 0; t && k < t->n; k++) {
		const struct tref *r = &t->parts[k].ref;
		size_t j;

		if (t->parts[k].text || r->kind != REF_PARAM)
			continue;
		j = (size_t)r->idx;
		if (colour[j] == 1) {
			struct strbuf sb;
			size_t d;

			sb_init(&sb);
			for (d = 0; d <= depth && stack[d] != j; d++)
				;
			for (; d <= depth; d++)
				sb_addf(&sb, "%s -> ", priv->params[stack[d]].name);
			sb_adds(&sb, priv->params[j].name);
			lerr_pos(L, priv->params[i].node, r->pos, "params refer to "
				"each other in a cycle: %s", sb.buf);
			sb_release(&sb);
			return -1;
		}
		if (colour[j] == 0 && param_cycle(L, j, colour, stack, depth + 1) < 0)
			return -1;
	}
	colour[i] = 2;
	return 0;
}

static void
check_param_cycles(struct load *L)
{
	size_t n = L->priv->n_params, i;
	char *colour = xcalloc(n + 1, 1);
	size_t *stack = xcalloc(n + 1, sizeof(*stack));

	for (i = 0; i < n; i++)
		if (!colour[i] && param_cycle(L, i, colour, stack, 0) < 0)
			break;
	free(colour);
	free(stack);
}

/* ---- tasks ---- */

/*
 * A field is valid in defaults: when some kind (or the common table)
 * knows it; a default applies to a task only when the task's kind does.
 */
static void
check_defaults(struct load *L)
{
	const struct node *d = top_get(L, "defaults", NODE_MAP, 0);
	size_t i, k;

	L->defaults = d;
	for (i = 0; d && i < d->n; i++) {
		const char *name = d->keys[i]->str;
		int known = spec_find(common_fields, name) != NULL;

		for (k = 0; !known && task_kinds[k]; k++)
			known = spec_find(task_kinds[k]->fields, name) != NULL;
		if (!known)
			lerr(L, d->keys[i], "unknown field '%s' in defaults; no task "
				"kind has it", name);
		else if (!strcmp(name, "needs") || !strcmp(name, "target"))
			lerr(L, d->keys[i], "'%s' cannot be defaulted; set it on "
				"each task", name);
	}
}

static struct node *
task_def(struct load *L, const struct node *map)
{
	struct node *def = node_clone(map);
	const struct task_kind *kind;
	const char *kname = node_get_str(map, "kind");
	size_t i;

	if (!L->defaults)
		return def;
	if (!kname)
		kname = node_get_str(L->defaults, "kind");
	kind = kname ? task_kind_find(kname) : NULL;
	for (i = 0; i < L->defaults->n; i++) {
		const char *k = L->defaults->keys[i]->str;
		struct node *key;

		if (key_index(def, k) >= 0 || !strcmp(k, "needs") ||
		    !strcmp(k, "target"))
			continue;
		if (!spec_find(common_fields, k) && (!kind ||
		    !spec_find(kind->fields, k)))
			continue;
		/* node_map_set would lose the key's position; append by hand. */
		node_map_set(def, k, node_clone(L->defaults->items[i]));
		key = def->keys[def->n - 1];
		key->line = L->defaults->keys[i]->line;
		key->column = L->defaults->keys[i]->column;
	}
	return def;
}

static void
unknown_field(struct load *L, const struct task *t, const struct node *key)
{
	struct { const char **v; size_t n, cap; } c = { 0 };
	const struct field_spec *f;
	const char *near;

	for (f = common_fields; f->name; f++)
		VEC_PUSH(c, f->name);
	for (f = t->kind ? t->kind->fields : NULL; f && f->name; f++)
		VEC_PUSH(c, f->name);
	near = nearest(key->str, c.v, c.n);
	if (near)
		lerr(L, key, "unknown field '%s' for kind '%s'; did you mean '%s'?",
			key->str, t->kind->name, near);
	else
		lerr(L, key, "unknown field '%s' for kind '%s'; 'dag-cli kinds %s' "
			"lists its fields", key->str, t->kind->name, t->kind->name);
	free(c.v);
}

static void
check_fields(struct load *L, struct task *t)
{
	const struct node *def = t->def;
	const struct field_spec *f;
	size_t i;

	for (i = 0; i < def->n; i++) {
		const char *k = def->keys[i]->str;

		f = field_find(t->kind, k);
		if (!f) {
			unknown_field(L, t, def->keys[i]);
			continue;
		}
		check_type(L, k, def->items[i], f->type);
	}
	for (f = t->kind->fields; f->name; f++)
		if ((f->flags & FIELD_REQUIRED) && key_index(def, f->name) < 0)
			lerr_line(L, t->line, t->column, "task '%s' lacks '%s', "
				"which kind '%s' requires", t->name, f->name,
				t->kind->name);
}

static void
common_values(struct load *L, struct task *t)
{
	const struct node *v;
	long long n;
	size_t i;

	t->retry_delay_ms = 30000;
	t->pool = -1;
	if ((v = node_get(t->def, "retries")) && v->type == NODE_SCALAR &&
	    parse_int(v->str, &n) == 0) {
		if (n < 0 || n > 1000)
			lerr(L, v, "bad value '%s' for 'retries'; expected 0 to 1000",
				v->str);
		t->retries = (int)n;
	}
	if ((v = node_get(t->def, "retry_delay")) && v->type == NODE_SCALAR)
		parse_duration(v->str, &t->retry_delay_ms);
	if ((v = node_get(t->def, "timeout")) && v->type == NODE_SCALAR)
		parse_duration(v->str, &t->timeout_ms);
	if ((v = node_get(t->def, "priority")) && v->type == NODE_SCALAR &&
	    parse_int(v->str, &n) == 0)
		t->priority = (int)n;
	if ((v = node_get(t->def, "description")) && v->type == NODE_SCALAR)
		t->description = xstrdup(v->str);
	if ((v = node_get(t->def, "pool")) && v->type == NODE_SCALAR) {
		const char **names = xcalloc(L->dag->n_pools + 1, sizeof(*names));
		const char *near;

		for (i = 0; i < L->dag->n_pools; i++) {
			names[i] = L->dag->pools[i].name;
			if (!strcmp(names[i], v->str))
				t->pool = (int)i;
		}
		if (t->pool < 0) {
			near = nearest(v->str, names, L->dag->n_pools);
			if (near)
				lerr(L, v, "unknown pool '%s'; did you mean '%s'?",
					v->str, near);
			else
				lerr(L, v, "unknown pool '%s'; declare it under 'pools:' "
					"at the top level", v->str);
		}
		free(names);
	}
}

/* Parse an offset like -1d, 6h, 0 into partitions; 0 or -1 (reported). */
static int
need_offset(struct load *L, const struct node *v, int *out)
{
	const char *s = v->str;
	char *end;
	long n;
	int hourly = L->dag->schedule == SCHEDULE_HOURLY;

	if (v->type != NODE_SCALAR)
		goto bad;
	n = strtol(s, &end, 10);
	if (end == s || n < -100000 || n > 100000)
		goto bad;
	if (!*end) {
		*out = (int)n;
		return 0;
	}
	if (end[1])
		goto bad;
	switch (*end) {
	case 'd':
		*out = (int)(hourly ? n * 24 : n);
		return 0;
	case 'w':
		*out = (int)(hourly ? n * 24 * 7 : n * 7);
		return 0;
	case 'h':
		if (hourly) {
			*out = (int)n;
			return 0;
		}
		if (n % 24 == 0) {
			*out = (int)(n / 24);
			return 0;
		}
		lerr(L, v, "bad offset '%s'; the DAG is daily, so offsets are "
			"whole days", s);
		return -1;
	}
bad:
	lerr(L, v, "bad offset '%s'; expected a signed number of days or hours "
		"(-1d, 0d, -6h)", v->type == NODE_SCALAR ? v->str : "");
	return -1;
}

static const char *const *
task_names(const struct dag *dag)
{
	const char **v = xcalloc(dag->n_tasks + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < dag->n_tasks; i++)
		v[i] = dag->tasks[i].name;
	return v;
}

static void
unknown_need(struct load *L, const struct node *at, const char *name)
{
	const char *const *names = task_names(L->dag);
	const char *near = nearest(name, names, L->dag->n_tasks);

	if (near)
		lerr(L, at, "unknown task '%s' in needs; did you mean '%s'?", name,
			near);
	else
		lerr(L, at, "unknown task '%s' in needs; the DAG has no task of "
			"that name", name);
	free((void *)names);
}

static void
load_need(struct load *L, struct task *t, const struct node *e,
	struct need *out, int *ok)
{
	const struct node *task = e, *off, *range;
	int k;
	size_t i;

	*ok = 0;
	out->line = e->line;
	out->column = e->column;
	out->lo = out->hi = 0;
	if (e->type == NODE_MAP) {
		for (i = 0; i < e->n; i++) {
			const char *key = e->keys[i]->str;
			if (strcmp(key, "task") && strcmp(key, "offset") &&
			    strcmp(key, "range"))
				lerr(L, e->keys[i], "unknown key '%s' in a need; "
					"expected task, offset or range", key);
		}
		task = node_get(e, "task");
		off = node_get(e, "offset");
		range = node_get(e, "range");
		if (!task) {
			lerr(L, e, "a need given as a map must name its 'task'");
			return;
		}
		if (off && range) {
			lerr(L, range, "a need takes 'offset' or 'range', not both");
			return;
		}
		if (off) {
			if (need_offset(L, off, &out->lo) < 0)
				return;
			out->hi = out->lo;
		} else if (range) {
			if (range->type != NODE_SEQ || range->n != 2) {
				lerr(L, range, "'range' must be a list of two offsets, "
					"like [-6d, 0d]");
				return;
			}
			if (need_offset(L, range->items[0], &out->lo) < 0 ||
			    need_offset(L, range->items[1], &out->hi) < 0)
				return;
			if (out->lo > out->hi) {
				lerr(L, range, "'range' ends before it starts; expected "
					"[earlier, later]");
				return;
			}
		}
	}
	if (task->type != NODE_SCALAR) {
		lerr(L, task, "a need must be a task name or a map with 'task', "
			"not %s", node_type_name(task));
		return;
	}
	k = dag_task_index(L->dag, task->str);
	if (k < 0) {
		unknown_need(L, task, task->str);
		return;
	}
	if (k == (int)(t - L->dag->tasks) && out->lo <= 0 && out->hi >= 0) {
		lerr(L, task, "task '%s' needs itself in the same partition",
			t->name);
		return;
	}
	out->task = (size_t)k;
	*ok = 1;
}

static void
load_needs(struct load *L, struct task *t)
{
	const struct node *v = node_get(t->def, "needs");
	size_t i;
	int ok;

	if (!v)
		return;
	if (v->type == NODE_SCALAR) {
		t->needs = xcalloc(1, sizeof(*t->needs));
		load_need(L, t, v, &t->needs[0], &ok);
		t->n_needs = ok;
		return;
	}
	if (v->type != NODE_SEQ) {
		lerr(L, v, "'needs' must be a list, not %s", node_type_name(v));
		return;
	}
	t->needs = xcalloc(v->n ? v->n : 1, sizeof(*t->needs));
	for (i = 0; i < v->n; i++) {
		load_need(L, t, v->items[i], &t->needs[t->n_needs], &ok);
		t->n_needs += ok;
	}
}

static int
is_external(const struct task *t)
{
	return t->kind && t->kind->probe;
}

static void
load_target(struct load *L, struct task *t)
{
	const struct node *v = node_get(t->def, "target");
	const struct task_kind *kind = t->kind;

	t->target_type = TARGET_NONE;
	if (v && v->type == NODE_MAP) {
		const struct node *tab = node_get(v, "table");
		if (!kind->table_target) {
			lerr(L, v, "a {table: NAME} target needs a warehouse kind; "
				"kind '%s' writes files", kind->name);
			return;
		}
		if (!tab || tab->type != NODE_SCALAR || v->n != 1) {
			lerr(L, v, "a table target must be {table: NAME}");
			return;
		}
		t->target_type = TARGET_TABLE;
		t->table = xstrdup(tab->str);
		return;
	}
	if (v && v->type != NODE_SCALAR) {
		lerr(L, v, "'target' must be a path or {table: NAME}, not %s",
			node_type_name(v));
		return;
	}
	if (!v && kind->table_target) {
		const char *tab = node_get_str(t->def, "table");
		if (tab) {
			t->target_type = TARGET_TABLE;
			t->table = xstrdup(tab);
		}
		return;
	}
	if (!v && kind->target_field)
		v = node_get(t->def, kind->target_field);
	if (!v || v->type != NODE_SCALAR)
		return;
	if (!*v->str) {
		lerr(L, v, "empty target; expected a path");
		return;
	}
	t->target = compile_at(L, v, 0, t);
	if (!t->target)
		return;
	t->target_type = v->str[strlen(v->str) - 1] == '/' ? TARGET_DIR :
		TARGET_FILE;
}

static void
compile_fields(struct load *L, struct task *t, struct task_priv *tp)
{
	size_t i;

	tp->n_fields = t->def->n;
	tp->fields = xcalloc(t->def->n ? t->def->n : 1, sizeof(*tp->fields));
	for (i = 0; i < t->def->n; i++) {
		const char *k = t->def->keys[i]->str;
		const struct field_spec *f = field_find(t->kind, k);
		unsigned fl;

		if (!strcmp(k, "target")) {
			if (t->def->items[i]->type == NODE_SCALAR)
				ttree_build(L, t->def->items[i], 0, t, &tp->fields[i]);
			continue;
		}
		if (!f || !(f->flags & (FIELD_TEMPLATE | FIELD_REGEX)))
			continue;
		fl = (f->flags & FIELD_REGEX) ? TEMPLATE_REGEX : 0;
		ttree_build(L, t->def->items[i], fl, t, &tp->fields[i]);
	}
	{
		const struct node *db = node_get(t->def, "database");
		if (db && db->type == NODE_SCALAR)
			t->database = compile_at(L, db, 0, t);
	}
}

/* {target} inside the target, or fields that expand each other in a loop. */
static int
field_cycle(struct load *L, struct task *t, struct task_priv *tp, size_t i,
	char *colour)
{
	const struct template *tm = tp->fields[i].t;
	size_t k;

	colour[i] = 1;
	for (k = 0; tm && k < tm->n; k++) {
		const struct tref *r = &tm->parts[k].ref;
		int j = -1;

		if (tm->parts[k].text)
			continue;
		if (r->kind == REF_FIELD)
			j = (int)r->idx;
		else if (r->kind == REF_TARGET && t->target_type != TARGET_TABLE) {
			j = key_index(t->def, "target");
			if (j < 0 && t->kind->target_field)
				j = key_index(t->def, t->kind->target_field);
		}
		if (j < 0)
			continue;
		if (colour[j] == 1) {
			lerr_pos(L, t->def->items[i], r->pos, "'{%s}' in field '%s' "
				"of task '%s' refers back to itself", r->name,
				t->def->keys[i]->str, t->name);
			return -1;
		}
		if (colour[j] == 0 && field_cycle(L, t, tp, (size_t)j, colour) < 0)
			return -1;
	}
	colour[i] = 2;
	return 0;
}

static void
check_target_refs(struct load *L, struct task *t, struct task_priv *tp)
{
	size_t i, k;
	char *colour;

	for (i = 0; i < tp->n_fields; i++) {
		const struct template *tm = tp->fields[i].t;
		for (k = 0; tm && k < tm->n; k++)
			if (!tm->parts[k].text && tm->parts[k].ref.kind == REF_TARGET &&
			    t->target_type == TARGET_NONE)
				lerr_pos(L, t->def->items[i], tm->parts[k].ref.pos,
					"'{target}': task '%s' has no target", t->name);
	}
	colour = xcalloc(tp->n_fields + 1, 1);
	for (i = 0; i < tp->n_fields; i++)
		if (!colour[i] && field_cycle(L, t, tp, i, colour) < 0)
			break;
	free(colour);
}

/*
 * poll: re-checks until timeout, so without one a missing input would keep
 * the run checking forever instead of ending it as waiting.  A timeout
 * from defaults: counts (task_def has merged it); 0 means none.
 */
static void
check_poll(struct load *L, const struct task *t)
{
	int k = key_index(t->def, "poll");
	const struct node *to = node_get(t->def, "timeout");
	int64_t ms;

	if (k < 0 || !is_external(t))
		return;
	if (to && (to->type != NODE_SCALAR ||
	    parse_duration(to->str, &ms) < 0 || ms > 0))
		return;
	lerr(L, t->def->keys[k], "poll needs a timeout: how long to keep "
		"checking");
}

/*
 * Does task u have no target at all, so that {needs.U.target} would expand
 * to nothing?  A target that failed to load has been reported already.
 */
static int
lacks_target(const struct task *u)
{
	return u->kind && u->target_type == TARGET_NONE &&
		!u->kind->table_target && !node_get(u->def, "target") &&
		!(u->kind->target_field && node_get(u->def, u->kind->target_field));
}

/* {needs.U.target} in the templates tt compiled from v, U without a target. */
static void
need_target_refs(struct load *L, const struct task *t, const struct node *v,
	const struct ttree *tt)
{
	size_t i;

	for (i = 0; tt->t && i < tt->t->n; i++) {
		const struct tref *r = &tt->t->parts[i].ref;
		const struct task *u;

		if (tt->t->parts[i].text || r->kind != REF_NEED_TARGET ||
		    r->idx < 0)
			continue;
		u = &L->dag->tasks[t->needs[r->idx].task];
		if (!lacks_target(u))
			continue;
		if (node_get(u->def, "pattern"))
			lerr_pos(L, v, r->pos, "'{%s}': task '%s' has no target, "
				"it finds files by pattern; did you mean "
				"'{needs.%s.files}'?", r->name, u->name, u->name);
		else
			lerr_pos(L, v, r->pos, "'{%s}': task '%s' has no target",
				r->name, u->name);
	}
	for (i = 0; i < tt->n && i < v->n; i++)
		need_target_refs(L, t, v->items[i], &tt->kids[i]);
}

/* After every task's target is known: the needs' targets t refers to. */
static void
check_need_targets(struct load *L, const struct task *t,
	const struct task_priv *tp)
{
	size_t i;

	for (i = 0; i < tp->n_fields && i < t->def->n; i++)
		need_target_refs(L, t, t->def->items[i], &tp->fields[i]);
}

static void
load_tasks(struct load *L)
{
	const struct node *tasks = top_get(L, "tasks", NODE_MAP, 1);
	struct dag *dag = L->dag;
	size_t i;

	if (!tasks)
		return;
	if (!tasks->n) {
		lerr(L, tasks, "'tasks' is empty; a DAG needs at least one task");
		return;
	}
	dag->tasks = xcalloc(tasks->n, sizeof(*dag->tasks));
	L->priv->tp = xcalloc(tasks->n, sizeof(*L->priv->tp));
	dag->n_tasks = tasks->n;
	/* First pass: names, kinds, fields (needs refer to later tasks). */
	for (i = 0; i < tasks->n; i++) {
		struct task *t = &dag->tasks[i];
		const struct node *key = tasks->keys[i], *map = tasks->items[i];
		const char *kname;

		t->name = xstrdup(key->str);
		t->line = key->line;
		t->column = key->column;
		t->pool = -1;
		if (!valid_name(t->name))
			lerr(L, key, "bad task name '%s'; expected lowercase letters, "
				"digits and '_'", t->name);
		if (map->type != NODE_MAP) {
			lerr(L, map, "task '%s' must be a map of fields, not %s",
				t->name, node_type_name(map));
			t->def = node_new_map();
			continue;
		}
		t->def = task_def(L, map);
		kname = node_get_str(t->def, "kind");
		if (!node_get(t->def, "kind")) {
			lerr(L, key, "task '%s' has no 'kind'; 'dag-cli kinds' "
				"lists the kinds", t->name);
			continue;
		}
		if (!kname) {
			lerr(L, node_get(t->def, "kind"), "'kind' must be a string");
			continue;
		}
		t->kind = task_kind_find(kname);
		if (!t->kind) {
			const char **names = xcalloc(64, sizeof(*names));
			const char *near;
			size_t n = 0;

			while (n < 63 && task_kinds[n]) {
				names[n] = task_kinds[n]->name;
				n++;
			}
			near = nearest(kname, names, n);
			if (near)
				lerr(L, node_get(t->def, "kind"), "unknown task kind '%s'; "
					"did you mean '%s'?", kname, near);
			else
				lerr(L, node_get(t->def, "kind"), "unknown task kind '%s'; "
					"'dag-cli kinds' lists the kinds", kname);
			free(names);
		}
	}
	/* Second pass: everything that may name another task. */
	for (i = 0; i < dag->n_tasks; i++) {
		struct task *t = &dag->tasks[i];
		struct task_priv *tp = &L->priv->tp[i];
		size_t before = L->errs->n + L->errs->dropped;

		if (!t->kind)
			continue;
		check_fields(L, t);
		common_values(L, t);
		check_poll(L, t);
		load_needs(L, t);
		load_target(L, t);
		compile_fields(L, t, tp);
		check_target_refs(L, t, tp);
		tp->probe_target = is_external(t);
		tp->has_poll = node_get(t->def, "poll") != NULL;
		if (L->errs->n + L->errs->dropped == before && t->kind->validate &&
		    t->kind->validate(L->path, t->def, L->errs) < 0)
			L->failed = 1;
	}
	for (i = 0; i < dag->n_tasks; i++)
		if (dag->tasks[i].kind)
			check_need_targets(L, &dag->tasks[i], &L->priv->tp[i]);
}

/* ---- the task graph ---- */

/* An edge that links instances of the same partition. */
static int
same_partition(const struct need *n)
{
	return n->lo <= 0 && n->hi >= 0;
}

static int
zero_cycle(struct load *L, size_t i, char *colour, size_t *stack, size_t depth)
{
	struct task *t = &L->dag->tasks[i];
	size_t k;

	colour[i] = 1;
	stack[depth] = i;
	for (k = 0; k < t->n_needs; k++) {
		size_t j = t->needs[k].task;

		if (!same_partition(&t->needs[k]) || j == i)
			continue;
		if (colour[j] == 1) {
			struct strbuf sb;
			size_t d = 0;

			while (d < depth && stack[d] != j)
				d++;
			sb_init(&sb);
			for (; d <= depth; d++)
				sb_addf(&sb, "%s -> ", L->dag->tasks[stack[d]].name);
			sb_adds(&sb, L->dag->tasks[j].name);
			lerr_line(L, t->needs[k].line, t->needs[k].column,
				"needs form a cycle: %s", sb.buf);
			sb_release(&sb);
			return -1;
		}
		if (!colour[j] && zero_cycle(L, j, colour, stack, depth + 1) < 0)
			return -1;
	}
	colour[i] = 2;
	return 0;
}

/*
 * Needs with offsets can still close a loop of instances: a needs b the
 * day before and b needs a the day after.  Within a strongly connected
 * set of tasks, some closed walk reaches offset 0 exactly when one cycle
 * can sum to <= 0 (taking each need's lowest offset) and one to >= 0
 * (highest).  Found with Bellman-Ford on weights w*(n+1)-1, whose negative
 * cycles are the cycles with w-sum <= 0.
 */
static int
has_cycle_le0(const struct dag *dag, const int *comp, int c, int sign)
{
	size_t n = dag->n_tasks, i, k, round;
	int64_t *dist = xcalloc(n, sizeof(*dist));
	int changed = 1, found = 0;

	for (round = 0; round <= n && changed; round++) {
		changed = 0;
		for (i = 0; i < n; i++) {
			const struct task *t = &dag->tasks[i];
			if (comp[i] != c)
				continue;
			for (k = 0; k < t->n_needs; k++) {
				const struct need *nd = &t->needs[k];
				int64_t w;
				if (comp[nd->task] != c)
					continue;
				w = (int64_t)(sign > 0 ? nd->lo : -nd->hi) *
					(int64_t)(n + 1) - 1;
				if (dist[i] + w < dist[nd->task]) {
					dist[nd->task] = dist[i] + w;
					changed = 1;
				}
			}
		}
	}
	found = changed;
	free(dist);
	return found;
}

/* "-1d", "+6h", "-6d..+0d": a need's offsets as the file would say them. */
static void
offset_one(const struct dag *dag, int k, struct strbuf *sb)
{
	if (dag->schedule == SCHEDULE_HOURLY && k % 24)
		sb_addf(sb, "%+dh", k);
	else
		sb_addf(sb, "%+dd", dag->schedule == SCHEDULE_HOURLY ? k / 24 : k);
}

static void
offset_desc(const struct dag *dag, const struct need *nd, struct strbuf *sb)
{
	offset_one(dag, nd->lo, sb);
	if (nd->hi != nd->lo) {
		sb_adds(sb, "..");
		offset_one(dag, nd->hi, sb);
	}
}

struct tarjan {
	const struct dag *dag;
	int *index, *low, *comp, *stack;
	char *on;
	int sp, next, ncomp;
};

static void
tarjan_visit(struct tarjan *T, size_t v)
{
	const struct task *t = &T->dag->tasks[v];
	size_t k;

	T->index[v] = T->low[v] = T->next++;
	T->stack[T->sp++] = (int)v;
	T->on[v] = 1;
	for (k = 0; k < t->n_needs; k++) {
		size_t w = t->needs[k].task;
		if (T->index[w] < 0) {
			tarjan_visit(T, w);
			if (T->low[w] < T->low[v])
				T->low[v] = T->low[w];
		} else if (T->on[w] && T->index[w] < T->low[v]) {
			T->low[v] = T->index[w];
		}
	}
	if (T->low[v] == T->index[v]) {
		int w;
		do {
			w = T->stack[--T->sp];
			T->on[w] = 0;
			T->comp[w] = T->ncomp;
		} while (w != (int)v);
		T->ncomp++;
	}
}

static void
check_offset_cycles(struct load *L)
{
	const struct dag *dag = L->dag;
	size_t n = dag->n_tasks, i;
	struct tarjan T = { dag };
	int c;

	T.index = xcalloc(n, sizeof(int));
	T.low = xcalloc(n, sizeof(int));
	T.comp = xcalloc(n, sizeof(int));
	T.stack = xcalloc(n, sizeof(int));
	T.on = xcalloc(n, 1);
	for (i = 0; i < n; i++)
		T.index[i] = -1;
	for (i = 0; i < n; i++)
		if (T.index[i] < 0)
			tarjan_visit(&T, i);
	for (c = 0; c < T.ncomp; c++) {
		struct strbuf sb;
		size_t first = n;

		if (!has_cycle_le0(dag, T.comp, c, 1) ||
		    !has_cycle_le0(dag, T.comp, c, -1))
			continue;
		sb_init(&sb);
		for (i = 0; i < n; i++) {
			const struct task *t = &dag->tasks[i];
			size_t k;

			if (T.comp[i] != c)
				continue;
			if (first == n)
				first = i;
			for (k = 0; k < t->n_needs; k++) {
				const struct need *nd = &t->needs[k];
				if (T.comp[nd->task] != c)
					continue;
				sb_addf(&sb, "%s%s needs %s at ", sb.len ? ", " : "",
					t->name, dag->tasks[nd->task].name);
				offset_desc(dag, nd, &sb);
			}
		}
		lerr_line(L, dag->tasks[first].line, dag->tasks[first].column,
			"needs form a cycle among instances (the offsets cancel "
			"out): %s", sb.buf);
		sb_release(&sb);
	}
	free(T.index);
	free(T.low);
	free(T.comp);
	free(T.stack);
	free(T.on);
}

static void
check_cycles(struct load *L)
{
	size_t n = L->dag->n_tasks, i;
	char *colour = xcalloc(n + 1, 1);
	size_t *stack = xcalloc(n + 1, sizeof(*stack));
	int bad = 0;

	for (i = 0; i < n && !bad; i++)
		if (!colour[i] && zero_cycle(L, i, colour, stack, 0) < 0)
			bad = 1;
	free(colour);
	free(stack);
	if (!bad)
		check_offset_cycles(L);
}

/*
 * Needs before needers, file order among equals.  Needs on other
 * partitions may point either way, so only same-partition needs order
 * the tasks (all needs when they allow it).
 */
static void
topo_sort(struct dag *dag)
{
	size_t n = dag->n_tasks, i, k, done = 0;
	char *placed = xcalloc(n + 1, 1);
	int pass;

	dag->topo = xcalloc(n + 1, sizeof(*dag->topo));
	for (pass = 0; pass < 2 && done < n; pass++) {
		done = 0;
		memset(placed, 0, n);
		for (;;) {
			int progress = 0;
			for (i = 0; i < n; i++) {
				const struct task *t = &dag->tasks[i];
				if (placed[i])
					continue;
				for (k = 0; k < t->n_needs; k++) {
					const struct need *nd = &t->needs[k];
					if (nd->task != i && !placed[nd->task] &&
					    (pass == 0 || same_partition(nd)))
						break;
				}
				if (k < t->n_needs)
					continue;
				placed[i] = 1;
				dag->topo[done++] = i;
				progress = 1;
				break;
			}
			if (!progress)
				break;
		}
	}
	/* A cycle was reported already; keep file order for the rest. */
	for (i = 0; i < n && done < n; i++)
		if (!placed[i])
			dag->topo[done++] = i;
	free(placed);
}

static void
prepare_tasks(struct load *L)
{
	struct dag *dag = L->dag;
	size_t i;

	for (i = 0; i < dag->n_tasks; i++) {
		struct task *t = &dag->tasks[i];
		struct err e;

		if (!t->kind || !t->kind->prepare)
			continue;
		err_clear(&e);
		if (t->kind->prepare(t->def, &t->prepared, &e) < 0) {
			if (e.line)
				lerr_line(L, e.line, e.column, "%s", e.msg);
			else
				lerr_line(L, t->line, t->column, "task '%s': %s",
					t->name, e.msg);
		}
	}
}

/* ---- warnings ---- */

/*
 * Does the template tree tt (one field of the task whose templates tp
 * holds) expand {target}, itself or through the fields it names?  depth
 * bounds the walk: field cycles were reported already, but a warning
 * must never loop.
 */
static int
mentions_target(const struct task_priv *tp, const struct ttree *tt, int depth)
{
	size_t i;

	if (depth > 32)
		return 0;
	for (i = 0; tt->t && i < tt->t->n; i++) {
		const struct tref *r = &tt->t->parts[i].ref;

		if (tt->t->parts[i].text)
			continue;
		if (r->kind == REF_TARGET)
			return 1;
		if (r->kind == REF_FIELD && (size_t)r->idx < tp->n_fields &&
		    mentions_target(tp, &tp->fields[r->idx], depth + 1))
			return 1;
	}
	for (i = 0; i < tt->n; i++)
		if (mentions_target(tp, &tt->kids[i], depth + 1))
			return 1;
	return 0;
}

/*
 * A command whose run does not name {target} writes the target in place,
 * so a kill mid-write leaves a partial file that looks complete.  Legal
 * (a tool may insist on its own output path), hence a warning, once per
 * task, at the command's position; the scheduler gives it no temporary.
 */
static void
warn_target_writers(struct load *L)
{
	struct dag *dag = L->dag;
	size_t i;

	for (i = 0; i < dag->n_tasks; i++) {
		struct task *t = &dag->tasks[i];
		const struct task_priv *tp = &L->priv->tp[i];
		int k;

		if (!t->kind || !t->kind->command_field ||
		    (t->target_type != TARGET_FILE && t->target_type != TARGET_DIR))
			continue;
		k = key_index(t->def, t->kind->command_field);
		if (k < 0 || (size_t)k >= tp->n_fields ||
		    mentions_target(tp, &tp->fields[k], 0))
			continue;
		t->writes_in_place = 1;
		errs_addf(&dag->warnings, 0, L->path, t->def->items[k]->line,
			t->def->items[k]->column, "task '%s' writes its target "
			"itself: mention {target} so it appears whole or not at "
			"all", t->name);
	}
}

/* Check a parsed tree (rc is the parser's result); shared by both loaders. */
static int
load_tree(const char *path, int rc, struct node *root, struct dag **out,
	struct errs *errs)
{
	struct load L = { .path = path, .errs = errs };
	struct dag *dag;

	*out = NULL;
	dag = xcalloc(1, sizeof(*dag));
	L.dag = dag;
	L.priv = xcalloc(1, sizeof(*L.priv));
	dag->params = L.priv;
	dag->path = xstrdup(path);
	dag->root = root;
	if (rc < 0)
		goto fail;
	if (dag->root->type != NODE_MAP) {
		lerr(&L, dag->root, "expected a map with 'dag:' and 'tasks:' at "
			"the top, found %s", node_type_name(dag->root));
		goto fail;
	}
	load_top(&L);
	load_params(&L);
	check_param_cycles(&L);
	check_defaults(&L);
	load_tasks(&L);
	if (L.failed)
		goto fail;
	check_cycles(&L);
	if (L.failed)
		goto fail;
	topo_sort(dag);
	prepare_tasks(&L);
	if (L.failed)
		goto fail;
	warn_target_writers(&L);
	*out = dag;
	return 0;
fail:
	dag_free(dag);
	return rc < 0 ? rc : -EINVAL;
}

int
dag_load(const char *path, struct dag **out, struct errs *errs)
{
	struct node *root = NULL;
	int rc = node_parse_file(path, &root, errs);

	return load_tree(path, rc, root, out, errs);
}

int
dag_load_string(const char *text, size_t len, const char *name,
	struct dag **out, struct errs *errs)
{
	struct node *root = NULL;
	int rc = node_parse_string(text, len, name, &root, errs);

	return load_tree(name, rc, root, out, errs);
}

void
dag_free(struct dag *dag)
{
	struct dag_priv *priv;
	size_t i, k;

	if (!dag)
		return;
	priv = dag_priv(dag);
	for (i = 0; i < dag->n_tasks; i++) {
		struct task *t = &dag->tasks[i];

		if (t->prepared && t->kind && t->kind->release)
			t->kind->release(t->prepared);
		if (priv && priv->tp) {
			for (k = 0; k < priv->tp[i].n_fields; k++)
				ttree_release(&priv->tp[i].fields[k]);
			free(priv->tp[i].fields);
		}
		free(t->name);
		node_free(t->def);
		free(t->needs);
		template_free(t->target);
		free(t->table);
		template_free(t->database);
		free(t->description);
	}
	free(dag->tasks);
	for (i = 0; i < dag->n_pools; i++)
		free(dag->pools[i].name);
	free(dag->pools);
	if (priv) {
		for (i = 0; i < priv->n_params; i++) {
			free(priv->params[i].name);
			template_free(priv->params[i].t);
		}
		free(priv->params);
		free(priv->tp);
		zone_free(priv->zone);
		free(priv);
	}
	free(dag->topo);
	node_free(dag->root);
	free(dag->path);
	free(dag->name);
	free(dag->description);
	free(dag->timezone);
	free(dag->start);
	errs_release(&dag->warnings);
	free(dag);
}

int
dag_task_index(const struct dag *dag, const char *name)
{
	size_t i;

	for (i = 0; i < dag->n_tasks; i++)
		if (dag->tasks[i].name && !strcmp(dag->tasks[i].name, name))
			return (int)i;
	return -1;
}

/* ---- expansion ---- */

struct rctx {
	const struct dag *dag;
	size_t task;
	const struct partition *p;
	const struct resolve_env *env;
	struct err *e;
};

static int expand(struct rctx *c, const struct template *t, struct strbuf *out);

/* t moved by offset units: hours and less are absolute, days are local. */
static int64_t
shift(const struct dag *dag, int64_t t, long off, char unit)
{
	struct zone *z = dag_priv(dag)->zone;

	switch (unit) {
	case 's': return t + off;
	case 'm': return t + off * 60;
	case 'h': return t + off * 3600;
	case 'd':
	case 'w':
		return zone_to_utc(z, t + zone_offset(z, t) +
			(int64_t)off * 86400 * (unit == 'w' ? 7 : 1));
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
	int64_t t = shift(dag, c->p->start, r->offset, r->unit);
	struct partition q;
	struct tm tm;
	char buf[64];

	if (r->fmt) {
		zone_tm(z, t, &tm);
		add_time(out, r->fmt, &tm);
		return 0;
	}
	switch (r->kind) {
	case REF_DATE:
		if (!r->unit && dag->schedule == SCHEDULE_DAILY) {
			sb_add(out, c->p->id, 10);
			return 0;
		}
		zone_tm(z, t, &tm);
		sb_addf(out, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday);
		return 0;
	case REF_HOUR:
		zone_tm(z, t, &tm);
		sb_addf(out, "%02d", tm.tm_hour);
		return 0;
	case REF_PARTITION:
		if (!r->unit) {
			sb_adds(out, c->p->id);
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
 * are satisfied and skipped), through fn, joined by spaces.
 */
static int
each_need_part(struct rctx *c, const struct need *nd,
	int (*fn)(struct rctx *, const struct need *, const struct partition *,
	struct strbuf *), struct strbuf *out)
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
		return each_need_part(c, &t->needs[r->idx], need_target_one, out);
	case REF_NEED_FILES:
		return each_need_part(c, &t->needs[r->idx], need_files_one, out);
	}
	return err_set(c->e, -EINVAL, "unbound name '%s'", r->name);
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
