/*
 * The loader's private half of struct dag (hung on dag->params): the time
 * zone, the params and each task's compiled templates.  Shared by the
 * loader's own files (engine/dag.c, engine/range.c, engine/graph.c);
 * nothing outside them should include it.
 */
#ifndef DAG_DAG_PRIV_H
#define DAG_DAG_PRIV_H

#include <stddef.h>
#include "dag.h"
#include "hash.h"
#include "node.h"
#include "template.h"

struct zone;

/* What a template reference names (struct tref.kind). */
enum ref_kind {
	REF_UNKNOWN,
	REF_DATE,
	REF_HOUR,
	REF_PARTITION,
	REF_TS,
	REF_DAG,
	REF_TASK,
	REF_ENV,		/* name + 4 is the variable */
	REF_PARAM,		/* idx: params[] */
	REF_FIELD,		/* idx: key index in task->def */
	REF_TARGET,
	REF_NEED_TARGET,	/* idx: task->needs[] */
	REF_NEED_FILES,		/* idx: task->needs[] */
};

struct param {
	char *name;
	const struct node *node;	/* in dag->root */
	struct template *t;
};

/* Compiled templates, in the shape of the node they came from. */
struct ttree {
	struct template *t;	/* a scalar's template, or NULL */
	size_t n;
	struct ttree *kids;	/* a list's items or a map's values, or NULL */
};

struct task_priv {
	struct ttree *fields;	/* parallel to task->def items; NULL entries are copied */
	size_t n_fields;
	int probe_target;	/* external check: completeness is kind->probe */
	int has_poll;
};

struct dag_priv {
	struct zone *zone;
	struct param *params;
	size_t n_params;
	struct hash param_index;	/* name -> index in params */
	struct task_priv *tp;	/* parallel to dag->tasks */
};

static inline struct dag_priv *
dag_priv(const struct dag *dag)
{
	return (struct dag_priv *)dag->params;
}

#endif
