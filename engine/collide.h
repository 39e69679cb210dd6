/*
 * Target collisions: two instances that would write one target (a daily
 * target without the date, two tasks with one path, an hourly target
 * that cannot tell the repeated hour 01b of a fall-back day from 01).
 * The second writer would silently replace the first one's output while
 * both are recorded done, so a collision is a definition error.
 */
#ifndef DAG_COLLIDE_H
#define DAG_COLLIDE_H

#include <stddef.h>
#include "util.h"

struct dag;
struct graph;

/*
 * Look for collisions in dag without a range: every writing task over
 * the first partitions from its start and, for an hourly DAG, over the
 * first fall-back day within a year of it.  Each collision is appended
 * to errs at the later task's target field.  Returns the number found.
 */
size_t collide_check_dag(const struct dag *dag, struct errs *errs);

/*
 * The same over every instance of g (plan, run and backfill: the range
 * asked for, where the zone's rules may differ from the first year).
 */
size_t collide_check_graph(const struct graph *g, struct errs *errs);

#endif
