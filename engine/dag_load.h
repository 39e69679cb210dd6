/*
 * The loader's own header, shared by the files that load a DAG (dag.c:
 * the top level, params and the entry points; dag_task.c: tasks, needs,
 * targets; dag_bind.c: templates and the names in them; dag_check.c:
 * cycles and order) and never included elsewhere.  struct load is one
 * load in progress: every check adds its errors to it and goes on, so a
 * file with five mistakes reports five.
 */
#ifndef DAG_LOAD_H
#define DAG_LOAD_H

#include <stddef.h>

#include "dag.h"
#include "dag_priv.h"
#include "node.h"

struct load {
	const char *path;
	struct errs *errs;
	struct dag *dag;
	struct dag_priv *priv;
	const struct node *defaults;
	int failed;		/* some error was reported */
};

/* Report an error at node at (NULL: no position); the load goes on. */
void lerr(struct load *L, const struct node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same at a line and column. */
void lerr_line(struct load *L, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * The same at byte pos of scalar at: exact when the scalar sits on one
 * line (a quote shifts it by one), else the scalar's own position.
 */
void lerr_pos(struct load *L, const struct node *at, size_t pos,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* dag.c */
/* The candidate nearest to name, when near enough to be a typo; or NULL. */
const char *nearest(const char *name, const char *const *cand, size_t n);
/* 1 when s is a valid task or DAG name. */
int valid_name(const char *s);
/*
 * The top-level value of key when it has type (NULL when absent, reported
 * when required or of another type).
 */
const struct node *top_get(struct load *L, const char *key,
	enum node_type type, int required);

/* dag_bind.c */
/* The index of key among map's keys, or -1. */
int key_index(const struct node *map, const char *key);
/*
 * Compile scalar v as a template with flags (TPL_*) and bind its names for
 * task (NULL: a param); NULL after reporting an error.
 */
struct template *compile_at(struct load *L, const struct node *v,
	unsigned flags, struct task *task);
/* Compile every scalar under v (a templated field may be a list or map). */
void ttree_build(struct load *L, const struct node *v, unsigned flags,
	struct task *task, struct ttree *tt);
void ttree_release(struct ttree *tt);
/*
 * In the command field of t (its kind's command_field), set each
 * reference's quote (enum tquote) from the shell quotes of the literal
 * text before it.
 */
void mark_shell_quotes(struct task *t, struct task_priv *tp);
/* Warn about (and mark) commands that write their target in place. */
void warn_target_writers(struct load *L);
/* Warn about a task made in partition order without its previous one. */
void warn_unordered(struct load *L);

/* dag_task.c */
/* Parse a whole decimal integer; -1 when s is not one. */
int parse_int(const char *s, long long *v);
/* Check defaults: against every kind's fields. */
void check_defaults(struct load *L);
/* Load, check and compile every task. */
void load_tasks(struct load *L);

/* dag_check.c */
/* Report params that refer to each other in a cycle. */
void check_param_cycles(struct load *L);
/*
 * Report a param whose expansion would exceed PARAM_MAX_BYTES (params
 * that repeat each other grow exponentially).  Only without cycles.
 */
void check_param_sizes(struct load *L);

/* The most bytes one param may expand to. */
#define PARAM_MAX_BYTES ((uint64_t)1 << 20)
/* Report needs that form a cycle, within a partition or across. */
void check_cycles(struct load *L);
/* Fill dag->topo: needs before needers, file order among equals. */
void topo_sort(struct dag *dag);
/* Run each kind's prepare hook. */
void prepare_tasks(struct load *L);

#endif
