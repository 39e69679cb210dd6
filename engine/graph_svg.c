/*
 * The task graph as SVG, laid out by graphviz (libgvc, the dot layout)
 * once per definition and recoloured per request.  Layout is the costly
 * part (milliseconds) and depends only on the definition; states change
 * every second while a backfill runs.  So each node is drawn with two
 * placeholders that never occur otherwise in graphviz's output: a fill
 * colour #feNNNN (NNNN the task's index in hex) and a third label line
 * #STATENNNN##### as wide as the longest state word, which
 * graph_svg_colour replaces with the state's colour and its glyph and
 * name.  The glyph and the word make every state readable without colour
 * (failed and upstream_failed differ in both), and the palette is
 * Okabe and Ito's, which colour-blind readers can tell apart.
 *
 * Only the dot layout and the core (SVG) renderer are used, preloaded
 * with demand loading off: graphviz then loads no plugin of its own at
 * run time, in particular not pango, whose plugin reads freed memory when
 * a process makes a second context, and whose fontconfig caches are never
 * freed.  Text is measured by graphviz's built-in font metrics.
 *
 * graphviz (libgvc, libcgraph and those two plugins) is loaded with
 * dlopen on the first layout and stays loaded, its functions typed from
 * its headers through a table (engine/dynlib.h): only serve and graph
 * --format svg lay out, and linked, graphviz would be loaded by every
 * exec of dag-cli.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <gvc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "dynlib.h"
#include "graph_svg.h"
#include "task_kind.h"

static const struct {
	const char *name, *fill, *glyph;
} looks[] = {
	{ "done", "#009e73", "\u2713" },
	{ "failed", "#d55e00", "\u2717" },
	{ "missing", "#e0e0e0", "\u25cb" },
	{ "waiting", "#f0e442", "\u2026" },
	{ "running", "#56b4e9", "\u25b6" },
	{ "upstream_failed", "#e69f00", "\u21e1" },
	{ "stale", "#cc79a7", "\u2248" },
};

/* The graphviz functions used, typed from its own declarations. */
struct gv {
	void *dl;
	__typeof__(gvContextPlugins) *context;
	__typeof__(gvLayout) *layout;
	__typeof__(gvRenderData) *render;
	__typeof__(gvFreeRenderData) *free_render;
	__typeof__(gvFreeLayout) *free_layout;
	__typeof__(gvFreeContext) *free_context;
};

struct cg {
	void *dl;
	__typeof__(agopen) *open;
	__typeof__(agattr) *attr;
	__typeof__(agnode) *node;
	__typeof__(agedge) *edge;
	__typeof__(agsafeset) *safeset;
	__typeof__(agclose) *close;
	__typeof__(Agdirected) *directed;
};

/* A plugin: the one symbol graphviz's preloading wants. */
struct gvplug {
	void *dl;
	gvplugin_library_t *library;
};

static const struct dynlib_sym gv_syms[] = {
	DYNLIB_SYM(struct gv, context, gvContextPlugins),
	DYNLIB_SYM(struct gv, layout, gvLayout),
	DYNLIB_SYM(struct gv, render, gvRenderData),
	DYNLIB_SYM(struct gv, free_render, gvFreeRenderData),
	DYNLIB_SYM(struct gv, free_layout, gvFreeLayout),
	DYNLIB_SYM(struct gv, free_context, gvFreeContext),
};

static const struct dynlib_sym cg_syms[] = {
	DYNLIB_SYM(struct cg, open, agopen),
	DYNLIB_SYM(struct cg, attr, agattr),
	DYNLIB_SYM(struct cg, node, agnode),
	DYNLIB_SYM(struct cg, edge, agedge),
	DYNLIB_SYM(struct cg, safeset, agsafeset),
	DYNLIB_SYM(struct cg, close, agclose),
	DYNLIB_SYM(struct cg, directed, Agdirected),
};

static const struct dynlib_sym dot_syms[] = {
	DYNLIB_SYM(struct gvplug, library, gvplugin_dot_layout_LTX_library),
};

static const struct dynlib_sym core_syms[] = {
	DYNLIB_SYM(struct gvplug, library, gvplugin_core_LTX_library),
};

static struct gv gv;
static struct cg cg;
static struct gvplug dot, core;
static lt_symlist_t builtins[3];
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Load graphviz once per process (the web server lays out on its own
 * thread).  0, or -ENOENT with e filled and nothing left loaded.
 */
static int
gv_load(struct err *e)
{
	int rc = 0;

	pthread_mutex_lock(&load_lock);
	if (gv.dl)
		goto out;
	if ((rc = dynlib_open(&cg.dl, CGRAPH_SONAME, "graphviz", cg_syms,
	    ARRAY_LEN(cg_syms), &cg, e)) < 0)
		goto out;
	if ((rc = dynlib_open(&dot.dl, GVC_DOT_PLUGIN, "graphviz", dot_syms,
	    ARRAY_LEN(dot_syms), &dot, e)) < 0)
		goto fail_cg;
	if ((rc = dynlib_open(&core.dl, GVC_CORE_PLUGIN, "graphviz",
	    core_syms, ARRAY_LEN(core_syms), &core, e)) < 0)
		goto fail_dot;
	if ((rc = dynlib_open(&gv.dl, GVC_SONAME, "graphviz", gv_syms,
	    ARRAY_LEN(gv_syms), &gv, e)) < 0)
		goto fail_core;
	builtins[0] = (lt_symlist_t){ "gvplugin_dot_layout_LTX_library",
		dot.library };
	builtins[1] = (lt_symlist_t){ "gvplugin_core_LTX_library",
		core.library };
	goto out;
fail_core:
	dlclose(core.dl);
	core.dl = NULL;
fail_dot:
	dlclose(dot.dl);
	dot.dl = NULL;
fail_cg:
	dlclose(cg.dl);
	cg.dl = NULL;
out:
	pthread_mutex_unlock(&load_lock);
	return rc;
}

#define TOKEN_LEN 15	/* "#STATE" + 4 digits + "#####" */

static char *
edge_label(const struct dag *dag, const struct need *nd)
{
	const char *u = dag->schedule == SCHEDULE_DAILY ? "d" : "h";

	if (nd->lo == 0 && nd->hi == 0)
		return NULL;
	if (nd->lo == nd->hi)
		return xasprintf("%+d%s", nd->lo, u);
	return xasprintf("%+d%s..%+d%s", nd->lo, u, nd->hi, u);
}

char *
graph_svg_layout(const struct dag *dag, struct err *e)
{
	GVC_t *gvc;
	Agraph_t *g;
	Agnode_t **nodes;
	char *result = NULL, *svg = NULL;
	unsigned int len = 0;
	size_t i, k;

	if (gv_load(e) < 0)
		return NULL;
	gvc = gv.context(builtins, 0);
	if (!gvc) {
		err_set(e, -ENOMEM, "graphviz: cannot make a context");
		return NULL;
	}
	g = cg.open((char *)dag->name, *cg.directed, NULL);
	cg.attr(g, AGRAPH, "rankdir", "LR");
	cg.attr(g, AGRAPH, "bgcolor", "transparent");
	cg.attr(g, AGNODE, "shape", "box");
	cg.attr(g, AGNODE, "style", "rounded,filled");
	cg.attr(g, AGNODE, "fontname", "DejaVu Sans");
	cg.attr(g, AGNODE, "fontsize", "11");
	cg.attr(g, AGEDGE, "fontname", "DejaVu Sans");
	cg.attr(g, AGEDGE, "fontsize", "9");
	nodes = xcalloc(dag->n_tasks + 1, sizeof(*nodes));
	for (i = 0; i < dag->n_tasks; i++) {
		const struct task *t = &dag->tasks[i];
		char *id = xasprintf("task-%s", t->name);
		char *fill = xasprintf("#fe%04zx", i);
		char *label = xasprintf("%s\n%s\n#STATE%04zu#####", t->name,
			t->kind->name, i);

		nodes[i] = cg.node(g, t->name, 1);
		cg.safeset(nodes[i], "id", id, "");
		cg.safeset(nodes[i], "fillcolor", fill, "");
		cg.safeset(nodes[i], "label", label, "");
		free(id);
		free(fill);
		free(label);
	}
	for (i = 0; i < dag->n_tasks; i++)
		for (k = 0; k < dag->tasks[i].n_needs; k++) {
			const struct need *nd = &dag->tasks[i].needs[k];
			Agedge_t *ed = cg.edge(g, nodes[nd->task], nodes[i],
				NULL, 1);
			char *label = edge_label(dag, nd);

			if (label) {
				cg.safeset(ed, "label", label, "");
				free(label);
			}
		}
	if (gv.layout(gvc, g, "dot") != 0 ||
	    gv.render(gvc, g, "svg", &result, &len) != 0 || !result) {
		err_set(e, -EIO, "graphviz cannot lay out DAG '%s'", dag->name);
	} else {
		/* From the <svg> element on: no XML prologue or comments. */
		const char *start = strstr(result, "<svg");

		svg = xstrdup(start ? start : result);
	}
	if (result)
		gv.free_render(result);
	gv.free_layout(gvc, g);
	cg.close(g);
	gv.free_context(gvc);
	free(nodes);
	return svg;
}

static int
look_of(const char *state)
{
	size_t i;

	for (i = 0; state && i < ARRAY_LEN(looks); i++)
		if (!strcmp(looks[i].name, state))
			return (int)i;
	return -1;
}

static int
hexdigits(const char *p, int n, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

char *
graph_svg_colour(const struct dag *dag, const char *svg,
	const char *const *states)
{
	struct strbuf sb;
	const char *p = svg;

	sb_init(&sb);
	while (*p) {
		unsigned idx;
		int l;

		if (!strncmp(p, "#fe", 3) && hexdigits(p + 3, 4, &idx) == 0 &&
		    p[7] == '"' && idx < dag->n_tasks) {
			l = states ? look_of(states[idx]) : -1;
			sb_adds(&sb, l < 0 ? "#ffffff" : looks[l].fill);
			p += 7;
			continue;
		}
		if (!strncmp(p, "#STATE", 6) && strlen(p) >= TOKEN_LEN &&
		    sscanf(p + 6, "%4u", &idx) == 1 && idx < dag->n_tasks) {
			l = states ? look_of(states[idx]) : -1;
			if (l < 0)
				sb_adds(&sb, "\u2013");
			else
				sb_addf(&sb, "%s %s", looks[l].glyph,
					looks[l].name);
			p += TOKEN_LEN;
			continue;
		}
		sb_addc(&sb, *p++);
	}
	return sb_detach(&sb);
}
