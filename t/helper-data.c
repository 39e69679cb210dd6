/*
 * helper subcommands for the data task kinds:
 *   probe-kind KIND TASK.yaml   call the kind's probe on the fields in
 *                               TASK.yaml; print "missing" or each input
 *   sha256 FILE                 print FILE's SHA-256 as sha256sum does
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "sha256.h"
#include "task_kind.h"
#include "util.h"

int helper_probe_kind(int argc, char **argv);
int helper_sha256(int argc, char **argv);

int
helper_probe_kind(int argc, char **argv)
{
	const struct task_kind *kind;
	struct errs errs = { 0 };
	struct node *fields = NULL, *inputs = NULL;
	struct task_run run;
	struct err e;
	size_t i;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: helper probe-kind KIND TASK.yaml\n");
		return 2;
	}
	kind = task_kind_find(argv[1]);
	if (!kind || !kind->probe) {
		fprintf(stderr, "helper: kind '%s' has no probe\n", argv[1]);
		return 2;
	}
	if (node_parse_file(argv[2], &fields, &errs) < 0 ||
	    (kind->validate && kind->validate(argv[2], fields, &errs) < 0)) {
		errs_print(&errs, stdout);
		errs_release(&errs);
		node_free(fields);
		return 2;
	}
	memset(&run, 0, sizeof(run));
	run.dag = "test";
	run.task = "task";
	run.partition = run.date = "2026-11-01";
	run.fields = fields;
	run.log = stderr;
	err_clear(&e);
	rc = kind->probe(&run, &inputs, &e);
	if (rc < 0) {
		printf("error: ");
		err_print(&e, stdout);
	} else if (rc == 0) {
		printf("missing\n");
	} else {
		for (i = 0; i < inputs->n; i++)
			printf("%s\n", inputs->items[i]->str);
	}
	node_free(inputs);
	node_free(fields);
	errs_release(&errs);
	return rc < 0 ? 1 : 0;
}

int
helper_sha256(int argc, char **argv)
{
	struct sha256 s;
	unsigned char buf[65536];
	uint8_t d[32];
	char hex[65];
	ssize_t got;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: helper sha256 FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	sha256_init(&s);
	/* Odd-sized reads exercise the partial-block path. */
	while ((got = read(fd, buf, 1000)) > 0)
		sha256_update(&s, buf, (size_t)got);
	close(fd);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	printf("%s  %s\n", hex, argv[1]);
	return 0;
}
