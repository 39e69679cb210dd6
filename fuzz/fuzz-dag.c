/*
 * libFuzzer target: the DAG loader on arbitrary bytes.  A file that loads
 * is then expanded for a few partitions (targets and every field), so the
 * template binder and the expander see whatever the loader accepted.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include "dag.h"
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
expand_some(const struct dag *dag)
{
	struct partition *parts = NULL;
	struct err e;
	size_t n = 0, i, t;

	if (dag_partitions(dag, dag->start, dag->start, 0, &parts, &n, &e) < 0)
		return;
	for (i = 0; i < n && i < 3; i++) {
		for (t = 0; t < dag->n_tasks; t++) {
			struct node *fields = NULL;
			char *target = NULL;

			if (dag_resolve(dag, t, &parts[i], NULL, &fields, &target,
			    &e) == 0) {
				node_free(fields);
				free(target);
			}
		}
	}
	free(parts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errs errs = { 0 };
	struct dag *dag = NULL;

	if (dag_load_string((const char *)data, size, "fuzz.yaml", &dag,
	    &errs) == 0)
		expand_some(dag);
	dag_free(dag);
	errs_release(&errs);
	return 0;
}
