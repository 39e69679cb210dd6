/*
 * What the web server's files share: the server's context (one thread
 * answers every request, so nothing here is locked), a request, a reply,
 * and the status of a DAG over a range.
 */
#ifndef DAG_WEB_PRIV_H
#define DAG_WEB_PRIV_H

#include <stdint.h>
#include <sys/types.h>

#include "hash.h"
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

/*
 * A DAG's records and consumed rows kept between requests, read again
 * only where the state database says they changed (web_hist.c).
 */
struct hist_inst;
struct web_hist {
	const struct dag *dag;		/* NULL: unused */
	int valid;
	int64_t seq;			/* the change number read up to */
	struct hist_inst *in;		/* every instance with a record */
	size_t n, cap;
	uint32_t *order;		/* in indexes by partition, task */
	struct hash index;		/* task NUL partition -> in index */
	/* A view's (web_hist_view), valid until the next refresh. */
	struct { const struct inst_rec **v; size_t n, cap; } recs;
	struct { struct consumed_row *v; size_t n, cap; } rows;
	uint64_t gen;			/* moves when a refresh changed it */
	uint64_t used;			/* for least recently used */
	uint64_t full_loads;		/* times read whole */
};

/*
 * Bring h up to date with dag's history in st (a change of dag reads it
 * whole).  1 when h can be viewed; 0 when the database does not record
 * its changes (build from the database instead); a negative errno with
 * e filled.  Whether each lease's run is alive is judged as of now_ms.
 */
int web_hist_refresh(struct web_hist *h, struct state *st,
	const struct dag *dag, int64_t now_ms, struct err *e);
/*
 * The records of partitions from..to and what made targets consumed, as
 * status_build_from takes them (borrowed from h: valid until its next
 * refresh).  st reads when a need was made again, once per attempt.
 */
void web_hist_view(struct web_hist *h, struct state *st, const char *from,
	const char *to, struct status_history *out);
/*
 * The first and last partition h has records for (as
 * state_partition_span): 0 with *first and *last the caller's, or
 * -ENOENT.
 */
int web_hist_span(const struct web_hist *h, char **first, char **last);
void web_hist_release(struct web_hist *h);

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
#define WEB_HIST_SLOTS		4

struct web_ctx {
	const struct web_options *opt;
	struct state st;	/* read-only; opened on first use */
	int st_open;
	struct { struct web_dag *v; size_t n, cap; } dags;
	/* The server's own counters, for /metrics. */
	uint64_t requests, rejected, errors, bytes_out;
	uint64_t cache_hits, cache_misses, history_reads;
	struct web_cached cache[WEB_CACHE_SLOTS];
	uint64_t cache_tick;
	struct web_hist hist[WEB_HIST_SLOTS];
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
 * see status_rebuild; and the history from hist (NULL: from st), brought
 * up to date first.
 */
int web_status_rebuild(struct state *st, const struct dag *dag,
	const char *from, const char *to, int64_t now,
	const struct web_status *prev, struct web_hist *hist,
	struct web_status *out, struct err *e);
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
