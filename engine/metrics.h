/*
 * The Prometheus text format of a DAG's history (SPEC §6): what
 * /metrics serves and `dag-cli metrics DAG` prints.
 */
#ifndef DAG_METRICS_H
#define DAG_METRICS_H

#include <stddef.h>
#include "util.h"

struct dag;
struct state;

/*
 * Append the Prometheus text of dags to sb: last success time, duration
 * histogram, records by outcome, attempts by outcome, instances by
 * recorded state, each labelled only by dag, task and state or outcome.
 * st may be NULL.  Metric names are fixed (see dag-cli.1).
 */
void metrics_write(struct strbuf *sb, struct state *st,
	const struct dag *const *dags, size_t n);

#endif
