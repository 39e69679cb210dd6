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
 * Only the dot layout and the core (SVG) renderer are used, linked in and
 * preloaded with demand loading off: graphviz then loads no plugin at run
 * time, in particular not pango, whose plugin reads freed memory when a
 * process makes a second context, and whose fontconfig caches are never
 * freed.  Text is measured by graphviz's built-in font metrics.
 */
#include "config.h"

#include <errno.h>
#include <gvc.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
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

extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;

static const lt_symlist_t builtins[] = {
	{ "gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library },
	{ "gvplugin_core_LTX_library", &gvplugin_core_LTX_library },
	{ NULL, NULL },
};

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
	GVC_t *gvc = gvContextPlugins(builtins, 0);
	Agraph_t *g;
	Agnode_t **nodes;
	char *result = NULL, *svg = NULL;
	unsigned int len = 0;
	size_t i, k;

	if (!gvc) {
		err_set(e, -ENOMEM, "graphviz: cannot make a context");
		return NULL;
	}
	g = agopen((char *)dag->name, Agdirected, NULL);
	agattr(g, AGRAPH, "rankdir", "LR");
	agattr(g, AGRAPH, "bgcolor", "transparent");
	agattr(g, AGNODE, "shape", "box");
	agattr(g, AGNODE, "style", "rounded,filled");
	agattr(g, AGNODE, "fontname", "DejaVu Sans");
	agattr(g, AGNODE, "fontsize", "11");
	agattr(g, AGEDGE, "fontname", "DejaVu Sans");
	agattr(g, AGEDGE, "fontsize", "9");
	nodes = xcalloc(dag->n_tasks + 1, sizeof(*nodes));
	for (i = 0; i < dag->n_tasks; i++) {
		const struct task *t = &dag->tasks[i];
		char *id = xasprintf("task-%s", t->name);
		char *fill = xasprintf("#fe%04zx", i);
		char *label = xasprintf("%s\n%s\n#STATE%04zu#####", t->name,
			t->kind->name, i);

		nodes[i] = agnode(g, t->name, 1);
		agsafeset(nodes[i], "id", id, "");
		agsafeset(nodes[i], "fillcolor", fill, "");
		agsafeset(nodes[i], "label", label, "");
		free(id);
		free(fill);
		free(label);
	}
	for (i = 0; i < dag->n_tasks; i++)
		for (k = 0; k < dag->tasks[i].n_needs; k++) {
			const struct need *nd = &dag->tasks[i].needs[k];
			Agedge_t *ed = agedge(g, nodes[nd->task], nodes[i], NULL, 1);
			char *label = edge_label(dag, nd);

			if (label) {
				agsafeset(ed, "label", label, "");
				free(label);
			}
		}
	if (gvLayout(gvc, g, "dot") != 0 ||
	    gvRenderData(gvc, g, "svg", &result, &len) != 0 || !result) {
		err_set(e, -EIO, "graphviz cannot lay out DAG '%s'", dag->name);
	} else {
		/* From the <svg> element on: no XML prologue or comments. */
		const char *start = strstr(result, "<svg");

		svg = xstrdup(start ? start : result);
	}
	if (result)
		gvFreeRenderData(result);
	gvFreeLayout(gvc, g);
	agclose(g);
	gvFreeContext(gvc);
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
