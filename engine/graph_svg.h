/*
 * The task graph drawn as SVG with graphviz (libgvc): laid out once per
 * definition, recoloured per request.  `dag-cli graph --format svg` and
 * the web UI draw the same picture.
 */
#ifndef DAG_GRAPH_SVG_H
#define DAG_GRAPH_SVG_H

#include "util.h"

struct dag;

/*
 * Lay the task graph of dag out with graphviz once: an SVG in which every
 * node is a group with id "task-NAME" and a state placeholder that
 * graph_svg_colour fills.  NULL (e filled) when graphviz fails.
 */
char *graph_svg_layout(const struct dag *dag, struct err *e);
/*
 * The laid-out SVG with each task's state (names from web_state_names,
 * indexed like dag->tasks; NULL: no state) shown by colour, glyph and
 * word.  Returns a new string.
 */
char *graph_svg_colour(const struct dag *dag, const char *svg,
	const char *const *states);

#endif
