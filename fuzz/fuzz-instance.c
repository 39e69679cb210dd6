/*
 * libFuzzer target: the instance JSON that "dag-cli __run-instance" reads,
 * through instance_parse_json only -- parsing and checking, never running
 * a kind or touching the filesystem.  An instance that parses is written
 * back as JSON and parsed again, which must succeed.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "instance.h"
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct task_kind *kind = NULL;
	struct node *m = NULL, *again = NULL;
	char *text = malloc(size + 1), *json;
	struct err e;

	memcpy(text, data, size);
	text[size] = '\0';
	err_clear(&e);
	if (instance_parse_json(text, &m, &kind, &e) == 0) {
		json = node_to_json(m);
		if (instance_parse_json(json, &again, &kind, &e) < 0)
			abort();
		node_free(again);
		free(json);
	}
	node_free(m);
	free(text);
	return 0;
}
