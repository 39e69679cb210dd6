/*
 * One instance as data and run from data.  instance_node resolves an
 * instance of the graph into a self-contained map (everything a task
 * kind reads: partition bounds, database, the definition, the fields
 * with every template expanded), so the side that runs it needs neither
 * the DAG file nor the graph.  instance_run_json is the other end: it
 * runs a built-in kind in this process, or a command under /bin/sh -c
 * followed by the publication of its temporary target, and writes the
 * result as the executor interface's message (exec_result_to_json).
 */
#include "config.h"
#include "instance.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic.h"
#include "dag.h"
#include "executor.h"
#include "graph.h"
#include "node.h"
#include "publish.h"
#include "target.h"
#include "task_kind.h"

/*
 * The positions of n and the nodes under it in pre-order (a key before
 * its value), "LINE:COLUMN " each: JSON has no place for them, and a
 * kind's errors name the line of the definition they are about.
 */
static void
pos_int(struct strbuf *sb, int v, char sep)
{
	char b[16];
	size_t k = sizeof(b);
	unsigned u = v < 0 ? 0 : (unsigned)v;

	/* By hand: printf was most of building a request (per instance). */
	b[--k] = sep;
	do
		b[--k] = (char)('0' + u % 10);
	while ((u /= 10) && k);
	sb_add(sb, b + k, sizeof(b) - k);
}

static void
pos_add(struct strbuf *sb, const struct node *n)
{
	size_t i;

	pos_int(sb, n->line, ':');
	pos_int(sb, n->column, ' ');
	if (n->type != NODE_SEQ && n->type != NODE_MAP)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->type == NODE_MAP)
			pos_add(sb, n->keys[i]);
		pos_add(sb, n->items[i]);
	}
}

/* Give n the positions pos_add wrote; the rest of p, or NULL. */
static const char *
pos_apply(struct node *n, const char *p)
{
	char *end;
	long line, column;
	size_t i;

	line = strtol(p, &end, 10);
	if (end == p || *end != ':')
		return NULL;
	column = strtol(end + 1, &end, 10);
	if (*end != ' ' || line < 0 || column < 0 || line > INT_MAX ||
	    column > INT_MAX)
		return NULL;
	n->line = (int)line;
	n->column = (int)column;
	p = end + 1;
	if (n->type != NODE_SEQ && n->type != NODE_MAP)
		return p;
	for (i = 0; p && i < n->n; i++) {
		if (n->type == NODE_MAP)
			p = pos_apply(n->keys[i], p);
		if (p)
			p = pos_apply(n->items[i], p);
	}
	return p;
}

/* ,"key": ; -1 when not UTF-8. */
static int
put_key(struct strbuf *sb, const char *k)
{
	sb_addc(sb, ',');
	if (node_json_put_str(sb, k) < 0)
		return -1;
	sb_addc(sb, ':');
	return 0;
}

/* ,"key":"value" (nothing when v is NULL); -1 when not UTF-8. */
static int
put_kv(struct strbuf *sb, const char *k, const char *v)
{
	if (!v)
		return 0;
	if (put_key(sb, k) < 0)
		return -1;
	return node_json_put_str(sb, v);
}

static int
put_kint(struct strbuf *sb, const char *k, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	return put_kv(sb, k, num);
}

/* ,"key":TREE; -1 when not UTF-8. */
static int
put_ktree(struct strbuf *sb, const char *k, const struct node *v)
{
	if (put_key(sb, k) < 0)
		return -1;
	return node_json_put(sb, v);
}

/*
 * The pairs of the instance map after "dag", in their order; -1 when a
 * text is not UTF-8.
 */
static int
put_instance(struct strbuf *sb, const struct dag *dag, const struct task *t,
	const struct instance *in, const struct partition *p,
	const struct partition_info *info, const char *database,
	const struct node *fields, const char *tmp_target)
{
	int rc = 0;

	rc |= put_kv(sb, "task", t->name);
	rc |= put_kv(sb, "kind", t->kind->name);
	rc |= put_kv(sb, "partition", p->id);
	rc |= put_kv(sb, "date", info->date);
	rc |= put_kv(sb, "hour", info->hour);
	rc |= put_kint(sb, "start", p->start);
	rc |= put_kint(sb, "end", p->end);
	rc |= put_kv(sb, "start_iso", info->start_iso);
	rc |= put_kv(sb, "end_iso", info->end_iso);
	rc |= put_kv(sb, "database", database);
	if (t->def) {
		struct strbuf pos;

		rc |= put_ktree(sb, "definition", t->def);
		sb_init(&pos);
		pos_add(&pos, t->def);
		rc |= put_kv(sb, "definition_pos", pos.buf);
		sb_release(&pos);
	}
	rc |= put_ktree(sb, "fields", fields);
	if (t->kind->command_field) {
		/* A command needs no definition to run: say it outright. */
		rc |= put_kv(sb, "command", node_get_str(fields,
			t->kind->command_field));
		rc |= put_kv(sb, "target", in->target);
		rc |= put_kv(sb, "tmp_target", tmp_target);
		rc |= put_kv(sb, "target_dir", t->target_type == TARGET_DIR ?
			"true" : "false");
	}
	(void)dag;
	return rc ? -1 : 0;
}

int
instance_json_open(struct strbuf *sb, const struct dag *dag, struct graph *g,
	size_t inst, int64_t now, const char *tmp_target, struct err *e)
{
	const struct instance *in = &g->inst[inst];
	const struct task *t = &dag->tasks[in->task];
	const struct partition *p = &g->parts[in->part];
	struct partition_info info;
	struct resolve_env env;
	struct node *fields = NULL;
	char *database;
	int rc;

	graph_resolve_env(g, &env);
	env.now = now;
	env.tmp_target = tmp_target;
	if (dag_resolve(dag, in->task, p, &env, &fields, NULL, e) < 0)
		return e->code ? e->code : -EINVAL;
	database = dag_resolve_database(dag, in->task, p, &env, e);
	dag_partition_info(dag, p, &info);
	sb_addc(sb, '{');
	rc = node_json_put_str(sb, "dag");
	sb_addc(sb, ':');
	if (rc == 0)
		rc = node_json_put_str(sb, dag->name);
	if (rc == 0)
		rc = put_instance(sb, dag, t, in, p, &info, database, fields,
			tmp_target);
	node_free(fields);
	free(database);
	return rc < 0 ? 1 : 0;
}

char *
instance_json(const struct dag *dag, struct graph *g, size_t inst,
	int64_t now, struct err *e)
{
	struct strbuf sb;
	int rc;

	sb_init(&sb);
	rc = instance_json_open(&sb, dag, g, inst, now, NULL, e);
	if (rc < 0) {
		sb_release(&sb);
		return NULL;
	}
	if (rc > 0) {
		/* A text that is not UTF-8: what node_to_json gave for it. */
		sb_release(&sb);
		return xstrdup("null");
	}
	sb_addc(&sb, '}');
	return sb_detach(&sb);
}

int
instance_exec_builtin(const struct task_kind *kind, const struct node *def,
	void *prepared, struct task_run *run, struct exec_result *res)
{
	void *own = NULL;
	struct err e;
	int rc = 0;

	err_clear(&e);
	if (!run->log)
		run->log = stdout;
	run->records_in = run->records_out = run->records_rejected = -1;
	if (!prepared && def && kind->prepare) {
		rc = kind->prepare(def, &own, &e);
		prepared = own;
	}
	run->prepared = prepared;
	if (rc == 0)
		rc = kind->run ? kind->run(run, &e) :
			err_set(&e, -ENOTSUP, "kind '%s' cannot be run",
				kind->name);
	if (own && kind->release)
		kind->release(own);
	res->rc = rc;
	res->records_in = run->records_in;
	res->records_out = run->records_out;
	res->records_rejected = run->records_rejected;
	if (rc < 0) {
		snprintf(res->error, sizeof(res->error), "%s", e.msg[0] ? e.msg :
			strerror(-rc));
		fprintf(run->log, "dag-cli: ");
		err_print(&e, run->log);
	}
	fflush(run->log);
	return rc < 0 ? 1 : 0;
}

int
instance_run(const struct dag *dag, struct graph *g, size_t inst,
	int64_t now, FILE *log, struct exec_result *res)
{
	const struct instance *in = &g->inst[inst];
	const struct task *t = &dag->tasks[in->task];
	const struct partition *p = &g->parts[in->part];
	struct partition_info info;
	struct resolve_env env;
	struct node *fields = NULL;
	struct task_run run;
	char *database = NULL;
	struct err e;
	int status;

	err_clear(&e);
	graph_resolve_env(g, &env);
	env.now = now;
	if (dag_resolve(dag, in->task, p, &env, &fields, NULL, &e) < 0) {
		res->rc = e.code ? e.code : -EINVAL;
		snprintf(res->error, sizeof(res->error), "%s", e.msg);
		fprintf(log, "dag-cli: %s\n", e.msg);
		return 1;
	}
	database = dag_resolve_database(dag, in->task, p, &env, &e);
	dag_partition_info(dag, p, &info);
	dag_task_run_init(&run, dag, in->task, p, &info, fields, database);
	run.log = log;
	status = instance_exec_builtin(t->kind, NULL, t->prepared, &run, res);
	node_free(fields);
	free(database);
	return status;
}

/* ---- running from JSON ---- */

int
instance_run_builtin_node(const struct task_kind *kind, const struct node *m,
	void *prepared, FILE *log, struct exec_result *res)
{
	struct task_run run;

	memset(&run, 0, sizeof(run));
	run.dag = node_get_str(m, "dag");
	run.task = node_get_str(m, "task");
	run.partition = node_get_str(m, "partition");
	run.date = node_get_str(m, "date");
	run.hour = node_get_str(m, "hour");
	run.start_iso = node_get_str(m, "start_iso");
	run.end_iso = node_get_str(m, "end_iso");
	run.start = strtoll(node_get_str(m, "start"), NULL, 10);
	run.end = strtoll(node_get_str(m, "end"), NULL, 10);
	run.database = node_get_str(m, "database");
	run.fields = node_get(m, "fields");
	run.log = log;
	return instance_exec_builtin(kind, node_get(m, "definition"), prepared,
		&run, res);
}

static int
flag(const struct node *m, const char *k)
{
	const char *v = node_get_str(m, k);

	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/*
 * A command instance: /bin/sh -c with its output on stderr (stdout may
 * carry the result), then publication of the temporary target.
 */
static int
run_command_json(const struct node *m, struct exec_result *res,
	struct err *e)
{
	const char *cmd = node_get_str(m, "command");
	const char *target = node_get_str(m, "target");
	const char *tmp = node_get_str(m, "tmp_target");
	int is_dir = flag(m, "target_dir"), status;
	struct rusage ru;
	pid_t pid;

	/* instance_parse_json checked that cmd is set, and target with tmp. */
	if (tmp && publish_prepare(tmp, is_dir, e) < 0) {
		res->rc = e->code;
		snprintf(res->error, sizeof(res->error), "%s", e->msg);
		err_clear(e);
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return err_set(e, -errno, "cannot fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(2, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return err_set(e, -errno, "cannot wait for /bin/sh: %s",
				strerror(errno));
	res->max_rss_kb = ru.ru_maxrss;
	if (WIFSIGNALED(status)) {
		res->exit_code = -1;
		res->signal = WTERMSIG(status);
	} else {
		res->exit_code = WEXITSTATUS(status);
	}
	if (exec_result_ok(res) && tmp) {
		struct err pe;

		err_clear(&pe);
		if (publish_target(target, tmp, is_dir, flag(m, "fsync"),
		    &pe) < 0) {
			res->rc = pe.code;
			snprintf(res->error, sizeof(res->error), "%s", pe.msg);
		} else {
			res->published = 1;
		}
	}
	if (tmp && !res->published)
		publish_discard(tmp);
	return exec_result_ok(res) ? 0 : 1;
}

static int
write_result(const struct node *m, const struct exec_result *res,
	struct err *e)
{
	const char *path = node_get_str(m, "result_file");
	char *json = exec_result_to_json(res);
	struct atomic_file af;
	size_t n = strlen(json);
	int rc = 0;

	if (!path) {
		printf("%s\n", json);
		fflush(stdout);
		free(json);
		return 0;
	}
	rc = atomic_open(&af, path, e);
	if (rc == 0 && (write(af.fd, json, n) != (ssize_t)n ||
	    write(af.fd, "\n", 1) != 1)) {
		rc = err_set(e, -errno, "cannot write '%s': %s", af.tmp,
			strerror(errno));
		atomic_abort(&af);
	} else if (rc == 0) {
		rc = atomic_commit(&af, e);
	}
	free(json);
	return rc;
}

/*
 * Output (stdout and stderr) appended to path: a worker that reports
 * through a result file, a batch job, writes into the attempt's log.
 */
static int
log_to(const char *path, struct err *e)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0)
		return err_set(e, -errno, "cannot open the log '%s': %s", path,
			strerror(errno));
	fflush(stdout);
	fflush(stderr);
	if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
		close(fd);
		return err_set(e, -errno, "cannot write the log '%s': %s",
			path, strerror(errno));
	}
	close(fd);
	return 0;
}

int
instance_parse_json(const char *text, struct node **out,
	const struct task_kind **kind, struct err *e)
{
	static const char *const need[] = { "dag", "task", "kind", "partition",
		"date", "hour", "start", "end", "start_iso", "end_iso" };
	struct node *m = NULL;
	const struct node *def;
	const char *pos;
	size_t i;

	*out = NULL;
	if (node_from_json(text, &m, e) < 0)
		return -EINVAL;
	for (i = 0; i < ARRAY_LEN(need); i++)
		if (!node_get_str(m, need[i])) {
			err_set(e, -EINVAL, "the instance has no '%s'", need[i]);
			goto fail;
		}
	def = node_get(m, "definition");
	pos = node_get_str(m, "definition_pos");
	if (def && pos)
		pos_apply((struct node *)def, pos);
	*kind = task_kind_find(node_get_str(m, "kind"));
	if (!*kind || !node_get(m, "fields")) {
		err_set(e, -EINVAL, *kind ? "the instance has no fields" :
			"unknown task kind '%s'", node_get_str(m, "kind"));
		goto fail;
	}
	if ((*kind)->command_field) {
		if (!node_get_str(m, "command")) {
			err_set(e, -EINVAL, "the instance has no 'command'");
			goto fail;
		}
		if (node_get_str(m, "tmp_target") && !node_get_str(m, "target")) {
			err_set(e, -EINVAL, "the instance has a 'tmp_target' "
				"but no 'target'");
			goto fail;
		}
	}
	*out = m;
	return 0;
fail:
	node_free(m);
	return -EINVAL;
}

int
instance_run_json(const char *text, struct err *e)
{
	const struct task_kind *kind;
	struct exec_result res;
	struct node *m = NULL;
	int64_t t0 = wall_ms();
	int status;

	if (instance_parse_json(text, &m, &kind, e) < 0)
		return -EINVAL;
	status = -EINVAL;
	if (node_get_str(m, "result_file") && node_get_str(m, "log") &&
	    log_to(node_get_str(m, "log"), e) < 0)
		goto out;
	exec_result_init(&res);
	res.started_ms = t0;
	if (kind->command_field)
		status = run_command_json(m, &res, e);
	else
		status = instance_run_builtin_node(kind, m, NULL, stderr,
			&res);
	if (status < 0)
		goto out;
	res.duration_ms = wall_ms() - t0;
	if (write_result(m, &res, e) < 0)
		status = e->code;
out:
	node_free(m);
	return status;
}
