/*
 * Loading a DAG file: the YAML tree is checked top to bottom and every
 * problem is collected (not just the first), each with its file:line:col.
 * This file holds the top level (dag:, schedule, zone, start, pools,
 * params, defaults), the common field table and its type checks, and the
 * entry points that run the checks in order; tasks are loaded in
 * dag_task.c, templates bound in dag_bind.c, cycles and order checked in
 * dag_check.c.  Expansion of an instance (dag_resolve) is dag_resolve.c.
 */
#include "config.h"
#include "dag.h"
#include "dag_load.h"
#include "range.h"
#include "task_kind.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

void
lerr(struct load *L, const struct node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lerr_at(L, at ? at->line : 0, at ? at->column : 0, fmt, ap);
	va_end(ap);
}

void
lerr_line(struct load *L, int line, int column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lerr_at(L, line, column, fmt, ap);
	va_end(ap);
}

/*
 * An error at byte pos of scalar at: exact when the scalar sits on one
 * line (a quote shifts it by one), else the scalar's own position.
 */
void
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

/* The loader's name for the helper every command shares (util.h). */
const char *
nearest(const char *name, const char *const *cand, size_t n)
{
	return str_nearest(name, cand, n);
}

/* Is name one of the n names in list? */
static int
one_of(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 1;
	return 0;
}

int
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

/* ---- top level ---- */

static const char *const top_keys[] = {
	"dag", "description", "schedule", "timezone", "start", "params",
	"defaults", "pools", "executor", "tasks", "delay", "give_up_after", "recheck",
	"catchup", "catchup_max",
};

const struct node *
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

			if (one_of(k, executor_keys, ARRAY_LEN(executor_keys)))
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

		/* x-NAME: free for the user, a place to anchor shared settings. */
		if (one_of(k, top_keys, ARRAY_LEN(top_keys)) ||
		    !strncmp(k, "x-", 2))
			continue;
		near = nearest(k, top_keys, ARRAY_LEN(top_keys));
		if (near)
			lerr(L, root->keys[i], "unknown top-level key '%s'; did you "
				"mean '%s'?", k, near);
		else
			lerr(L, root->keys[i], "unknown top-level key '%s'; expected "
				"dag, description, schedule, timezone, start, params, "
				"defaults, pools, executor, tasks, delay, give_up_after, "
				"recheck, catchup or catchup_max", k);
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

/* A top-level duration for the scheduler, or dflt when absent. */
static int64_t
top_duration(struct load *L, const char *key, int64_t dflt)
{
	const struct node *v = top_get(L, key, NODE_SCALAR, 0);
	int64_t ms;

	if (!v)
		return dflt;
	if (!isdigit((unsigned char)v->str[0]) ||
	    duration_parse(v->str, &ms) < 0) {
		lerr(L, v, "bad %s '%s'; expected a duration such as 30s, 15m, "
			"2h or 1d", key, v->str);
		return dflt;
	}
	return ms;
}

/* delay, recheck, give_up_after, catchup and catchup_max (`scheduler`). */
static void
load_scheduling(struct load *L)
{
	struct dag *dag = L->dag;
	const struct node *v;
	long long n;

	dag->delay_ms = top_duration(L, "delay", 0);
	dag->recheck_ms = top_duration(L, "recheck", 5 * 60 * 1000);
	dag->give_up_ms = top_duration(L, "give_up_after",
		24 * 60 * 60 * 1000);
	if ((v = node_get(dag->root, "recheck")) && dag->recheck_ms < 1000)
		lerr(L, v, "recheck '%s' is under a second", v->str);
	dag->catchup = CATCHUP_LATEST;
	if ((v = top_get(L, "catchup", NODE_SCALAR, 0))) {
		if (!strcmp(v->str, "none"))
			dag->catchup = CATCHUP_NONE;
		else if (!strcmp(v->str, "all"))
			dag->catchup = CATCHUP_ALL;
		else if (strcmp(v->str, "latest"))
			lerr(L, v, "bad catchup '%s'; expected none, latest or all",
				v->str);
	}
	dag->catchup_max = 30;
	if ((v = top_get(L, "catchup_max", NODE_SCALAR, 0))) {
		if (parse_int(v->str, &n) < 0 || n < 1 || n > 10000)
			lerr(L, v, "bad catchup_max '%s'; expected a number from "
				"1 to 10000", v->str);
		else
			dag->catchup_max = (int)n;
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
	hash_reserve(&priv->param_index, v->n);
	for (i = 0; i < v->n; i++) {
		struct param *p = &priv->params[priv->n_params++];
		int added;

		p->name = xstrdup(v->keys[i]->str);
		p->node = v->items[i];
		/* Keys are unique (the YAML layer says so): never full. */
		hash_add(&priv->param_index, p->name, strlen(p->name),
			&added)->num = (int64_t)i;
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
	hash_init(&L.priv->param_index, NULL);
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
	load_scheduling(&L);
	load_params(&L);
	check_param_cycles(&L);
	if (!L.failed)
		check_param_sizes(&L);
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
	warn_unordered(&L);
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

/*
 * --param NAME=VALUE: replace a param's value in the parsed tree before it
 * is checked, so the value is a template like the file's own (it may name
 * other params and built-ins) and every check applies to it.  The new node
 * has no position: its errors print as "file: message".
 */
static int
override_params(const char *path, struct node *root,
	const char *const *set, size_t n_set, struct errs *errs)
{
	struct node *params = (struct node *)node_get(root, "params");
	size_t i, k;
	int bad = 0;

	for (i = 0; i < n_set; i++) {
		const char *eq = strchr(set[i], '=');
		char *name = xstrndup(set[i], eq ? (size_t)(eq - set[i]) : 0);
		const char **names = NULL;
		const char *near = NULL;

		for (k = 0; params && params->type == NODE_MAP && k < params->n;
		     k++)
			if (!strcmp(params->keys[k]->str, name))
				break;
		if (eq && params && params->type == NODE_MAP && k < params->n) {
			node_free(params->items[k]);
			params->items[k] = node_new_scalar(eq + 1);
			params->items[k]->quoted = 1;
			free(name);
			continue;
		}
		if (params && params->type == NODE_MAP && params->n) {
			names = xcalloc(params->n, sizeof(*names));
			for (k = 0; k < params->n; k++)
				names[k] = params->keys[k]->str;
			near = nearest(name, names, params->n);
		}
		errs_addf(errs, -EINVAL, path, 0, 0, "--param '%s': %s '%s'%s%s%s",
			set[i], eq ? "the DAG has no param" : "expected NAME=VALUE, "
			"not", eq ? name : set[i], near ? "; did you mean '" : "",
			near ? near : "", near ? "'?" : "");
		free(names);
		free(name);
		bad = 1;
	}
	return bad ? -EINVAL : 0;
}

int
dag_load_params(const char *path, const char *const *set, size_t n_set,
	struct dag **out, struct errs *errs)
{
	struct node *root = NULL;
	int rc = node_parse_file(path, &root, errs);

	if (rc == 0 && root->type == NODE_MAP)
		rc = override_params(path, root, set, n_set, errs);
	return load_tree(path, rc, root, out, errs);
}

int
dag_load_string(const char *text, size_t len, const char *name,
	struct dag **out, struct errs *errs)
{
	return dag_load_string_params(text, len, name, NULL, 0, out, errs);
}

int
dag_load_string_params(const char *text, size_t len, const char *name,
	const char *const *set, size_t n_set, struct dag **out,
	struct errs *errs)
{
	struct node *root = NULL;
	int rc = node_parse_string(text, len, name, &root, errs);

	if (rc == 0 && root->type == NODE_MAP)
		rc = override_params(name, root, set, n_set, errs);
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
		hash_release(&priv->param_index);
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

