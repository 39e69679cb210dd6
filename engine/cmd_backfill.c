/*
 * dag-cli backfill DAG --from A --to B (or --days-back N): run over a
 * range, oldest partition first unless --reverse.  It is run with a range
 * (cli_run_range in cmd_run.c); what is its own is turning --days-back
 * into a first date, which needs the DAG's zone: "today" is the zone's
 * today, not UTC's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dag.h"
#include "range.h"
#include "util.h"

int
cli_days_back(const struct dag *dag, long n, int64_t now, char *buf,
	size_t len, struct err *e)
{
	struct partition *parts = NULL;
	struct partition_info info;
	size_t np = 0;
	int64_t y;
	int m, d;

	if (dag_partitions(dag, "today", "today", now, &parts, &np, e) < 0)
		return -EINVAL;
	dag_partition_info(dag, &parts[0], &info);
	free(parts);
	{
		int yy;

		if (sscanf(info.date, "%4d-%2d-%2d", &yy, &m, &d) != 3)
			return err_set(e, -EINVAL, "bad date '%s'", info.date);
		y = yy;
	}
	civil_from_days(civil_days(y, m, d) - n, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02d", (long long)y, m, d);
	return 0;
}

int
cmd_backfill(int argc, char **argv)
{
	return cli_run_range("backfill", argc, argv);
}
