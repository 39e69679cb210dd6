/*
 * dag-cli serve: the web UI's server, its JSON API, /metrics and the
 * graph as SVG.  web_path.c (in libdag, so the fuzz target links it)
 * turns a raw request path into safe segments; web_server.c runs
 * libmicrohttpd; web_api.c answers /api/; web_static.c serves the files
 * of web/ compiled into the binary.
 */
#ifndef DAG_WEB_H
#define DAG_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Longest request path (bytes, decoded) and most segments we accept. */
#define WEB_PATH_MAX	1024
#define WEB_SEGS_MAX	16

/* A request path decoded and split: "/api/dags/x" -> "api", "dags", "x". */
struct web_path {
	char buf[WEB_PATH_MAX + 1];	/* the segments, NUL-separated */
	const char *seg[WEB_SEGS_MAX];	/* into buf */
	int n;
	int dir;			/* the path ended in '/' */
};

/*
 * Percent-decode in[0..len) into out (at least len + 1 bytes), once:
 * "%252e" becomes "%2e", never ".".  With plus_space (query strings) '+'
 * is a blank.  Returns the decoded length, or -EINVAL for a bad escape
 * or a decoded NUL.
 */
int web_url_decode(const char *in, size_t len, char *out, int plus_space);

/*
 * Decode and split a raw request path (what the client sent, before the
 * query string) into p.  Refuses, with -EINVAL, anything that could name
 * a file outside the directory it is served from or confuse a later
 * reader: a path not starting with '/', a "." or ".." segment (plain or
 * percent-encoded), empty segments ("//"), backslashes, control bytes,
 * a decoded '%' (double encoding); -ENAMETOOLONG past WEB_PATH_MAX bytes
 * or WEB_SEGS_MAX segments.
 */
int web_path_parse(const char *raw, struct web_path *p);

/*
 * Is s a safe single file-name segment as web_path_parse leaves them
 * (non-empty, no '/', not "." or "..", no control bytes)?
 */
int web_segment_ok(const char *s);

/*
 * Open segs[0]/.../segs[n-1] under dir for reading, one component at a
 * time with O_NOFOLLOW, so neither ".." nor a symbolic link anywhere
 * below dir can lead out of it.  Every segment must pass
 * web_segment_ok.  Returns the descriptor, or a negative errno.
 */
int web_open_under(const char *dir, const char *const *segs, int n);

struct web_options {
	const char *listen;	/* "HOST:PORT"; 127.0.0.1:8642 by default */
	const char *dags_dir;	/* where the DAG files are */
	const char *state_path;	/* the state database */
	const char *web_dir;	/* serve web/ from here instead of the binary */
	const char *token;	/* POST needs it in X-Dag-Token; NULL: no writes */
	const char *self;	/* this program, to start runs and clears */
	int max_conns;		/* connections at once */
};

struct web_server;

/*
 * Start serving (libmicrohttpd in a thread of its own).  Prints nothing;
 * *port gets the bound port (useful when the listen port is 0).  Returns
 * 0 or a negative errno with e filled.
 */
int web_server_start(const struct web_options *opt, struct web_server **out,
	int *port, struct err *e);
/* Stop serving and free everything (accepts NULL). */
void web_server_stop(struct web_server *s);

#endif
