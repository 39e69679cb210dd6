/*
 * libFuzzer target: the record reader on arbitrary bytes.  The first byte
 * picks the format (csv, tsv, jsonl); the rest is the file, so gzip input
 * (magic bytes) is reached too.  Every record is read and its invariants
 * checked: fields NUL-terminated at their length, raw inside the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum rec_format fmts[] = { REC_CSV, REC_TSV, REC_JSONL };
	const char *paths[1] = { path };
	struct rec_reader *r;
	struct record rec;
	struct err e;
	FILE *fp;
	size_t i;

	if (size < 1)
		return 0;
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-csv-%ld", (long)getpid());
	fp = fopen(path, "wb");
	if (!fp)
		abort();
	fwrite(data + 1, 1, size - 1, fp);
	fclose(fp);
	if (rec_reader_open(&r, paths, 1, fmts[data[0] % 3], &e) < 0)
		return 0;
	while (rec_reader_next(r, &rec, &e) > 0) {
		if (rec.reject)
			continue;
		if (rec.n != rec_reader_width(r))
			abort();
		for (i = 0; i < rec.n; i++)
			if (rec.fields[i][rec.lens[i]] != 0)
				abort();
	}
	rec_reader_free(r);
	return 0;
}
