/*
 * The worker executor: built-in instances run in long-lived worker
 * processes ("dag-cli __worker"), each running many instances one after
 * another, so an instance costs what its work costs rather than a fork,
 * an exit and a fresh start of everything the kind opens.  Command
 * instances still go to the local process pool (engine/exec_local.c):
 * a shell command is a process of its own anyway.
 *
 * A worker is started when an instance finds none idle, so a run has as
 * many as -j keeps busy, and lives until the executor closes.  It reads
 * one request a line on the socket at its fd 3 (exec_request_json: the
 * resolved instance, its log's path) and answers with one line, the
 * result (exec_result_to_json).  Its standard output and error are the
 * attempt's log while it runs the instance, /dev/null between.
 *
 * What goes wrong stays with the instance that held the worker: a worker
 * that dies (a crash, kill -9) fails the instance it ran with its signal,
 * and the next instance gets a new worker; a timeout or a cancel signals
 * the worker itself (SIGKILL after the grace), which is then replaced.
 * A worker is retired (its socket closed, so it exits) after
 * DAG_WORKER_MAX_INSTANCES instances or once its peak resident set
 * reaches DAG_WORKER_MAX_RSS_MB, so a leak in a kind cannot build up.
 * A worker dies with the scheduler (PR_SET_PDEATHSIG where there is one;
 * elsewhere at the end of its instance, when its socket reads EOF).
 *
 * A worker keeps its warehouse connections across instances
 * (wh_keep_connections): a connection goes back to the worker's cache
 * only as clean as a fresh one, so an instance sees nothing of the one
 * before (engine/warehouse.c, wh_close), and what a kind prepared from a
 * task's definition (clean's compiled rules), bound afresh per instance.
 *
 * DAG_EXECUTOR=local runs built-ins as before, one forked child each.
 */
#include "config.h"
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include "atomic.h"
#include "dag.h"
#include "graph.h"
#include "instance.h"
#include "node.h"
#include "task_kind.h"
#include "warehouse.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* The worker's end of its socket. */
#define WORKER_FD 3
/* Defaults of the retirement bounds. */
#define WORKER_MAX_INSTANCES 1000
#define WORKER_MAX_RSS_MB 512
/* SIGTERM to SIGKILL when the scheduler gives no grace. */
#define WORKER_KILL_GRACE_MS 5000

struct workers;

struct worker {
	struct workers *ws;
	struct worker *next;
	uv_process_t proc;
	uv_pipe_t chan;
	uv_timer_t timer;	/* the timeout, then the grace before SIGKILL */
	int open_handles;	/* closed with the last one */
	pid_t pid;
	unsigned n_run;		/* instances sent */
	int busy;		/* holds token */
	void *token;
	int64_t started_ms;	/* unix ms */
	int signalled;		/* signalled: the grace timer runs */
	int timed_out;
	int retiring;		/* its socket is closed: no more work */
	int exited, eof;
	int exit_status, term_signal;
	int have_result;
	struct exec_result res;
	struct strbuf in;	/* what it said, up to a newline */
	char rbuf[4096];
};

struct workers {
	struct executor *x;
	struct executor *cmd;	/* the local pool, for commands */
	struct worker *all;	/* alive or exiting */
	size_t n_workers;	/* in all */
	char self[PATH_MAX];	/* this binary */
	unsigned max_instances;
	int64_t max_rss_kb;
	int64_t grace_ms;
	const char *trace;	/* DAG_WORKER_TRACE: where events go (tests) */
	char **env;		/* the workers' environment; NULL: ours */
	int closing;
};

static long long
env_num(const char *name, long long def, long long min)
{
	const char *v = getenv(name);
	char *end;
	long long n;

	if (!v || !*v)
		return def;
	n = strtoll(v, &end, 10);
	return *end || n < min ? def : n;
}

/*
 * The workers' environment: ours, with glibc's malloc told to ask for
 * transparent huge pages (GLIBC_TUNABLES glibc.malloc.hugetlb=1, put
 * before the user's own tunables).  A load grows a worker by tens of MiB
 * that it touches once; in 4 KiB pages each first touch is a fault
 * (11-14 us on the machine of bench/, against 0.3 us per 4 KiB in a
 * 2 MiB page), and the star load of bench/ took 30 ms less with it.
 * Only workers get it: they run no command, and commands start from the
 * scheduler with the user's environment.  A user who set hugetlb is left
 * alone (NULL: the environment as it is).
 */
#define TUNABLES "GLIBC_TUNABLES"

static char **
worker_env(void)
{
	extern char **environ;
	const char *mine = getenv(TUNABLES);
	size_t n, i, j = 0;
	char **env;

	if (mine && strstr(mine, "glibc.malloc.hugetlb"))
		return NULL;
	for (n = 0; environ[n]; n++)
		;
	env = xcalloc(n + 2, sizeof(*env));
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], TUNABLES "=", sizeof(TUNABLES)))
			env[j++] = xstrdup(environ[i]);
	env[j] = xasprintf("%s=glibc.malloc.hugetlb=1%s%s", TUNABLES,
		mine ? ":" : "", mine ? mine : "");
	return env;
}

static void
env_free(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* One line of DAG_WORKER_TRACE (path), for tests to see what workers did. */
static void
trace_to(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
trace_to(const char *path, const char *fmt, ...)
{
	va_list ap;
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
	close(fd);
}

#define trace(ws, ...) trace_to((ws)->trace, __VA_ARGS__)

/* ---- the scheduler's side ---- */

static void
on_handle_closed(uv_handle_t *h)
{
	struct worker *w = h->data;
	struct workers *ws = w->ws;

	if (--w->open_handles)
		return;
	sb_release(&w->in);
	free(w);
	if (--ws->n_workers == 0 && ws->closing)
		free(ws);
}

static void
close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_handle_closed);
}

static void
unlink_worker(struct worker *w)
{
	struct worker **p;

	for (p = &w->ws->all; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	w->next = NULL;
}

/* An idle worker keeps the loop alive no more than the pool's idle slots. */
static void
idle(struct worker *w)
{
	w->busy = 0;
	uv_unref((uv_handle_t *)&w->proc);
	uv_unref((uv_handle_t *)&w->chan);
}

/* No more work for w: its socket closes, it reads EOF and exits. */
static void
retire(struct worker *w, const char *why)
{
	if (w->retiring)
		return;
	w->retiring = 1;
	w->eof = 1;
	trace(w->ws, "retire %d %s\n", (int)w->pid, why);
	close_handle((uv_handle_t *)&w->chan);
}

/*
 * Gone (exited, and its socket read to the end): the instance it held
 * gets its result, from the worker's last word or from how it died.
 */
static void
maybe_finish(struct worker *w)
{
	struct workers *ws = w->ws;
	struct exec_result res;
	int busy = w->busy;

	if (!w->exited || !w->eof)
		return;
	unlink_worker(w);
	trace(ws, "exit %d %d %d\n", (int)w->pid, w->exit_status,
		w->term_signal);
	if (busy) {
		if (w->have_result && !w->signalled) {
			res = w->res;
		} else {
			exec_result_init(&res);
			res.exit_code = w->term_signal ? -1 : w->exit_status;
			res.signal = w->term_signal;
			res.timed_out = w->timed_out;
			/* No report: the status says why. */
			res.rc = -EPROTO;
			res.started_ms = w->started_ms;
			res.duration_ms = wall_ms() - w->started_ms;
		}
		res.token = w->token;
		w->busy = 0;
	}
	close_handle((uv_handle_t *)&w->chan);
	close_handle((uv_handle_t *)&w->proc);
	close_handle((uv_handle_t *)&w->timer);
	if (busy)
		ws->x->on_result(ws->x, &res);
}

static void
on_worker_exit(uv_process_t *p, int64_t status, int term_signal)
{
	struct worker *w = p->data;

	w->exited = 1;
	w->exit_status = (int)status;
	w->term_signal = term_signal;
	maybe_finish(w);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct worker *w = h->data;

	(void)suggested;
	*buf = uv_buf_init(w->rbuf, sizeof(w->rbuf));
}

/* One line from w: the result of the instance it holds. */
static void
on_line(struct worker *w, const char *line)
{
	struct workers *ws = w->ws;
	struct exec_result res;
	struct err e;

	err_clear(&e);
	if (!w->busy || w->signalled)
		return;
	if (exec_result_from_json(line, &res, &e) < 0) {
		/* Not a result: the worker is not to be trusted any more. */
		exec_result_init(&res);
		res.exit_code = -1;
		res.rc = -EPROTO;
		snprintf(res.error, sizeof(res.error), "the worker's answer "
			"is not a result: %.900s", e.msg);
		res.started_ms = w->started_ms;
		retire(w, "garbled");
	}
	res.token = w->token;
	idle(w);
	uv_timer_stop(&w->timer);
	if (w->n_run >= ws->max_instances)
		retire(w, "instances");
	else if (res.max_rss_kb >= ws->max_rss_kb)
		retire(w, "rss");
	ws->x->on_result(ws->x, &res);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct worker *w = s->data;
	char *nl;

	if (n < 0) {
		uv_read_stop(s);
		w->eof = 1;
		maybe_finish(w);
		return;
	}
	sb_add(&w->in, buf->base, (size_t)n);
	while (w->in.len && (nl = memchr(w->in.buf, '\n', w->in.len))) {
		size_t len = (size_t)(nl - w->in.buf) + 1;

		*nl = '\0';
		on_line(w, w->in.buf);
		/* on_line may have retired w: its buffer stays until freed. */
		memmove(w->in.buf, w->in.buf + len, w->in.len - len);
		w->in.len -= len;
		w->in.buf[w->in.len] = '\0';
		if (w->retiring)
			break;
	}
}

static void
on_timer(uv_timer_t *t)
{
	struct worker *w = t->data;

	if (w->exited)
		return;
	if (!w->signalled) {
		/* The timeout: stop what overran, then make sure. */
		w->timed_out = 1;
		w->signalled = 1;
		kill(w->pid, SIGTERM);
		uv_timer_start(&w->timer, on_timer, (uint64_t)w->ws->grace_ms,
			0);
		return;
	}
	kill(w->pid, SIGKILL);
}

static void
on_written(uv_write_t *req, int status)
{
	(void)status;	/* a dead worker says so through its exit */
	free(req);
}

static struct worker *
spawn_worker(struct workers *ws, struct err *e)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	uv_process_options_t o;
	uv_stdio_container_t io[4];
	char *args[3];
	int rc;

	w->ws = ws;
	sb_init(&w->in);
	uv_timer_init(ws->x->loop, &w->timer);
	uv_pipe_init(ws->x->loop, &w->chan, 0);
	w->timer.data = w->chan.data = w->proc.data = w;
	memset(&o, 0, sizeof(o));
	memset(io, 0, sizeof(io));
	args[0] = ws->self;
	args[1] = "__worker";
	args[2] = NULL;
	io[0].flags = io[1].flags = io[2].flags = UV_IGNORE;
	io[3].flags = UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE;
	io[3].data.stream = (uv_stream_t *)&w->chan;
	o.file = ws->self;
	o.args = args;
	o.env = ws->env;
	o.exit_cb = on_worker_exit;
	o.stdio = io;
	o.stdio_count = 4;
	/* Its own session: a ^C at the terminal is the scheduler's to pass on. */
	o.flags = UV_PROCESS_DETACHED;
	ws->n_workers++;
	rc = uv_spawn(ws->x->loop, &w->proc, &o);
	w->open_handles = 3;
	if (rc < 0) {
		err_set(e, rc, "cannot start a worker (%s): %s", ws->self,
			uv_strerror(rc));
		close_handle((uv_handle_t *)&w->chan);
		close_handle((uv_handle_t *)&w->proc);
		close_handle((uv_handle_t *)&w->timer);
		return NULL;
	}
	w->pid = w->proc.pid;
	uv_unref((uv_handle_t *)&w->proc);
	uv_unref((uv_handle_t *)&w->chan);
	rc = uv_read_start((uv_stream_t *)&w->chan, on_alloc, on_read);
	if (rc < 0) {
		err_set(e, rc, "cannot read from a worker: %s", uv_strerror(rc));
		kill(w->pid, SIGKILL);
		w->retiring = 1;
		w->eof = 1;
		close_handle((uv_handle_t *)&w->chan);
		w->next = ws->all;
		ws->all = w;
		return NULL;
	}
	w->next = ws->all;
	ws->all = w;
	trace(ws, "start %d\n", (int)w->pid);
	return w;
}

/*
 * Send one request line to w: at once when the socket takes it all (the
 * usual case: a request is a few KiB), the rest through the loop.
 * MSG_NOSIGNAL: a worker that died unseen is an error here rather than
 * a SIGPIPE that would end the scheduler.  0 or a libuv error.
 */
static int
send_request(struct worker *w, const char *s, size_t n)
{
	uv_os_fd_t fd;
	uv_write_t *req;
	uv_buf_t buf;
	ssize_t k = 0;
	int rc;

	if (uv_fileno((uv_handle_t *)&w->chan, &fd) == 0) {
		do
			k = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (k < 0 && errno == EINTR);
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return uv_translate_sys_error(errno);
		if (k < 0)
			k = 0;
		if ((size_t)k == n)
			return 0;
	}
	req = xmalloc(sizeof(*req) + n - (size_t)k);
	memcpy(req + 1, s + k, n - (size_t)k);
	buf = uv_buf_init((char *)(req + 1), (unsigned)(n - (size_t)k));
	rc = uv_write(req, (uv_stream_t *)&w->chan, &buf, 1, on_written);
	if (rc < 0)
		free(req);
	return rc;
}

static struct worker *
idle_worker(struct workers *ws)
{
	struct worker *w;

	for (w = ws->all; w; w = w->next)
		if (!w->busy && !w->retiring && !w->exited && !w->eof)
			return w;
	return NULL;
}

static void
on_command_result(struct executor *cmd, const struct exec_result *r)
{
	struct workers *ws = cmd->data;

	ws->x->on_result(ws->x, r);
}

static int
workers_open(struct executor *x, struct err *e)
{
	struct workers *ws = xcalloc(1, sizeof(*ws));
	ssize_t n;
	int rc;

	ws->x = x;
	n = readlink("/proc/self/exe", ws->self, sizeof(ws->self) - 1);
	if (n <= 0) {
		free(ws);
		return err_set(e, -ENOENT, "cannot find this binary for the "
			"workers (/proc/self/exe): %s; DAG_EXECUTOR=local runs "
			"without them", strerror(errno));
	}
	ws->self[n] = '\0';
	ws->max_instances = (unsigned)env_num("DAG_WORKER_MAX_INSTANCES",
		WORKER_MAX_INSTANCES, 1);
	ws->max_rss_kb = env_num("DAG_WORKER_MAX_RSS_MB", WORKER_MAX_RSS_MB,
		1) * 1024;
	ws->grace_ms = x->kill_grace_ms > 0 ? x->kill_grace_ms :
		WORKER_KILL_GRACE_MS;
	ws->trace = getenv("DAG_WORKER_TRACE");
	if (ws->trace && !*ws->trace)
		ws->trace = NULL;
	ws->env = worker_env();
	ws->cmd = xcalloc(1, sizeof(*ws->cmd));
	ws->cmd->ops = &exec_local;
	ws->cmd->loop = x->loop;
	ws->cmd->slots = x->slots;
	ws->cmd->kill_grace_ms = x->kill_grace_ms;
	ws->cmd->on_result = on_command_result;
	ws->cmd->data = ws;
	rc = exec_local.open(ws->cmd, e);
	if (rc < 0) {
		env_free(ws->env);
		free(ws->cmd);
		free(ws);
		return rc;
	}
	x->priv = ws;
	return 0;
}

static int
workers_start(struct executor *x, const struct exec_request *rq,
	struct err *e)
{
	struct workers *ws = x->priv;
	const struct instance *in = &rq->g->inst[rq->inst];
	struct worker *w;
	char *json;
	size_t n;
	int rc, tries;

	if (rq->command) {
		ws->cmd->mark = x->mark;
		return exec_local.start(ws->cmd, rq, e);
	}
	json = exec_request_json(rq, e);
	if (!json)
		return e->code ? e->code : -EINVAL;
	n = strlen(json);
	json = xrealloc(json, n + 2);
	json[n++] = '\n';
	json[n] = '\0';
	/* An idle worker may have died unseen: then the next one. */
	for (tries = 0;; tries++) {
		w = idle_worker(ws);
		if (!w)
			w = spawn_worker(ws, e);
		if (!w) {
			free(json);
			return e->code ? e->code : -EIO;
		}
		rc = send_request(w, json, n);
		if (rc == 0)
			break;
		retire(w, "unwritable");
		if (tries == 2) {
			free(json);
			return err_set(e, rc, "cannot write to a worker: %s",
				uv_strerror(rc));
		}
	}
	free(json);
	w->busy = 1;
	uv_ref((uv_handle_t *)&w->proc);
	uv_ref((uv_handle_t *)&w->chan);
	w->token = rq->token;
	w->have_result = 0;
	w->signalled = w->timed_out = 0;
	w->started_ms = wall_ms();
	w->n_run++;
	if (rq->timeout_ms > 0)
		uv_timer_start(&w->timer, on_timer, (uint64_t)rq->timeout_ms, 0);
	trace(ws, "run %d %s %s\n", (int)w->pid,
		rq->dag->tasks[in->task].name, rq->g->parts[in->part].id);
	return 0;
}

static void
stop_worker(struct worker *w, int sig)
{
	if (w->exited)
		return;
	if (!w->signalled) {
		w->signalled = 1;
		uv_timer_start(&w->timer, on_timer, (uint64_t)w->ws->grace_ms,
			0);
	}
	kill(w->pid, sig);
}

static void
workers_cancel(struct executor *x, void *token, int sig)
{
	struct workers *ws = x->priv;
	struct worker *w;

	exec_local.cancel(ws->cmd, token, sig);
	for (w = ws->all; w; w = w->next)
		if (w->busy && w->token == token)
			stop_worker(w, sig);
}

static void
workers_cancel_all(struct executor *x, int sig)
{
	struct workers *ws = x->priv;
	struct worker *w;

	exec_local.cancel_all(ws->cmd, sig);
	for (w = ws->all; w; w = w->next)
		if (w->busy)
			stop_worker(w, sig);
}

static void
workers_close(struct executor *x)
{
	struct workers *ws = x->priv;
	struct worker *w;

	if (!ws)
		return;
	x->priv = NULL;
	exec_local.close(ws->cmd);
	free(ws->cmd);
	ws->cmd = NULL;
	ws->closing = 1;
	env_free(ws->env);
	ws->env = NULL;
	/*
	 * Nothing runs: every worker is idle and exits on EOF, at once.  The
	 * loop is about to close, so they are waited for here.
	 */
	for (w = ws->all; w; w = w->next) {
		if (w->busy)
			kill(w->pid, SIGKILL);
		retire(w, "closing");
	}
	while ((w = ws->all)) {
		ws->all = w->next;
		close_handle((uv_handle_t *)&w->proc);
		close_handle((uv_handle_t *)&w->timer);
		if (!w->exited)
			while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	if (!ws->n_workers)
		free(ws);
}

const struct exec_ops exec_worker = {
	.name = "workers",
	.open = workers_open,
	.start = workers_start,
	.cancel = workers_cancel,
	.cancel_all = workers_cancel_all,
	.close = workers_close,
};

const struct exec_ops *
exec_default(struct err *e)
{
	const char *v = getenv("DAG_EXECUTOR");

	if (!v || !*v || !strcmp(v, "workers"))
		return &exec_worker;
	if (!strcmp(v, "local"))
		return &exec_local;
	err_set(e, -EINVAL, "DAG_EXECUTOR='%s': expected workers or local", v);
	return NULL;
}

/* ---- the worker's side ---- */

/*
 * What a kind's prepare() made of a task's definition (clean's compiled
 * rules), kept for the worker's next instances: keyed by the kind and the
 * definition's JSON text, so a changed definition is prepared anew.  The
 * kind binds it to each instance's input afresh and keeps nothing of an
 * instance in it (t3520).  The most recent first; the oldest beyond
 * WORKER_PREPARED_MAX is released.
 */
#define WORKER_PREPARED_MAX 16

struct prepared {
	struct prepared *next;
	const struct task_kind *kind;
	char *key;
	void *obj;
};

static struct prepared *prepared_list;
static const char *worker_trace;

static void
prepared_release(struct prepared *p)
{
	if (p->kind->release)
		p->kind->release(p->obj);
	free(p->key);
	free(p);
}

/*
 * The prepared object of def for kind: kept, or made now and kept.  NULL
 * when the kind prepares nothing or cannot (the run then prepares and
 * reports the error itself).
 */
static void *
prepared_get(const struct task_kind *kind, const struct node *def)
{
	struct prepared **pp, *p;
	struct err e;
	void *obj = NULL;
	char *key;
	size_t n;

	if (!kind->prepare || !def)
		return NULL;
	key = node_to_json(def);
	for (pp = &prepared_list; (p = *pp); pp = &p->next)
		if (p->kind == kind && !strcmp(p->key, key)) {
			*pp = p->next;
			p->next = prepared_list;
			prepared_list = p;
			free(key);
			trace_to(worker_trace, "prepared %d %s kept\n",
				(int)getpid(), kind->name);
			return p->obj;
		}
	err_clear(&e);
	if (kind->prepare(def, &obj, &e) < 0 || !obj) {
		free(key);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->kind = kind;
	p->key = key;
	p->obj = obj;
	p->next = prepared_list;
	prepared_list = p;
	trace_to(worker_trace, "prepared %d %s new\n", (int)getpid(),
		kind->name);
	for (n = 1, pp = &prepared_list->next; *pp; n++, pp = &(*pp)->next)
		if (n == WORKER_PREPARED_MAX) {
			p = *pp;
			*pp = NULL;
			while (p) {
				struct prepared *next = p->next;

				prepared_release(p);
				p = next;
			}
			break;
		}
	return obj;
}

static void
prepared_clear(void)
{
	struct prepared *p;

	while ((p = prepared_list)) {
		prepared_list = p->next;
		prepared_release(p);
	}
}

/* Point standard output and error at path (appending), or /dev/null. */
static void
output_to(const char *path, int devnull)
{
	int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		0666) : -1;

	fflush(stdout);
	fflush(stderr);
	dup2(fd >= 0 ? fd : devnull, 1);
	dup2(fd >= 0 ? fd : devnull, 2);
	if (fd >= 0)
		close(fd);
}

/* Run one request; the result as a line of JSON (caller frees). */
static char *
serve_one(const char *line, int devnull)
{
	const struct task_kind *kind;
	struct exec_result res;
	struct node *m = NULL;
	struct rusage ru;
	struct err e;
	char *json;

	err_clear(&e);
	exec_result_init(&res);
	res.started_ms = wall_ms();
	if (instance_parse_json(line, &m, &kind, &e) < 0 ||
	    (kind->command_field && err_set(&e, -EINVAL, "a worker runs no "
	    "command ('%s')", kind->name) < 0)) {
		res.exit_code = 1;
		res.rc = e.code ? e.code : -EINVAL;
		snprintf(res.error, sizeof(res.error), "%s", e.msg);
	} else {
		void *prepared = prepared_get(kind, node_get(m, "definition"));

		output_to(node_get_str(m, "log"), devnull);
		res.exit_code = instance_run_builtin_node(kind, m, prepared,
			stdout, &res);
		output_to(NULL, devnull);
	}
	node_free(m);
	res.duration_ms = wall_ms() - res.started_ms;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		res.max_rss_kb = ru.ru_maxrss;
	json = exec_result_to_json(&res);
	return json;
}

int
worker_main(void)
{
	pid_t parent = getppid();
	char *line = NULL, *json;
	size_t cap = 0;
	ssize_t n;
	FILE *in;
	int devnull;

#ifdef HAVE_SYS_PRCTL_H
	prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	if (getppid() != parent || parent == 1)
		return 1;
	/* Temporaries carry the scheduler's pid, as a forked child's do. */
	atomic_tmp_owner_set((long)parent);
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(WORKER_FD, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "dag-cli __worker: no socket at fd %d (started "
			"by the scheduler only)\n", WORKER_FD);
		return 2;
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	in = fdopen(WORKER_FD, "r");
	if (!in || devnull < 0)
		return 1;
	worker_trace = getenv("DAG_WORKER_TRACE");
	if (worker_trace && !*worker_trace)
		worker_trace = NULL;
	wh_keep_connections(1);
#ifdef __GLIBC__
	/*
	 * What an instance frees stays in the process for the next one
	 * instead of going back to the kernel: a page touched for the first
	 * time costs a fault (20-50 us each on the machine of bench/, with
	 * the hypervisor's behind it), and a load touches megabytes of read
	 * buffers, maps and page cache.  Blocks up to 32 MiB come from the
	 * heap, and up to 64 MiB of free heap is kept; the RSS limit still
	 * retires a worker that grew.
	 */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		json = serve_one(line, devnull);
		n = write2_full(WORKER_FD, json, strlen(json), "\n", 1);
		free(json);
		if (n < 0)
			break;
	}
	wh_keep_connections(0);
	prepared_clear();
	free(line);
	fclose(in);
	close(devnull);
	return 0;
}
