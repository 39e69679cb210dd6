/*
 * Loading the tasks of a DAG: each task's fields are checked against the
 * common table and its kind's own (type, required, unknown names with a
 * "did you mean"), defaults merged in, needs and their offsets read, the
 * target typed, every field's templates compiled, then the kind's
 * validate hook sees the task.
 */
#include "config.h"
#include "cycle.h"
#include "dag_load.h"
#include "task_kind.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	{ "on_success", FIELD_STRING, 0, "a shell command run when an attempt succeeds" },
	{ "on_retry", FIELD_STRING, 0, "a shell command run when a failed attempt will be retried" },
	{ "on_failure", FIELD_STRING, 0, "a shell command run when the last attempt fails" },
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

int
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

/* ---- tasks ---- */

/*
 * A field is valid in defaults: when some kind (or the common table)
 * knows it; a default applies to a task only when the task's kind does.
 */
void
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

struct field_graph {
	const struct task *t;
	const struct task_priv *tp;
};

/*
 * Field v's k-th template part, an edge when it expands another field:
 * {name} of a field, or {target} outside a table task.
 */
static int
field_edge(void *ctx, size_t v, size_t k, size_t *to)
{
	const struct field_graph *f = ctx;
	const struct template *tm = f->tp->fields[v].t;
	const struct tref *r;
	int j = -1;

	if (!tm || k >= tm->n)
		return 0;
	r = &tm->parts[k].ref;
	if (tm->parts[k].text)
		;
	else if (r->kind == REF_FIELD)
		j = (int)r->idx;
	else if (r->kind == REF_TARGET && f->t->target_type != TARGET_TABLE) {
		j = key_index(f->t->def, "target");
		if (j < 0 && f->t->kind->target_field)
			j = key_index(f->t->def, f->t->kind->target_field);
	}
	*to = j < 0 || (size_t)j >= f->tp->n_fields ? CYCLE_SKIP : (size_t)j;
	return 1;
}

static void
check_target_refs(struct load *L, struct task *t, struct task_priv *tp)
{
	struct field_graph fg = { t, tp };
	const struct cycle_graph g = { tp->n_fields, field_edge, &fg };
	struct cycle c;
	size_t i, k;

	for (i = 0; i < tp->n_fields; i++) {
		const struct template *tm = tp->fields[i].t;
		for (k = 0; tm && k < tm->n; k++)
			if (!tm->parts[k].text && tm->parts[k].ref.kind == REF_TARGET &&
			    t->target_type == TARGET_NONE)
				lerr_pos(L, t->def->items[i], tm->parts[k].ref.pos,
					"'{target}': task '%s' has no target", t->name);
	}
	/* {target} inside the target, or fields that expand each other. */
	if (cycle_find(&g, &c)) {
		size_t last = c.path[c.len - 1];
		const struct tref *r = &tp->fields[last].t->parts[c.edge].ref;

		lerr_pos(L, t->def->items[last], r->pos, "'{%s}' in field '%s' "
			"of task '%s' refers back to itself", r->name,
			t->def->keys[last]->str, t->name);
		free(c.path);
	}
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

void
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
		mark_shell_quotes(t, tp);
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

