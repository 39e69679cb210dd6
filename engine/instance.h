/*
 * One instance on its own: resolved into data (JSON) and run from it.
 * The scheduler's executors and "dag-cli __run-instance" share these, so
 * an instance runs the same code in a forked child, a worker process or
 * a batch job on another machine.
 */
#ifndef DAG_INSTANCE_H
#define DAG_INSTANCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "util.h"

struct dag;
struct graph;
struct node;
struct task_kind;
struct task_run;
struct exec_result;

/*
 * The resolved instance (g->inst[inst]) as a JSON object appended to sb,
 * left open (no closing brace) for the caller's own keys: dag, task,
 * kind, partition and its bounds, database, the definition with its
 * positions and the resolved fields; a command kind also its "command",
 * "target", "target_dir" and (when tmp_target is not NULL) "tmp_target".
 * now is the run's clock (unix seconds); tmp_target, when not NULL, what
 * {target} expands to.  Written straight from the resolved fields, with
 * no tree of its own: a worker's request is this, once per instance.
 * 0; 1 when a text is not UTF-8 (sb holds a part; its JSON is "null");
 * negative errno with e filled when the fields cannot be resolved.
 */
int instance_json_open(struct strbuf *sb, const struct dag *dag,
	struct graph *g, size_t inst, int64_t now, const char *tmp_target,
	struct err *e);
/* The same as JSON text, the input of "dag-cli __run-instance".  Caller frees. */
char *instance_json(const struct dag *dag, struct graph *g, size_t inst,
	int64_t now, struct err *e);

/*
 * Run a built-in kind on a resolved instance in this process: prepare
 * (when prepared is NULL and def is given), run, release; rc, error and
 * counts go into res.  Returns the process exit status (0 or 1).
 */
int instance_exec_builtin(const struct task_kind *kind, const struct node *def,
	void *prepared, struct task_run *run, struct exec_result *res);
/*
 * Run built-in kind on the instance m (as instance_parse_json gives it)
 * in this process, its output on log: a worker's body.  prepared: what
 * the kind's prepare() made of m's "definition" (a worker keeps it for
 * the next instance of the task), or NULL to prepare and release here.
 * Returns the exit status (0 or 1); res gets rc, error and counts.
 */
int instance_run_builtin_node(const struct task_kind *kind,
	const struct node *m, void *prepared, FILE *log,
	struct exec_result *res);
/*
 * Resolve built-in instance inst of g at clock now and run it in this
 * process (the forked child's body), with its output on log.  Returns
 * the exit status (0 or 1); res gets rc, error and counts.
 */
int instance_run(const struct dag *dag, struct graph *g, size_t inst,
	int64_t now, FILE *log, struct exec_result *res);

/*
 * Run one instance given as JSON (instance_json; a command instance also
 * carries "command", "target", "tmp_target", "target_dir" and "fsync",
 * see exec_request_json).  A built-in kind runs in this process; a
 * command runs under /bin/sh -c and its temporary target is published
 * here.  The result (exec_result_to_json) goes to the file named by
 * "result_file" when there is one (written atomically), else to stdout.
 * Returns the exit status (0 or 1), or negative errno with e filled
 * when the JSON is not an instance.
 */
int instance_run_json(const char *text, struct err *e);
/*
 * The parsing and checking half of instance_run_json, running nothing:
 * *out gets the instance as a map (the caller frees it) and *kind its
 * kind.  0, or -EINVAL with e filled when the JSON is not an instance.
 */
int instance_parse_json(const char *text, struct node **out,
	const struct task_kind **kind, struct err *e);

#endif
