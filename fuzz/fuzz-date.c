/*
 * libFuzzer target: date expressions (what --date, --from and --to take:
 * YYYY-MM-DD, YYYY-MM-DDTHH[b], today, yesterday) and offsets, on DAGs in
 * zones with the odd cases: a half-hour DST (Lord_Howe), a skipped day
 * (Apia), a skipped midnight (Sao_Paulo), and UTC.
 *
 * Input: byte 0 picks the DAG, bytes 1-4 "now", bytes 5-6 an offset; the
 * rest is "FROM\nTO".  Beyond "no crash", the target checks what every
 * range must satisfy and aborts when it does not: partitions are
 * contiguous, non-empty and their ids strictly increasing, and stepping
 * forward then back by the offset returns to the same partition.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_DAGS 8
static struct dag *dags[N_DAGS];

static void
setup(void)
{
	static const char *const zones[] = { "UTC", "Australia/Lord_Howe",
		"Pacific/Apia", "America/Sao_Paulo" };
	size_t i;

	for (i = 0; i < N_DAGS; i++) {
		struct errs errs = { 0 };
		char text[512];
		int n = snprintf(text, sizeof(text), "dag: f\nschedule: %s\n"
			"timezone: %s\nstart: 2010-01-01\ntasks:\n  a: {kind: "
			"command, run: 'true', target: 'x/{partition}'}\n",
			i % 2 ? "hourly" : "daily", zones[i / 2]);

		if (dag_load_string(text, (size_t)n, "fuzz.yaml", &dags[i],
		    &errs) < 0)
			abort();
		errs_release(&errs);
	}
}

static void
check_range(const struct dag *dag, const struct partition *p, size_t n,
	int k)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct partition q, r;

		if (p[i].end <= p[i].start)
			abort();
		if (i + 1 < n && (p[i].end != p[i + 1].start ||
		    strcmp(p[i].id, p[i + 1].id) >= 0))
			abort();
		if (i > 2 && i + 3 < n)
			continue;
		if (dag_partition_step(dag, &p[i], k, &q) < 0)
			continue;
		if (dag_partition_step(dag, &q, -k, &r) == 0 &&
		    strcmp(r.id, p[i].id))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct dag *dag;
	struct partition *a = NULL, *b = NULL, *all = NULL;
	char buf[64], *from, *to, *nl;
	size_t na = 0, nb = 0, n = 0;
	int64_t now;
	struct err e;
	int k;

	if (!dags[0])
		setup();
	if (size < 7 || size - 7 >= sizeof(buf))
		return 0;
	dag = dags[data[0] % N_DAGS];
	/* 2010 .. 2045: wherever the zones do something odd. */
	now = 1262304000 + (int64_t)(((uint32_t)data[1] << 24 |
		(uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4]) %
		(35u * 366 * 86400));
	k = (int)(int16_t)(data[5] << 8 | data[6]) % 400;
	memcpy(buf, data + 7, size - 7);
	buf[size - 7] = '\0';
	from = buf;
	nl = strchr(buf, '\n');
	to = nl ? nl + 1 : buf;
	if (nl)
		*nl = '\0';
	/* Each end alone first: a range of decades is slow, not interesting. */
	if (dag_partitions(dag, from, from, now, &a, &na, &e) == 0 &&
	    dag_partitions(dag, to, to, now, &b, &nb, &e) == 0 &&
	    b[nb - 1].start - a[0].start < 90 * 86400 &&
	    dag_partitions(dag, from, to, now, &all, &n, &e) == 0)
		check_range(dag, all, n, k);
	if (na)
		check_range(dag, a, na, k);
	free(a);
	free(b);
	free(all);
	return 0;
}
