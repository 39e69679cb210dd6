/* libFuzzer target: the YAML node parser on arbitrary bytes. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errs errs = { 0 };
	struct node *root = NULL;

	if (node_parse_string((const char *)data, size, "fuzz.yaml", &root,
	    &errs) == 0) {
		char *json = node_to_json(root);
		free(json);
	}
	node_free(root);
	errs_release(&errs);
	return 0;
}
