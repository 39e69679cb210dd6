/*
 * dag-cli serve, dag-cli metrics and graph --format svg: the commands
 * that show a DAG's history to people and to Prometheus.  serve starts
 * the web server (engine/web_server.c) and then only waits for SIGINT or
 * SIGTERM, so it stops cleanly and frees everything; the server never
 * writes the state database (clear and run are run as dag-cli
 * processes of their own, and only with the token).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dag.h"
#include "graph.h"
#include "graph_svg.h"
#include "metrics.h"
#include "state.h"
#include "web_priv.h"

/* serve --help: what the command does, after its usage. */
static const char serve_about[] =
	"Serves the web UI, the JSON API under /api/ and /metrics "
	"for the DAGs in --dags.\nRead-only unless --token-file "
	"is given: then POST requests carrying the\ntoken in an "
	"X-Dag-Token header may clear instances and start runs.  "
	"A\nnon-loopback --listen needs a token.  Port 0 picks a "
	"free port; the URL is\nprinted on standard output.\n";

/* metrics --help: what the command does, after its usage. */
static const char metrics_about[] =
	"Prints what serve's /metrics shows for these DAGs (less "
	"the server's own\ncounters), for a cron job to push to a "
	"Prometheus Pushgateway.\n";

/* The token in path: its first line, blanks trimmed; NULL (message printed). */
static char *
read_token(const char *path)
{
	char buf[512];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp) {
		fprintf(stderr, "dag-cli serve: cannot read token file '%s': %s\n",
			path, strerror(errno));
		return NULL;
	}
	if (!fgets(buf, sizeof(buf), fp))
		buf[0] = '\0';
	fclose(fp);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n < 16) {
		fprintf(stderr, "dag-cli serve: the token in '%s' is %s; use at "
			"least 16 characters\n", path, n ? "too short" : "empty");
		return NULL;
	}
	return xstrdup(buf);
}

int
cmd_serve(int argc, char **argv)
{
	struct web_options wo;
	struct web_server *srv = NULL;
	struct cli_opts o;
	char self[PATH_MAX];
	char *token = NULL;
	sigset_t set;
	struct err e;
	int rc = EXIT_USAGE, port = 0, sig;
	ssize_t n;

	err_clear(&e);
	memset(&wo, 0, sizeof(wo));
	if (cli_opts_start("serve", serve_about, argc, argv, &o, &rc))
		goto out;
	if (o.n_args) {
		cli_usage_error("serve", "takes no operands");
		goto out;
	}
	if (o.token_file && !(token = read_token(o.token_file)))
		goto out;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		snprintf(self, sizeof(self), "%s", argv[0]);
	else
		self[n] = '\0';
	wo.listen = o.listen ? o.listen : "127.0.0.1:8642";
	wo.dags_dir = o.dags ? o.dags : "dags";
	wo.state_path = cli_state_path(o.state);
	wo.web_dir = o.web;
	wo.token = token;
	wo.self = self;
	wo.max_conns = 128;
	/* Every thread, libmicrohttpd's too, inherits this mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (web_server_start(&wo, &srv, &port, &e) < 0) {
		fprintf(stderr, "dag-cli serve: ");
		err_print(&e, stderr);
		rc = e.code == -EINVAL || e.code == -EPERM ? EXIT_USAGE :
			EXIT_FAILED;
		goto out;
	}
	printf("dag-cli serve: listening on http://%.*s:%d/\n",
		(int)(strrchr(wo.listen, ':') - wo.listen), wo.listen, port);
	fflush(stdout);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		;
	web_server_stop(srv);
	rc = EXIT_OK;
out:
	free(token);
	cli_opts_release(&o);
	return rc;
}

int
cmd_metrics(int argc, char **argv)
{
	struct cli_opts o;
	struct dag **dags = NULL;
	struct state st;
	struct strbuf sb;
	struct err e;
	int rc = EXIT_USAGE, have_state = 0, i, n = 0;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	sb_init(&sb);
	if (cli_opts_start("metrics", metrics_about, argc, argv, &o, &rc))
		goto out;
	if (o.n_args < 1) {
		cli_usage("metrics", stderr);
		goto out;
	}
	dags = xcalloc((size_t)o.n_args + 1, sizeof(*dags));
	for (i = 0; i < o.n_args; i++) {
		dags[n] = cli_load_dag(o.args[i], o.dags);
		if (!dags[n])
			goto out;
		n++;
	}
	if (state_open(&st, cli_state_path(o.state), 1, &e) == 0)
		have_state = 1;
	metrics_write(&sb, have_state ? &st : NULL,
		(const struct dag *const *)dags, (size_t)n);
	fwrite(sb.buf, 1, sb.len, stdout);
	rc = EXIT_OK;
out:
	for (i = 0; i < n; i++)
		dag_free(dags[i]);
	free(dags);
	sb_release(&sb);
	state_release(&st);
	cli_opts_release(&o);
	return rc;
}

int
cmd_graph_svg(const struct dag *dag, const struct cli_opts *o)
{
	const char **states = xcalloc(dag->n_tasks + 1, sizeof(*states));
	struct web_status s;
	struct state st;
	struct err e;
	char *layout, *svg, *first = NULL, *last = NULL;
	const char *date = o->date;
	int have_state;
	size_t i;

	err_clear(&e);
	memset(&s, 0, sizeof(s));
	have_state = state_open(&st, cli_state_path(o->state), 1, &e) == 0;
	err_clear(&e);
	layout = graph_svg_layout(dag, &e);
	if (!layout) {
		fprintf(stderr, "dag-cli graph: ");
		err_print(&e, stderr);
		free(states);
		state_release(&st);
		return EXIT_FAILED;
	}
	/*
	 * Each node shows the state of --date's partition, else of the
	 * latest the history has; with neither, no state.
	 */
	if (!date && have_state && state_partition_span(&st, dag->name, &first,
	    &last, &e) == 0)
		date = last;
	if (date && web_status_build(have_state ? &st : NULL, dag, date, date,
	    cli_now(), &s, &e) == 0) {
		for (i = 0; i < s.g->n_inst; i++)
			if (s.g->inst[i].requested)
				states[s.g->inst[i].task] =
					web_state_names[s.state[i]];
	} else if (date && o->date) {
		fprintf(stderr, "dag-cli graph: ");
		err_print(&e, stderr);
	}
	web_status_release(&s);
	free(first);
	free(last);
	svg = graph_svg_colour(dag, layout, states);
	printf("%s", svg);
	free(svg);
	free(layout);
	free(states);
	state_release(&st);
	return EXIT_OK;
}
