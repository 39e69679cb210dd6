/*
 * dag-cli status DAG [--date D | --from A --to B] [--task NAME]
 * [--only STATE] [--compact] [--json]: each instance's state as a task x
 * partition grid, or as JSON with attempts, counts and the reason.  The
 * answer itself comes from the status module (status.c), which the web
 * API and plan share; this file only chooses the range, filters and
 * prints.
 *
 * Two decisions:
 *
 * - Without a range it shows the partitions the state database has
 *   seen, since "everything since start" would be years of dashes; with
 *   no history it says so and how to ask for dates, rather than invent
 *   today's partition with every task missing.  A state database that
 *   exists but cannot be read is an error (exit 2), never an empty grid
 *   that looks like "nothing ran".
 *
 * - The grid fits the terminal (80 columns when not one): a grid of a
 *   few tasks as it always was, then one with columns as narrow as their
 *   cells, then the grid transposed (a row per task: many tasks over a
 *   few partitions), and when none fits, or there are more than
 *   GRID_MAX_ROWS partitions, the compact view: a row per task, a
 *   character per partition, in blocks as wide as the screen.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "dag.h"
#include "graph.h"
#include "range.h"
#include "state.h"
#include "status.h"
#include "util.h"

/* More partitions than this: the compact view. */
#define GRID_MAX_ROWS 60
/* GRID_MAX_ROWS as a string literal, for --help. */
#define QUOTE_(x) #x
#define QUOTE(x) QUOTE_(x)

/* status --help: what the command does, after its usage. */
static const char status_about[] =
	"Prints each instance's state: done (target exists), "
	"failed, missing,\nwaiting (external input), running (leased "
	"by a live run), upstream_failed,\nstale (done, but a need was "
	"made again or an input changed since).\nWithout a range: the "
	"partitions the state database has seen.\n--task and --only "
	"keep the partitions with an instance of those tasks\nin those "
	"states.  A grid too wide for the screen is transposed (a row "
	"per\ntask); one that still does not fit, or of more than "
	QUOTE(GRID_MAX_ROWS) " partitions, is\nshown compact: a row per "
	"task, a character per partition.\n";

/* The widest a task's name gets in the compact view. */
#define COMPACT_NAME 24

/* What to show: the filters, and where. */
struct view {
	const struct status *s;
	uint8_t *task_on;	/* per task index: --task chose it (all: 1) */
	unsigned states;	/* bit per enum inst_state; 0: every state */
	int tty;		/* colour */
	size_t width;		/* columns to fit in */
};

/* Is instance k requested and chosen by the filters? */
static int
shown(const struct view *v, size_t k)
{
	const struct graph *g = v->s->g;

	if (!g->inst[k].requested || !v->task_on[g->inst[k].task])
		return 0;
	return !v->states || (v->states & (1u << v->s->inst[k].state));
}

/* Does partition p have an instance to show? */
static int
part_shown(const struct view *v, size_t p)
{
	const struct graph *g = v->s->g;
	size_t k;

	for (k = v->s->part_first[p]; k < g->n_inst && g->inst[k].part == p;
	    k++)
		if (shown(v, k))
			return 1;
	return 0;
}

static void
status_json(const struct view *v)
{
	const struct graph *g = v->s->g;
	json_t *root = json_object(), *list = json_array();
	size_t i;
	char *text;

	json_object_set_new(root, "dag", json_string(g->dag->name));
	for (i = 0; i < g->n_inst; i++)
		if (shown(v, i))
			json_array_append_new(list, status_inst_json(v->s, i,
				0));
	json_object_set_new(root, "instances", list);
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2) |
		JSON_REAL_PRECISION(6));
	printf("%s\n", text);
	free(text);
	json_decref(root);
}

/* ANSI colour of each state on a terminal. */
static const char *const colour[INST__COUNT] = {
	[INST_DONE] = "\033[32m",
	[INST_TODO] = "",
	[INST_WAITING] = "\033[33m",
	[INST_BLOCKED] = "\033[33m",
	[INST_RUNNING] = "\033[36m",
	[INST_FAILED] = "\033[31m",
	[INST_UPSTREAM_FAILED] = "\033[35m",
	[INST_STALE] = "\033[34m",
};

/* The compact view's character for each state. */
static const char glyph[INST__COUNT] = {
	[INST_DONE] = '+',
	[INST_TODO] = '.',
	[INST_WAITING] = 'w',
	[INST_BLOCKED] = 'w',
	[INST_RUNNING] = '>',
	[INST_FAILED] = 'X',
	[INST_UPSTREAM_FAILED] = '^',
	[INST_STALE] = '~',
};

/*
 * Column widths for the grid, by task index (0: not shown): each task's
 * name, and at least min; or, with min 0, at least its widest cell.
 * Returns the width of a row.
 */
static size_t
grid_widths(const struct view *v, size_t min, size_t *col)
{
	const struct graph *g = v->s->g;
	const struct dag *dag = g->dag;
	size_t t, k, total = strlen("partition");

	for (k = 0; k < g->n_parts; k++)
		if (strlen(g->parts[k].id) > total)
			total = strlen(g->parts[k].id);
	total = total < 13 ? 13 : total;
	for (t = 0; t < dag->n_tasks; t++)
		col[t] = v->task_on[t] ? strlen(dag->tasks[t].name) : 0;
	for (k = 0; k < g->n_inst; k++) {
		size_t len = strlen(inst_state_name(v->s->inst[k].state));
		size_t *c = &col[g->inst[k].task];

		if (*c && shown(v, k) && len > *c)
			*c = len;
	}
	for (t = 0; t < dag->n_tasks; t++) {
		if (!col[t])
			continue;
		if (col[t] < min)
			col[t] = min;
		total += 1 + col[t];
	}
	return total;
}

static void
grid_row(const struct view *v, size_t p, size_t pw, const size_t *col,
	size_t last, const char **cell, uint8_t *cs)
{
	const struct graph *g = v->s->g;
	const struct dag *dag = g->dag;
	size_t k, t;

	for (t = 0; t < dag->n_tasks; t++)
		cell[t] = NULL;
	for (k = v->s->part_first[p]; k < g->n_inst && g->inst[k].part == p;
	    k++) {
		if (!shown(v, k))
			continue;
		cs[g->inst[k].task] = v->s->inst[k].state;
		cell[g->inst[k].task] = inst_state_name(v->s->inst[k].state);
	}
	printf("%-*s", (int)pw, g->parts[p].id);
	for (t = 0; t < dag->n_tasks; t++) {
		size_t x = dag->topo[t];
		/* The last column is not padded: no trailing blanks. */
		int wd = x == last ? 0 : (int)col[x];

		if (!col[x])
			continue;
		if (v->tty && cell[x])
			printf(" %s%-*s\033[0m", colour[cs[x]], wd, cell[x]);
		else
			printf(" %-*s", wd, cell[x] ? cell[x] : "-");
	}
	printf("\n");
}

/* The grid: a row per partition, a column per task. */
static void
status_grid(const struct view *v, const size_t *col)
{
	const struct graph *g = v->s->g;
	const struct dag *dag = g->dag;
	size_t i, t, last = 0, pw = 13;
	/* One row's cells, by task index: a DAG may have any number. */
	const char **cell = xcalloc(dag->n_tasks + 1, sizeof(*cell));
	uint8_t *cs = xcalloc(dag->n_tasks + 1, sizeof(*cs));

	for (i = 0; i < g->n_parts; i++)
		if (strlen(g->parts[i].id) > pw)
			pw = strlen(g->parts[i].id);
	for (t = 0; t < dag->n_tasks; t++)
		if (col[dag->topo[t]])
			last = dag->topo[t];
	printf("%-*s", (int)pw, "partition");
	for (t = 0; t < dag->n_tasks; t++) {
		size_t x = dag->topo[t];

		if (col[x])
			printf(" %-*s", x == last ? 0 : (int)col[x],
				dag->tasks[x].name);
	}
	printf("\n");
	for (i = 0; i < g->n_parts; i++)
		if (part_shown(v, i))
			grid_row(v, i, pw, col, last, cell, cs);
	free(cs);
	free(cell);
}

/*
 * The compact view: a row per task, a character per partition (those the
 * range asked for, in order), in blocks as wide as the screen, each
 * under a line naming its first and last partition; then a legend of
 * the characters used.
 */
static void
status_compact(const struct view *v)
{
	const struct graph *g = v->s->g;
	const struct dag *dag = g->dag;
	size_t *cols = xcalloc(g->n_parts + 1, sizeof(*cols));
	uint8_t *row_on = xcalloc(dag->n_tasks + 1, 1);
	unsigned used = 0;
	size_t n = 0, i, k, t, nw = 4, per, b;

	for (i = 0; i < g->n_parts; i++) {
		int any = 0;

		for (k = v->s->part_first[i]; k < g->n_inst &&
		    g->inst[k].part == i; k++) {
			any |= g->inst[k].requested;
			if (shown(v, k)) {
				row_on[g->inst[k].task] = 1;
				used |= 1u << v->s->inst[k].state;
			}
		}
		if (any)
			cols[n++] = i;
	}
	for (t = 0; t < dag->n_tasks; t++)
		if (row_on[t] && strlen(dag->tasks[t].name) > nw)
			nw = strlen(dag->tasks[t].name);
	if (nw > COMPACT_NAME)
		nw = COMPACT_NAME;
	per = v->width > nw + 11 ? v->width - nw - 1 : 10;
	for (b = 0; b < n; b += per) {
		size_t end = b + per < n ? b + per : n;
		const char *first = g->parts[cols[b]].id;
		const char *lastp = g->parts[cols[end - 1]].id;
		size_t room = end - b;

		if (b)
			printf("\n");
		printf("%-*s %s", (int)nw, "", first);
		if (end - b > 1 && room >= strlen(first) + 1 + strlen(lastp))
			printf("%*s", (int)(room - strlen(first)), lastp);
		else if (end - b > 1)
			printf(" .. %s", lastp);
		printf("\n");
		for (t = 0; t < dag->n_tasks; t++) {
			size_t x = dag->topo[t], c;

			if (!row_on[x])
				continue;
			printf("%-*.*s ", (int)nw, (int)nw, dag->tasks[x].name);
			for (c = b; c < end; c++) {
				long in = status_find(v->s, dag->tasks[x].name,
					g->parts[cols[c]].id);
				uint8_t st;

				if (in < 0 || !shown(v, (size_t)in)) {
					putchar(' ');
					continue;
				}
				st = v->s->inst[in].state;
				if (v->tty)
					printf("%s%c\033[0m", colour[st],
						glyph[st]);
				else
					putchar(glyph[st]);
			}
			printf("\n");
		}
	}
	{
		/* The legend, in the order status names the states. */
		static const uint8_t order[] = { INST_DONE, INST_FAILED,
			INST_UPSTREAM_FAILED, INST_TODO, INST_WAITING,
			INST_RUNNING, INST_STALE };
		const char *sep = "";

		if (used & (1u << INST_BLOCKED))
			used |= 1u << INST_WAITING;
		printf("\n");
		for (k = 0; k < ARRAY_LEN(order); k++) {
			if (!(used & (1u << order[k])))
				continue;
			printf("%s%c %s", sep, glyph[order[k]],
				inst_state_name(order[k]));
			sep = "  ";
		}
		printf("\n");
	}
	free(row_on);
	free(cols);
}

/*
 * The transposed grid's column widths, by partition index (0: not
 * shown): each partition's id or its widest shown cell; *name_w gets
 * the task column's.  Returns the width of a row.
 */
static size_t
flip_widths(const struct view *v, size_t *col, size_t *name_w)
{
	const struct graph *g = v->s->g;
	size_t p, k, total;

	*name_w = strlen("task");
	for (k = 0; k < g->n_inst; k++) {
		size_t len = strlen(inst_state_name(v->s->inst[k].state));
		size_t nl = strlen(g->dag->tasks[g->inst[k].task].name);
		size_t *c = &col[g->inst[k].part];

		if (!shown(v, k))
			continue;
		if (!*c)
			*c = strlen(g->parts[g->inst[k].part].id);
		if (len > *c)
			*c = len;
		if (nl > *name_w)
			*name_w = nl;
	}
	total = *name_w;
	for (p = 0; p < g->n_parts; p++)
		total += col[p] ? 1 + col[p] : 0;
	return total;
}

/*
 * The transposed grid: a row per task, a column per partition, for many
 * tasks over a few partitions.  Tasks with nothing to show are left out.
 */
static void
status_flipped(const struct view *v, const size_t *col, size_t name_w)
{
	const struct graph *g = v->s->g;
	const struct dag *dag = g->dag;
	size_t p, t, last = 0;

	for (p = 0; p < g->n_parts; p++)
		if (col[p])
			last = p;
	printf("%-*s", (int)name_w, "task");
	for (p = 0; p < g->n_parts; p++)
		if (col[p])
			printf(" %-*s", p == last ? 0 : (int)col[p],
				g->parts[p].id);
	printf("\n");
	for (t = 0; t < dag->n_tasks; t++) {
		const char *name = dag->tasks[dag->topo[t]].name;
		int any = 0;

		for (p = 0; p < g->n_parts && !any; p++) {
			long k = status_find(v->s, name, g->parts[p].id);

			any = col[p] && k >= 0 && shown(v, (size_t)k);
		}
		if (!any)
			continue;
		printf("%-*s", (int)name_w, name);
		for (p = 0; p < g->n_parts; p++) {
			long k = status_find(v->s, name, g->parts[p].id);
			int wd = p == last ? 0 : (int)col[p];
			uint8_t st;

			if (!col[p])
				continue;
			if (k < 0 || !shown(v, (size_t)k)) {
				printf(" %-*s", wd, "-");
				continue;
			}
			st = v->s->inst[k].state;
			if (v->tty)
				printf(" %s%-*s\033[0m", colour[st], wd,
					inst_state_name(st));
			else
				printf(" %-*s", wd, inst_state_name(st));
		}
		printf("\n");
	}
}

/*
 * The first of these that fits: the grid, the grid with narrow columns,
 * the transposed grid, the compact view.
 */
static void
status_text(const struct view *v, int compact)
{
	const struct graph *g = v->s->g;
	size_t *col = xcalloc(g->dag->n_tasks + 1, sizeof(*col));
	size_t *pcol = xcalloc(g->n_parts + 1, sizeof(*pcol));
	size_t rows = 0, i, name_w = 0;

	for (i = 0; i < g->n_parts; i++)
		rows += part_shown(v, i);
	if (!rows)
		printf("no instance of %s in that range matches --task and "
			"--only\n", g->dag->name);
	else if (!compact && rows <= GRID_MAX_ROWS &&
	    (grid_widths(v, 15, col) <= v->width ||
	    grid_widths(v, 0, col) <= v->width))
		status_grid(v, col);
	else if (!compact && flip_widths(v, pcol, &name_w) <= v->width)
		status_flipped(v, pcol, name_w);
	else
		status_compact(v);
	free(pcol);
	free(col);
}

/*
 * Below the grid, the git commits whose runs (those that loaded their
 * DAG file from a repository) made the instances shown, each with how
 * many: a handful of lines at most, so a list suffices.
 */
static void
status_commits(const struct view *v)
{
	const struct status *s = v->s;
	const struct graph *g = s->g;
	struct prov { const char *commit; int dirty; size_t n; };
	struct { struct prov *v; size_t n, cap; } seen = { 0 };
	size_t i, k;

	for (i = 0; i < g->n_inst; i++) {
		const struct inst_rec *r = s->inst[i].rec;

		if (!shown(v, i) || !r || !r->git_commit ||
		    (s->inst[i].state != INST_DONE &&
		    s->inst[i].state != INST_STALE))
			continue;
		for (k = 0; k < seen.n; k++)
			if (!strcmp(seen.v[k].commit, r->git_commit) &&
			    seen.v[k].dirty == r->git_dirty)
				break;
		if (k == seen.n) {
			struct prov p = { r->git_commit, r->git_dirty, 0 };

			VEC_PUSH(seen, p);
		}
		seen.v[k].n++;
	}
	if (seen.n)
		printf("\n");
	for (k = 0; k < seen.n; k++)
		printf("made at commit %s%s: %zu instance%s\n",
			*seen.v[k].commit ? seen.v[k].commit :
			"(none yet)", seen.v[k].dirty ?
			" with the DAG file dirty" : "", seen.v[k].n,
			seen.v[k].n == 1 ? "" : "s");
	free(seen.v);
}

/* --task NAME...: which tasks to show.  0, or -1 with a message. */
static int
choose_tasks(const struct dag *dag, const struct cli_list *l, uint8_t *on)
{
	size_t i, t;

	for (t = 0; t < dag->n_tasks; t++)
		on[t] = !l->n;
	for (i = 0; i < l->n; i++) {
		int x = dag_task_index(dag, l->v[i]);

		if (x < 0) {
			const char **names = xcalloc(dag->n_tasks + 1,
				sizeof(*names));
			const char *near;

			for (t = 0; t < dag->n_tasks; t++)
				names[t] = dag->tasks[t].name;
			near = str_nearest(l->v[i], names, dag->n_tasks);
			fprintf(stderr, "dag-cli status: DAG '%s' has no task "
				"'%s'%s%s%s\n", dag->name, l->v[i],
				near ? "; did you mean '" : "", near ? near : "",
				near ? "'?" : "");
			free(names);
			return -1;
		}
		on[x] = 1;
	}
	return 0;
}

/* The states status names, for --only (waiting covers blocked). */
static const uint8_t named_states[] = { INST_DONE, INST_FAILED, INST_TODO,
	INST_WAITING, INST_RUNNING, INST_UPSTREAM_FAILED, INST_STALE };

/* One --only value: a state name. */
static int
only_one(const char *name, size_t n, unsigned *mask)
{
	size_t k;

	for (k = 0; k < ARRAY_LEN(named_states); k++) {
		const char *sn = inst_state_name(named_states[k]);

		if (strlen(sn) == n && !strncmp(sn, name, n)) {
			*mask |= 1u << named_states[k];
			if (named_states[k] == INST_WAITING)
				*mask |= 1u << INST_BLOCKED;
			return 0;
		}
	}
	fprintf(stderr, "dag-cli status: --only '%.*s': not a state (done, "
		"failed, missing, waiting, running, upstream_failed, stale)\n",
		(int)n, name);
	return -1;
}

/* --only STATE... (each may be a comma list).  0, or -1 with a message. */
static int
choose_states(const struct cli_list *l, unsigned *mask)
{
	size_t i;

	*mask = 0;
	for (i = 0; i < l->n; i++) {
		const char *p = l->v[i];

		for (;;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);

			if (only_one(p, n, mask) < 0)
				return -1;
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	return 0;
}

/* Columns to fit: the terminal's, else 80. */
static size_t
screen_width(void)
{
	struct winsize ws;

	if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

/*
 * Nothing recorded and no range asked for: say so, and how to ask,
 * rather than show a partition nobody asked about.
 */
static void
no_history(const struct dag *dag, const char *path, int json)
{
	if (json) {
		json_t *root = json_object();
		char *text;

		json_object_set_new(root, "dag", json_string(dag->name));
		json_object_set_new(root, "instances", json_array());
		text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2));
		printf("%s\n", text);
		free(text);
		json_decref(root);
		return;
	}
	printf("no runs of %s are recorded in %s\n", dag->name, path);
	printf("to see partitions all the same: dag-cli status %s --date D, "
		"or --from A --to B\n", dag->name);
}

/*
 * Open the state database read-only.  1 opened, 0 there is none yet
 * (nothing has run: every instance is simply missing), negative when it
 * exists but cannot be read (e filled): damaged, or from a newer dag-cli.
 */
static int
open_history(struct state *st, const char *path, struct err *e)
{
	int rc = state_open(st, path, 1, e);

	if (rc == -ENOENT) {
		err_clear(e);
		return 0;
	}
	return rc < 0 ? rc : 1;
}

/*
 * A history that cannot be read because a page of the database is
 * damaged: say so and go on with the targets alone (they are the truth;
 * the next run moves the file aside).  1 when that is the case, with the
 * database closed.  A file that is not a database at all stays an error.
 */
static int
history_damaged(struct state *st, const char *path, const struct err *e)
{
	if (state_damaged(st) != STATE_DAMAGED)
		return 0;
	fprintf(stderr, "dag-cli status: warning: state database '%s' is "
		"damaged (%s); showing the targets only, without history (the "
		"next run moves it aside)\n", path, e->msg);
	state_release(st);
	return 1;
}

/* A history that cannot be read is a usage-level error: exit 2. */
static int
history_error(const char *path, const struct err *e)
{
	fprintf(stderr, "dag-cli status: cannot read the state database "
		"'%s': ", path);
	err_print(e, stderr);
	return EXIT_USAGE;
}

int
cmd_status(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct graph *g = NULL;
	struct graph_options gopt = { 0 };
	struct state st;
	struct status s;
	struct view v;
	struct err e;
	char *first = NULL, *last = NULL;
	const char *from, *to, *path;
	int rc = EXIT_USAGE, have_state = 0;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	memset(&s, 0, sizeof(s));
	memset(&v, 0, sizeof(v));
	if (cli_opts_start("status", status_about, argc, argv, &o, &rc))
		goto out;
	dag = cli_opts_dag("status", &o,
		o.n_args == 1 && !o.from == !o.to && !(o.date && o.from),
		"give one DAG, and --date D or --from A --to B or neither");
	if (!dag)
		goto out;
	v.task_on = xcalloc(dag->n_tasks + 1, 1);
	if (choose_tasks(dag, &o.tasks, v.task_on) < 0 ||
	    choose_states(&o.only, &v.states) < 0)
		goto out;
	gopt.now = cli_now();
	path = cli_state_path(o.state);
	have_state = open_history(&st, path, &e);
	if (have_state < 0 && history_damaged(&st, path, &e)) {
		have_state = 0;
		err_clear(&e);
	}
	if (have_state < 0) {
		rc = history_error(path, &e);
		goto out;
	}
	from = o.date ? o.date : o.from;
	to = o.date ? o.date : o.to;
	if (!from) {
		if (have_state && state_partition_span(&st, dag->name, &first,
		    &last, &e) == 0) {
			from = first;
			to = last;
		} else if (have_state && e.code && e.code != -ENOENT &&
		    !history_damaged(&st, path, &e)) {
			rc = history_error(path, &e);
			goto out;
		} else {
			/* Nothing recorded, or damaged (and said so). */
			no_history(dag, path, o.json);
			rc = EXIT_OK;
			goto out;
		}
		err_clear(&e);
	}
	if (graph_build_range(dag, from, to, &gopt, &g, &e) < 0)
		goto fail;
	if (status_build(&s, g, have_state ? &st : NULL, gopt.now * 1000,
	    &e) < 0) {
		if (!have_state || !history_damaged(&st, path, &e)) {
			rc = history_error(path, &e);
			goto out;
		}
		status_release(&s);
		memset(&s, 0, sizeof(s));
		err_clear(&e);
		if (status_build(&s, g, NULL, gopt.now * 1000, &e) < 0)
			goto fail;
	}
	v.s = &s;
	v.tty = isatty(1);
	v.width = screen_width();
	if (o.json)
		status_json(&v);
	else {
		status_text(&v, o.compact);
		status_commits(&v);
	}
	rc = EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "dag-cli status: ");
	err_print(&e, stderr);
	rc = e.code == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
out:
	free(v.task_on);
	status_release(&s);
	state_release(&st);
	free(first);
	free(last);
	graph_free(g);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}
