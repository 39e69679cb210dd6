/*
 * The HTTP side of dag-cli serve, on libmicrohttpd.  One internal thread
 * answers every request in turn: the answers are small and come from an
 * in-process cache and short read transactions on the state database
 * (WAL: a reader never blocks the scheduler's writes), so one thread
 * keeps the server's memory flat and its state free of locks, and the
 * main thread only waits for a signal.
 *
 * Hostile input is stopped at the door: libmicrohttpd is told not to
 * unescape anything, so web_path_parse decodes each path exactly once;
 * bodies past WEB_BODY_MAX, too many connections and oversized headers
 * are refused; a Host header that is not this loopback address is
 * refused too (DNS rebinding); POST needs the token.
 *
 * libmicrohttpd is loaded with dlopen when the server starts, its
 * functions typed from microhttpd.h through a table (engine/dynlib.h):
 * linked, it and its TLS stack would be loaded by every exec of dag-cli,
 * which is exec'd per scheduled run and per Slurm job.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dynlib.h"
#include "metrics.h"
#include "web_priv.h"

/* A POST body we read at most (writes take their arguments in the query). */
#define WEB_BODY_MAX	4096

struct web_server {
	struct MHD_Daemon *d;
	struct web_ctx ctx;
	int loopback;
	int port;
};

/* The libmicrohttpd functions used, typed from its own declarations. */
static struct mhd {
	void *dl;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_lookup_connection_value) *lookup;
	__typeof__(MHD_create_response_from_buffer) *response_new;
	__typeof__(MHD_add_response_header) *add_header;
	__typeof__(MHD_queue_response) *queue;
	__typeof__(MHD_destroy_response) *response_free;
} mhd;

static const struct dynlib_sym mhd_syms[] = {
#define SYM(m, f) DYNLIB_SYM(struct mhd, m, f)
	SYM(start_daemon, MHD_start_daemon),
	SYM(stop_daemon, MHD_stop_daemon),
	SYM(get_daemon_info, MHD_get_daemon_info),
	SYM(lookup, MHD_lookup_connection_value),
	SYM(response_new, MHD_create_response_from_buffer),
	SYM(add_header, MHD_add_response_header),
	SYM(queue, MHD_queue_response),
	SYM(response_free, MHD_destroy_response),
#undef SYM
};

/*
 * Load libmicrohttpd once per process (before its thread starts); it
 * stays loaded.  0 or -ENOENT with e filled.
 */
static int
mhd_load(struct err *e)
{
	if (mhd.dl)
		return 0;
	return dynlib_open(&mhd.dl, MHD_SONAME, "libmicrohttpd", mhd_syms,
		ARRAY_LEN(mhd_syms), &mhd, e);
}

/* Per connection: how much body has come. */
struct conn_state {
	size_t body;
};

const char *
web_req_arg(const struct web_req *r, const char *key, char *buf, size_t size)
{
	const char *raw = mhd.lookup(r->conn,
		MHD_GET_ARGUMENT_KIND, key);
	size_t len;

	if (!raw)
		return NULL;
	len = strlen(raw);
	if (len >= size || web_url_decode(raw, len, buf, 1) < 0)
		return NULL;
	return buf;
}

const char *
web_req_header(const struct web_req *r, const char *name)
{
	return mhd.lookup(r->conn, MHD_HEADER_KIND, name);
}

void
web_reply_error(struct web_reply *rep, int status, const char *fmt, ...)
{
	json_t *o;
	char msg[512];
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_pack("{s:s}", "error", msg);
	s = json_dumps(o, 0);
	json_decref(o);
	sb_reset(&rep->body);
	sb_adds(&rep->body, s);
	sb_addc(&rep->body, '\n');
	free(s);
	rep->status = status;
	rep->type = "application/json";
}

int
web_reply_read(struct web_reply *rep, long got, const char *type)
{
	if (got < 0) {
		web_reply_error(rep, 500, "cannot read the file");
		return -1;
	}
	rep->body.len = (size_t)got;
	rep->body.buf[got] = '\0';
	rep->status = 200;
	rep->type = type;
	return 0;
}

void
web_reply_json(struct web_reply *rep, json_t *v)
{
	char *s = json_dumps(v, JSON_PRESERVE_ORDER | JSON_COMPACT |
		JSON_REAL_PRECISION(6));

	json_decref(v);
	sb_reset(&rep->body);
	sb_adds(&rep->body, s);
	sb_addc(&rep->body, '\n');
	free(s);
	rep->status = 200;
	rep->type = "application/json";
}

/* No unescaping by libmicrohttpd: web_path_parse decodes once. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/* Is the Host header one that names this loopback server? */
static int
host_ok(const struct web_server *s, const char *host)
{
	char want[64];
	const char *names[] = { "127.0.0.1", "localhost", "[::1]" };
	size_t i;

	if (!s->loopback)
		return 1;
	if (!host)
		return 0;
	for (i = 0; i < ARRAY_LEN(names); i++) {
		snprintf(want, sizeof(want), "%s:%d", names[i], s->port);
		if (!strcmp(host, want) || !strcmp(host, names[i]))
			return 1;
	}
	return 0;
}

/* Compare without leaking, through timing, how much of the token matched. */
static int
token_ok(const char *want, const char *got)
{
	size_t i, n = strlen(want), m = got ? strlen(got) : 0;
	unsigned diff = n != m;

	for (i = 0; i < n; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)(i < m ? got[i] : 0);
	return got && !diff;
}

static void
route(struct web_server *s, struct web_req *r, struct web_reply *rep,
	const char *url)
{
	int rc;

	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD") &&
	    strcmp(r->method, "POST")) {
		web_reply_error(rep, 405, "method '%s' is not allowed", r->method);
		return;
	}
	if (!host_ok(s, web_req_header(r, "Host"))) {
		web_reply_error(rep, 403, "this server answers to 127.0.0.1:%d "
			"only", s->port);
		return;
	}
	rc = web_path_parse(url, &r->path);
	if (rc == -ENAMETOOLONG) {
		web_reply_error(rep, 414, "request path too long");
		return;
	}
	if (rc < 0) {
		web_reply_error(rep, 400, "bad request path");
		return;
	}
	if (!strcmp(r->method, "POST")) {
		if (!s->ctx.opt->token) {
			web_reply_error(rep, 403, "writes are disabled: start "
				"dag-cli serve with --token-file");
			return;
		}
		if (!token_ok(s->ctx.opt->token, web_req_header(r,
		    "X-Dag-Token"))) {
			web_reply_error(rep, 403, "missing or wrong X-Dag-Token");
			return;
		}
	}
	if (r->path.n >= 1 && !strcmp(r->path.seg[0], "api")) {
		web_api(r, rep);
	} else if (r->path.n == 1 && !strcmp(r->path.seg[0], "metrics")) {
		struct web_ctx *c = &s->ctx;
		const struct dag **dags = NULL;
		size_t i, n = 0;

		web_dags_scan(c);
		dags = xcalloc(c->dags.n + 1, sizeof(*dags));
		for (i = 0; i < c->dags.n; i++)
			if (c->dags.v[i].dag)
				dags[n++] = c->dags.v[i].dag;
		sb_reset(&rep->body);
		metrics_write(&rep->body, web_state(c),
			(const struct dag *const *)dags, n);
		free(dags);
		sb_addf(&rep->body, "# HELP dag_web_requests_total Requests "
			"this server answered.\n# TYPE dag_web_requests_total "
			"counter\ndag_web_requests_total %llu\n"
			"# HELP dag_web_rejected_total Requests refused as bad or "
			"not allowed (4xx).\n# TYPE dag_web_rejected_total "
			"counter\ndag_web_rejected_total %llu\n"
			"# HELP dag_web_errors_total Requests that failed on the "
			"server (5xx).\n# TYPE dag_web_errors_total counter\n"
			"dag_web_errors_total %llu\n"
			"# HELP dag_web_sent_bytes_total Response bytes sent.\n"
			"# TYPE dag_web_sent_bytes_total counter\n"
			"dag_web_sent_bytes_total %llu\n"
			"# HELP dag_web_status_builds_total Statuses of a range "
			"built from the targets and the state database.\n"
			"# TYPE dag_web_status_builds_total counter\n"
			"dag_web_status_builds_total %llu\n"
			"# HELP dag_web_status_reused_total Statuses of a range "
			"answered from the last build (nothing changed).\n"
			"# TYPE dag_web_status_reused_total counter\n"
			"dag_web_status_reused_total %llu\n"
			"# HELP dag_web_history_reads_total DAG histories read "
			"whole from the state database (a build after a change "
			"reads only what changed).\n"
			"# TYPE dag_web_history_reads_total counter\n"
			"dag_web_history_reads_total %llu\n",
			(unsigned long long)c->requests,
			(unsigned long long)c->rejected,
			(unsigned long long)c->errors,
			(unsigned long long)c->bytes_out,
			(unsigned long long)c->cache_misses,
			(unsigned long long)c->cache_hits,
			(unsigned long long)c->history_reads);
		rep->status = 200;
		rep->type = "text/plain; version=0.0.4; charset=utf-8";
	} else if (!strcmp(r->method, "POST")) {
		web_reply_error(rep, 405, "POST is for /api/ only");
	} else {
		web_static(r, rep);
	}
}

static enum MHD_Result
send_reply(struct web_server *s, struct MHD_Connection *conn,
	struct web_reply *rep)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;

	if (rep->data) {
		len = rep->data_len;
		resp = mhd.response_new(len, (void *)rep->data,
			MHD_RESPMEM_PERSISTENT);
		sb_release(&rep->body);
	} else {
		len = rep->body.len;
		resp = mhd.response_new(len, sb_detach(&rep->body),
			MHD_RESPMEM_MUST_FREE);
	}
	if (!resp)
		return MHD_NO;
	mhd.add_header(resp, "Content-Type",
		rep->type ? rep->type : "application/octet-stream");
	mhd.add_header(resp, "Cache-Control", rep->cache ?
		"max-age=60" : "no-store");
	mhd.add_header(resp, "X-Content-Type-Options", "nosniff");
	mhd.add_header(resp, "X-Frame-Options", "DENY");
	mhd.add_header(resp, "Referrer-Policy", "no-referrer");
	mhd.add_header(resp, "Content-Security-Policy",
		"default-src 'self'; img-src 'self' data:; "
		"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
	if (rep->range[0])
		mhd.add_header(resp, "Content-Range", rep->range);
	if (rep->extra[0]) {
		char name[64];
		const char *colon = strchr(rep->extra, ':');

		if (colon && (size_t)(colon - rep->extra) < sizeof(name)) {
			memcpy(name, rep->extra, (size_t)(colon - rep->extra));
			name[colon - rep->extra] = '\0';
			mhd.add_header(resp, name, colon + 2);
		}
	}
	s->ctx.requests++;
	if (rep->status >= 500)
		s->ctx.errors++;
	else if (rep->status >= 400)
		s->ctx.rejected++;
	s->ctx.bytes_out += len;
	ret = mhd.queue(conn, (unsigned)rep->status, resp);
	mhd.response_free(resp);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
	const char *method, const char *version, const char *upload,
	size_t *upload_size, void **con_cls)
{
	struct web_server *s = cls;
	struct conn_state *cs = *con_cls;
	struct web_req r;
	struct web_reply rep;
	enum MHD_Result ret;

	if (!cs) {
		cs = xcalloc(1, sizeof(*cs));
		*con_cls = cs;
		return MHD_YES;
	}
	if (*upload_size) {
		cs->body += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&rep, 0, sizeof(rep));
	sb_init(&rep.body);
	memset(&r, 0, sizeof(r));
	r.conn = conn;
	r.method = method;
	r.ctx = &s->ctx;
	if (cs->body > WEB_BODY_MAX)
		web_reply_error(&rep, 413, "request body over %d bytes",
			WEB_BODY_MAX);
	else
		route(s, &r, &rep, url);
	ret = send_reply(s, conn, &rep);
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}

/* "HOST:PORT" or "[V6]:PORT" into addr; -EINVAL when it is neither. */
static int
parse_listen(const char *spec, struct sockaddr_storage *addr, socklen_t *len,
	int *loopback)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	char *end;
	long port;
	size_t hl;

	if (!colon || colon == spec)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(addr, 0, sizeof(*addr));
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)addr;

		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}

int
web_server_start(const struct web_options *opt, struct web_server **out,
	int *port, struct err *e)
{
	struct sockaddr_storage addr;
	struct web_server *s;
	const union MHD_DaemonInfo *info;
	socklen_t alen;
	int loopback = 0;
	unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;

	*out = NULL;
	if (parse_listen(opt->listen, &addr, &alen, &loopback) < 0)
		return err_set(e, -EINVAL, "--listen expects HOST:PORT with an "
			"IP address, not '%s'", opt->listen);
	if (!loopback && !opt->token)
		return err_set(e, -EPERM, "refusing to listen on '%s' without "
			"a token: give --token-file, or listen on 127.0.0.1",
			opt->listen);
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (mhd_load(e) < 0)
		return e->code;
	s = xcalloc(1, sizeof(*s));
	s->ctx.opt = opt;
	s->loopback = loopback;
	s->d = mhd.start_daemon(flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)(opt->max_conns > 0 ?
			opt->max_conns : 128),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
		MHD_OPTION_CONNECTION_TIMEOUT, 30u,
		MHD_OPTION_END);
	if (!s->d) {
		free(s);
		return err_set(e, -EADDRINUSE, "cannot listen on '%s' (in use, "
			"or not an address of this machine)", opt->listen);
	}
	info = mhd.get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	*port = s->port;
	*out = s;
	return 0;
}

void
web_server_stop(struct web_server *s)
{
	if (!s)
		return;
	mhd.stop_daemon(s->d);
	if (s->ctx.st_open)
		state_release(&s->ctx.st);
	web_dags_release(&s->ctx);
	free(s);
}
