/*
 * The target kinds, and one instance's target resolved for them.  The
 * loader decides a task's target type from the shape of its YAML (a
 * path, a path ending in '/', {table: NAME}); this table turns that type
 * into the kind that answers for it, so graph, scheduler and clear ask
 * the kind and no caller switches on the type.  A new kind of target is
 * a new file in targets/ and one line here.
 */
#include "config.h"
#include "target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"

static const struct target_kind *const kinds[] = {
	[TARGET_NONE] = NULL,
	[TARGET_FILE] = &target_file_kind,
	[TARGET_DIR] = &target_dir_kind,
	[TARGET_TABLE] = &target_table_kind,
};

const struct target_kind *
target_kind_of(const struct dag *dag, size_t task)
{
	enum target_type t = dag->tasks[task].target_type;

	return (size_t)t < sizeof(kinds) / sizeof(kinds[0]) ? kinds[t] : NULL;
}

int
target_resolve(const struct dag *dag, size_t task, const struct partition *p,
	const struct resolve_env *env, struct target_ref *ref, struct err *e)
{
	const struct task *t = &dag->tasks[task];
	size_t n;

	memset(ref, 0, sizeof(*ref));
	ref->kind = target_kind_of(dag, task);
	/* Copied by hand: a plan does this per instance. */
	n = strnlen(p->id, sizeof(ref->partition) - 1);
	memcpy(ref->partition, p->id, n);
	ref->partition[n] = '\0';
	if (!ref->kind)
		return 0;
	if (ref->kind != &target_table_kind)
		return dag_resolve_target(dag, task, p, env, &ref->path, e);
	ref->table = t->table;
	ref->database = dag_resolve_database(dag, task, p, env, e);
	if (!ref->database)
		return err_set(e, -EINVAL, "task '%s' has a table target but no "
			"'database'", t->name);
	return 0;
}

void
target_ref_release(struct target_ref *ref)
{
	if (!ref)
		return;
	free(ref->path);
	free(ref->database);
	ref->path = ref->database = NULL;
}
