/*
 * What the web server's files share: the server's context (one thread
 * answers every request, so nothing here is locked), a request, a reply,
 * and the status of a DAG over a range.
 */
#ifndef DAG_WEB_PRIV_H
#define DAG_WEB_PRIV_H

#include <stdint.h>
#include <sys/types.h>

#include "state.h"
#include "status.h"
#include "util.h"
#include "web.h"

struct dag;
struct graph;
struct MHD_Connection;

/* One DAG file of --dags, loaded again only when the file changes. */
struct web_dag {
	char *path;
	char *name;		/* file name without .yaml */
	struct dag *dag;	/* NULL when it has errors */
	char *error;		/* the first error, when dag is NULL */
	int64_t mtime_ns;
	off_t size;
	char *svg;		/* the laid-out graph (graph_svg_layout), or NULL */
	int seen;		/* still in the directory at the last scan */
};

struct web_status {
	struct graph *g;
	struct partition *parts;
	size_t n_parts;
	struct status st;		/* engine/status's answer */
	int have_status;
	uint8_t *state;			/* per instance: enum web_state */
	char from[24], to[24];		/* the range asked or found */
};

/* One range's status kept between requests (web_cache.c). */
struct web_cached {
	const struct dag *dag;
	char from[24], to[24];		/* as asked; "" for the recorded span */
	int64_t data_version;		/* the state database's, when built */
	int64_t built_ms;		/* monotonic */
	uint64_t used;			/* for least recently used */
	int unranged;			/* also the answer when no range is asked */
	struct web_status s;
	int valid;
};

#define WEB_CACHE_SLOTS		8
#define WEB_CACHE_TTL_MS	5000

struct web_ctx {
	const struct web_options *opt;
	struct state st;	/* read-only; opened on first use */
	int st_open;
	struct { struct web_dag *v; size_t n, cap; } dags;
	/* The server's own counters, for /metrics. */
	uint64_t requests, rejected, errors, bytes_out;
	uint64_t cache_hits, cache_misses;
	struct web_cached cache[WEB_CACHE_SLOTS];
	uint64_t cache_tick;
};

struct web_req {
	struct MHD_Connection *conn;
	const char *method;
	struct web_path path;
	struct web_ctx *ctx;
};

struct web_reply {
	int status;			/* HTTP status */
	const char *type;		/* Content-Type */
	struct strbuf body;
	const unsigned char *data;	/* static bytes instead of body */
	size_t data_len;
	char range[96];			/* Content-Range, or "" */
	char extra[128];		/* one more "Name: value" header, or "" */
	int cache;			/* static: may be cached */
};

/* The decoded query argument key, or NULL; into buf (size bytes). */
const char *web_req_arg(const struct web_req *r, const char *key, char *buf,
	size_t size);
/* The raw request header, or NULL. */
const char *web_req_header(const struct web_req *r, const char *name);

/* A JSON error reply {"error": msg} with status. */
void web_reply_error(struct web_reply *rep, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * A file's bytes that a read of got bytes (negative: it failed) put into
 * rep->body: a 200 reply of type, or a 500 when the read failed.  0, or
 * -1 after the error reply.
 */
int web_reply_read(struct web_reply *rep, long got, const char *type);
/* Take a jansson value (its reference) as the JSON body with status 200. */
struct json_t;
void web_reply_json(struct web_reply *rep, struct json_t *v);

/* The state database, opened read-only on first use; NULL when absent. */
struct state *web_state(struct web_ctx *c);
/* Rescan --dags and reload what changed. */
void web_dags_scan(struct web_ctx *c);
/* The DAG called name (loaded), or NULL. */
struct web_dag *web_dag_find(struct web_ctx *c, const char *name);
void web_dags_release(struct web_ctx *c);

/* Answer an /api/ request (path segments after "api"). */
void web_api(struct web_req *r, struct web_reply *rep);
/* GET /api/dags/D/progress and POST /api/dags/D/clear|run (web_runs.c). */
void web_api_progress(struct web_req *r, struct web_dag *d,
	struct web_reply *rep);
void web_api_write(struct web_req *r, struct web_dag *d, const char *what,
	struct web_reply *rep);
/* Answer a static file request from the compiled-in web/ or --web DIR. */
void web_static(struct web_req *r, struct web_reply *rep);

/* ---- status of a range (web_status.c) ---- */

enum web_state {
	WS_DONE, WS_FAILED, WS_MISSING, WS_WAITING, WS_RUNNING, WS_UPSTREAM,
	WS_STALE, WS__COUNT
};
extern const char *const web_state_names[WS__COUNT];
/* The enum web_state of an enum inst_state. */
uint8_t web_state_index(uint8_t inst_state);


/*
 * The state of every instance of dag from..to (NULL: the partitions the
 * state database has seen, else today), as status computes it
 * (engine/status).  st may
 * be NULL (no history yet).  0 or negative errno with e filled; release
 * with web_status_release either way.
 */
int web_status_build(struct state *st, const struct dag *dag, const char *from,
	const char *to, int64_t now, struct web_status *out, struct err *e);
/*
 * web_status_build, taking what does not depend on the history or the
 * targets from prev (an earlier answer for the same loaded DAG, or NULL):
 * see status_rebuild.
 */
int web_status_rebuild(struct state *st, const struct dag *dag,
	const char *from, const char *to, int64_t now,
	const struct web_status *prev, struct web_status *out, struct err *e);
void web_status_release(struct web_status *s);

/*
 * The status of dag from..to as web_status_build gives it, built again
 * only when the state database changed or the answer is older than
 * WEB_CACHE_TTL_MS.  Owned by the cache: valid until the next call.
 * NULL with e filled on failure.
 */
const struct web_status *web_status_get(struct web_ctx *c,
	const struct dag *dag, const char *from, const char *to,
	struct err *e);
/* Drop what is kept for dag, before dag is freed. */
void web_cache_forget(struct web_ctx *c, const struct dag *dag);
/*
 * Build dag's answers again at their next request (its targets changed
 * behind the state database's back: a clear).
 */
void web_cache_expire(struct web_ctx *c, const struct dag *dag);

#endif
