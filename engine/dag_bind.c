/*
 * Templates in a DAG: each string field is compiled (engine/template) and
 * every name in it bound to what it refers to (a param, a field of the
 * task, a need, a built-in), so an unknown name is a load error with a
 * "did you mean" and expanding an instance later cannot meet one.  Also
 * the check that warns about commands writing their target in place,
 * which walks the bound templates.
 */
#include "config.h"
#include "dag_load.h"
#include "task_kind.h"

#include <stdlib.h>
#include <string.h>

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
	const struct hash_entry *x = hash_find(&priv->param_index, name,
		strlen(name));

	return x ? (int)x->num : -1;
}

int
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

struct template *
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

void
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
void
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

/* ---- shell commands ---- */

/*
 * A command's template is shell text with references in it.  Walking its
 * literal parts with the shell's quoting rules (single quotes end only at
 * a quote; in double quotes and outside, a backslash escapes the next
 * byte) tells where each reference stands, so its value can be quoted for
 * that place: a file name holding "$(...)" or a space stays one word of
 * data.  Not a shell parser: $(...) and here-documents are not followed,
 * so a reference inside one is quoted as for the quotes around it.
 */
void
mark_shell_quotes(struct task *t, struct task_priv *tp)
{
	struct template *tm;
	enum tquote st = TQ_WORD;
	int k;
	size_t i, j;

	if (!t->kind || !t->kind->command_field)
		return;
	k = key_index(t->def, t->kind->command_field);
	if (k < 0 || (size_t)k >= tp->n_fields || !(tm = tp->fields[k].t))
		return;
	for (i = 0; i < tm->n; i++) {
		const char *s = tm->parts[i].text;

		if (!s) {
			tm->parts[i].ref.quote = tm->parts[i].ref.raw ?
				TQ_NONE : st;
			continue;
		}
		for (j = 0; j < tm->parts[i].len; j++) {
			if (st == TQ_SINGLE) {
				if (s[j] == '\'')
					st = TQ_WORD;
			} else if (s[j] == '\\') {
				j++;
			} else if (s[j] == '"') {
				st = st == TQ_DOUBLE ? TQ_WORD : TQ_DOUBLE;
			} else if (s[j] == '\'' && st == TQ_WORD) {
				st = TQ_SINGLE;
			}
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
 * A task whose partitions must be made in order (its kind says so: an
 * scd2 dimension) and that does not need its own previous partition may
 * run its partitions in any order in a backfill; each load would then
 * undo the later ones it finds.  Legal, so a warning, at the task.
 */
void
warn_unordered(struct load *L)
{
	struct dag *dag = L->dag;
	const char *step = dag->schedule == SCHEDULE_DAILY ? "-1d" : "-1h";
	size_t i, k;

	for (i = 0; i < dag->n_tasks; i++) {
		const struct task *t = &dag->tasks[i];

		if (!t->kind || !t->kind->in_order || !t->kind->in_order(t->def))
			continue;
		for (k = 0; k < t->n_needs; k++)
			if (t->needs[k].task == i && t->needs[k].lo <= -1 &&
			    t->needs[k].hi >= -1)
				break;
		if (k < t->n_needs)
			continue;
		errs_addf(&dag->warnings, 0, L->path, t->def->line,
			t->def->column, "task '%s' loads in partition order but "
			"does not need its own previous partition, so a backfill "
			"may load it out of order (each load undoes the later "
			"ones): add {task: %s, offset: %s} to its needs", t->name,
			t->name, step);
	}
}

/*
 * A command whose run does not name {target} writes the target in place,
 * so a kill mid-write leaves a partial file that looks complete.  Legal
 * (a tool may insist on its own output path), so the load goes on, with a
 * warning once per task at the command's position.  More than a warning:
 * it sets task.writes_in_place, which changes how the scheduler publishes
 * the task (no temporary name, no rename; success is exit 0 and the
 * target existing afterwards).
 */
void
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

