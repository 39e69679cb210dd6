/*
 * Unit tests of engine/csv.c: the CSV/TSV/JSONL reader on clean and dirty
 * input (each record rendered as one line: "LINE:field|field" or
 * "LINE!reason!raw"), gzip in and out, and the rejects file.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>
#include "unit.h"
#include "atomic.h"
#include "csv.h"
#include "util.h"

static char tmpdir[] = "/tmp/test-csv-XXXXXX";
static int tmpdir_made;

static void
scratch_remove(void)
{
	remove_tree(tmpdir);
}

/* A path in this case's own scratch directory, removed at exit. */
static char *
scratch(const char *name)
{
	if (!tmpdir_made) {
		if (!mkdtemp(tmpdir))
			UNIT_FAIL("mkdtemp failed");
		tmpdir_made = 1;
		atexit(scratch_remove);
	}
	return xasprintf("%s/%s", tmpdir, name);
}

static char *
put_file(const char *name, const char *data, size_t n)
{
	char *path = scratch(name);
	FILE *fp = fopen(path, "wb");

	CHECK(fp != NULL);
	CHECK(fwrite(data, 1, n, fp) == n);
	fclose(fp);
	return path;
}

static char *
put_gz(const char *name, const char *data, size_t n)
{
	char *path = scratch(name);
	gzFile gz = gzopen(path, "wb");

	CHECK(gz != NULL);
	CHECK(gzwrite(gz, data, (unsigned)n) == (int)n);
	gzclose(gz);
	return path;
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	struct strbuf sb;
	char buf[4096];
	size_t got;

	CHECK(fp != NULL);
	sb_init(&sb);
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
		sb_add(&sb, buf, got);
	fclose(fp);
	if (n)
		*n = sb.len;
	return sb_detach(&sb);
}

/* Read everything; render header and records, one per line. */
static char *
render_paths(const char *const *paths, size_t np, enum rec_format fmt,
	int *rc_out, struct err *e)
{
	struct rec_reader *r;
	struct record rec;
	struct strbuf sb;
	size_t i;
	int rc;

	sb_init(&sb);
	err_clear(e);
	rc = rec_reader_open(&r, paths, np, fmt, e);
	if (rc < 0) {
		*rc_out = rc;
		return sb_detach(&sb);
	}
	sb_adds(&sb, "H:");
	for (i = 0; i < rec_reader_width(r); i++)
		sb_addf(&sb, "%s%s", i ? "|" : "", rec_reader_header(r)[i]);
	sb_addc(&sb, '\n');
	while ((rc = rec_reader_next(r, &rec, e)) > 0) {
		if (rec.reject) {
			sb_addf(&sb, "%llu!%s!", (unsigned long long)rec.line,
				rec.reject);
			for (i = 0; i < rec.raw_len; i++) {
				if (rec.raw[i])
					sb_addc(&sb, rec.raw[i]);
				else
					sb_adds(&sb, "\\0");
			}
		} else {
			sb_addf(&sb, "%llu:", (unsigned long long)rec.line);
			for (i = 0; i < rec.n; i++) {
				if (i)
					sb_addc(&sb, '|');
				sb_add(&sb, rec.fields[i], rec.lens[i]);
				CHECK_INT(strlen(rec.fields[i]), ==, rec.lens[i]);
			}
		}
		sb_addc(&sb, '\n');
	}
	rec_reader_free(r);
	*rc_out = rc;
	return sb_detach(&sb);
}

static char *
render(const char *data, size_t n, enum rec_format fmt)
{
	char *path = put_file("in", data, n);
	const char *paths[1] = { path };
	struct err e;
	int rc;
	char *out = render_paths(paths, 1, fmt, &rc, &e);

	if (rc < 0)
		UNIT_FAIL("reader failed: %s", e.msg);
	free(path);
	return out;
}

#define RENDER(s, fmt) render(s, sizeof(s) - 1, fmt)

UNIT_TEST(csv_rfc4180)
{
	char *out = RENDER("a,b,c\n"
		"1,\"x,y\",3\n"
		"\"he said \"\"hi\"\"\",,\"\"\n"
		"\"multi\nline\",2,3\n"
		"4,5,6", REC_CSV);

	CHECK_STR(out, "H:a|b|c\n"
		"2:1|x,y|3\n"
		"3:he said \"hi\"||\n"
		"4:multi\nline|2|3\n"
		"6:4|5|6\n");
	free(out);
}

UNIT_TEST(csv_crlf_and_bom)
{
	char *out = RENDER("\xef\xbb\xbfid,name\r\n1,\"a\r\nb\"\r\n2,c\r\n",
		REC_CSV);

	CHECK_STR(out, "H:id|name\n2:1|a\r\nb\n4:2|c\n");
	free(out);
}

UNIT_TEST(csv_rejects_with_lines)
{
	char *out = RENDER("a,b\n"
		"1,2\n"
		"1,2,3\n"
		"\n"
		"x\"y,2\n"
		"\"q\"z,2\n"
		"ok,\xc3\n"
		"nul,a\0b\n"
		"5,6\n", REC_CSV);

	CHECK_STR(out, "H:a|b\n"
		"2:1|2\n"
		"3!expected 2 fields, found 3!1,2,3\n"
		"5!bad quoting: a quote inside an unquoted field!x\"y,2\n"
		"6!bad quoting: characters after a closing quote!\"q\"z,2\n"
		"7!invalid UTF-8!ok,\xc3\n"
		"8!NUL byte in the record!nul,a\\0b\n"
		"9:5|6\n");
	free(out);
}

UNIT_TEST(csv_unterminated_quote_costs_one_line)
{
	char *out = RENDER("a,b,c\n"
		"1,\"open,3\n"
		"2,\"{\"\"k\"\"}\",3\n"
		"4,5,6\n"
		"7,\"never closed\n"
		"8,9,10\n", REC_CSV);

	CHECK_STR(out, "H:a|b|c\n"
		"2!bad quoting: characters after a closing quote!1,\"open,3\n"
		"3:2|{\"k\"}|3\n"
		"4:4|5|6\n"
		"5!bad quoting: unterminated quoted field!7,\"never closed\n"
		"6:8|9|10\n");
	free(out);
}

UNIT_TEST(csv_overlong_forms_and_surrogates_rejected)
{
	char *out = RENDER("a\n\xc0\xaf\n\xed\xa0\x80\n\xf4\x90\x80\x80\n"
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb9\n", REC_CSV);

	CHECK_STR(out, "H:a\n2!invalid UTF-8!\xc0\xaf\n"
		"3!invalid UTF-8!\xed\xa0\x80\n"
		"4!invalid UTF-8!\xf4\x90\x80\x80\n"
		"5:caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb9\n");
	free(out);
}

/* The CSV file name holding text is refused with a message holding why. */
static void
check_refused(const char *name, const char *text, const char *why)
{
	const char *paths[1];
	struct err e;
	char *out;
	int rc;

	paths[0] = put_file(name, text, strlen(text));
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, -EINVAL);
	CHECK(strstr(e.msg, why) != NULL);
	free(out);
	free((char *)paths[0]);
}

UNIT_TEST(csv_header_only_and_empty)
{
	char *out = RENDER("a,b\n", REC_CSV);

	CHECK_STR(out, "H:a|b\n");
	free(out);
	check_refused("empty", "", "is empty: expected a header line");
	check_refused("dup", "a,b,a\n", "column 'a' appears twice");
}

UNIT_TEST(csv_big_field)
{
	size_t big = 10u << 20, n;
	struct strbuf sb;
	char *path, *out;
	const char *paths[1];
	struct err e;
	int rc;

	sb_init(&sb);
	sb_adds(&sb, "k,v\n1,\"");
	sb_grow(&sb, big);
	memset(sb.buf + sb.len, 'x', big);
	sb.len += big;
	sb_adds(&sb, "\"\n2,y\n");
	path = put_file("big", sb.buf, sb.len);
	paths[0] = path;
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	n = strlen(out);
	CHECK_INT(n, ==, strlen("H:k|v\n2:1|") + big + strlen("\n3:2|y\n"));
	CHECK(!strcmp(out + n - 7, "\n3:2|y\n"));
	free(out);
	free(path);
	sb_release(&sb);
}

/* The prepare hook: the value of column k times 3, and its line. */
static void
prep_triple(void *ctx, const struct record *rec, int64_t *out)
{
	int *calls = ctx;

	(*calls)++;
	out[0] = strtoll(rec->fields[0], NULL, 10) * 3;
	out[1] = (int64_t)rec->line;
}

UNIT_TEST(prepare_runs_for_each_good_record)
{
	/* Several reader batches (256 KiB each), with malformed lines between. */
	const size_t nrec = 60000;
	struct rec_reader *r;
	struct record rec;
	struct strbuf sb;
	const char *paths[1];
	char *path;
	struct err e;
	size_t i, good = 0, bad = 0;
	int rc, calls = 0;

	sb_init(&sb);
	sb_adds(&sb, "k,pad\n");
	for (i = 0; i < nrec; i++) {
		if (i % 1000 == 7)
			sb_addf(&sb, "%zu,\"unclosed,x\n", i);
		else
			sb_addf(&sb, "%zu,%040zu\n", i, i);
	}
	path = put_file("prep.csv", sb.buf, sb.len);
	paths[0] = path;
	CHECK_INT(rec_reader_open(&r, paths, 1, REC_CSV, &e), ==, 0);
	rec_reader_prepare(r, prep_triple, &calls, 2);
	while ((rc = rec_reader_next(r, &rec, &e)) > 0) {
		if (rec.reject) {
			CHECK(rec.prepared == NULL);
			bad++;
			continue;
		}
		CHECK(rec.prepared != NULL);
		CHECK_INT(rec.prepared[0], ==,
			strtoll(rec.fields[0], NULL, 10) * 3);
		CHECK_INT(rec.prepared[1], ==, (int64_t)rec.line);
		good++;
	}
	CHECK_INT(rc, ==, 0);
	rec_reader_free(r);
	CHECK_INT(good + bad, ==, nrec);
	CHECK(bad > 0);
	CHECK_INT(calls, ==, (int)good);
	free(path);
	sb_release(&sb);
}

UNIT_TEST(gzip_by_magic_and_truncation)
{
	const char text[] = "a,b\n1,2\n3,4\n";
	char *path = put_gz("in.gz", text, sizeof(text) - 1), *out, *data;
	const char *paths[1] = { path };
	struct err e;
	size_t n;
	int rc;

	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	CHECK_STR(out, "H:a|b\n2:1|2\n3:3|4\n");
	free(out);
	/* Cut the trailer off: an error, not a short file. */
	data = slurp(path, &n);
	free(path);
	path = put_file("cut.gz", data, n - 6);
	paths[0] = path;
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, -EIO);
	CHECK(strstr(e.msg, "truncated gzip stream") != NULL);
	free(out);
	free(data);
	free(path);
}

/* A gzip member of data, in memory (*n bytes). */
static char *
gz_member(const char *data, size_t len, size_t *n)
{
	char *path = put_gz("member.gz", data, len), *out;

	out = slurp(path, n);
	unlink(path);
	free(path);
	return out;
}

/*
 * The gzip stream's rules, whichever inflate is built in: members
 * concatenated are one stream, zero padding after the last is ignored,
 * an end anywhere before the last trailer is an error (never a short
 * file), a damaged byte is an error, and a stream of many inflate blocks
 * arrives whole and in order.
 */
UNIT_TEST(gzip_members_padding_cuts_and_damage)
{
	const char one[] = "a,b\n1,2\n", two[] = "3,4\n5,6\n";
	char *m1, *m2, *path, *out;
	const char *paths[1];
	struct strbuf sb, want;
	size_t n1, n2, cut, i, nrow = 200000;
	struct err e;
	int rc;

	m1 = gz_member(one, sizeof(one) - 1, &n1);
	m2 = gz_member(two, sizeof(two) - 1, &n2);
	sb_init(&sb);
	sb_add(&sb, m1, n1);
	sb_add(&sb, m2, n2);
	path = put_file("two.gz", sb.buf, sb.len);
	paths[0] = path;
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	CHECK_STR(out, "H:a|b\n2:1|2\n3:3|4\n4:5|6\n");
	free(out);
	free(path);
	/* Zero padding (as tar leaves) after the last member. */
	for (i = 0; i < 1000; i++)
		sb_addc(&sb, 0);
	path = put_file("padded.gz", sb.buf, sb.len);
	paths[0] = path;
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	CHECK_STR(out, "H:a|b\n2:1|2\n3:3|4\n4:5|6\n");
	free(out);
	free(path);
	/*
	 * Cut anywhere in either member: an error (one byte is no gzip
	 * magic, so a plain file).
	 */
	for (cut = 2; cut < n1 + n2; cut++) {
		if (cut == n1)
			continue;	/* the first member whole: a shorter file */
		path = put_file("cut.gz", sb.buf, cut);
		paths[0] = path;
		out = render_paths(paths, 1, REC_CSV, &rc, &e);
		CHECK(rc < 0);
		free(out);
		free(path);
	}
	/* A byte of the first member's compressed data damaged. */
	sb.buf[n1 - 10] ^= 0x55;
	path = put_file("damaged.gz", sb.buf, n1 + n2);
	paths[0] = path;
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, -EIO);
	CHECK(strstr(e.msg, "gzip") != NULL);
	free(out);
	free(path);
	/* Many blocks: every row once, in order. */
	sb_reset(&sb);
	sb_init(&want);
	sb_adds(&sb, "n,sq\n");
	sb_adds(&want, "H:n|sq\n");
	for (i = 0; i < nrow; i++) {
		sb_addf(&sb, "%zu,%zu\n", i, (i * i) % 1000003);
		sb_addf(&want, "%zu:%zu|%zu\n", i + 2, i, (i * i) % 1000003);
	}
	path = put_gz("many.gz", sb.buf, sb.len);
	paths[0] = path;
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	CHECK_STR(out, want.buf);
	free(out);
	free(path);
	sb_release(&want);
	sb_release(&sb);
	free(m1);
	free(m2);
}

UNIT_TEST(several_files_one_stream)
{
	char *a = put_file("a.csv", "x,y\n1,2\n", 8);
	char *b = put_gz("b.csv.gz", "x,y\n3,4\n5\n", 10);
	char *c = put_file("c.csv", "x,z\n", 4);
	const char *paths[3] = { a, b, c };
	struct err e;
	char *out, *want;
	int rc;

	out = render_paths(paths, 2, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	want = xasprintf("H:x|y\n2:1|2\n2:3|4\n"
		"3!expected 2 fields, found 1 (in '%s')!5\n", b);
	CHECK_STR(out, want);
	free(want);
	free(out);
	out = render_paths(paths, 3, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, -EINVAL);
	CHECK(strstr(e.msg, "c.csv':1: the header differs from the header of")
		!= NULL);
	free(out);
	free(a);
	free(b);
	free(c);
}

UNIT_TEST(tsv_has_no_quoting)
{
	char *out = RENDER("a\tb\n\"x\ty\"\t2\n1\t\"q\"\n1\t2\t3\n", REC_TSV);

	CHECK_STR(out, "H:a|b\n2!expected 2 fields, found 3!\"x\ty\"\t2\n"
		"3:1|\"q\"\n4!expected 2 fields, found 3!1\t2\t3\n");
	free(out);
}

UNIT_TEST(jsonl_values_and_rejects)
{
	char *out = RENDER("{\"a\":\"x\",\"n\":1.5,\"o\":{\"k\":[1,true]}}\n"
		"{\"a\":null,\"n\":2,\"o\":{}}\n"
		"{\"a\":\"y\",\"n\":3}\n"
		"{\"a\":\"y\",\"n\":3,\"o\":\"str\"}\n"
		"{\"a\":\"y\",\"n\":3,\"o\":{},\"z\":1}\n"
		"{\"a\":\"y\",\n"
		"\n"
		"[1]\n", REC_JSONL);

	CHECK_STR(out, "H:a|n|o\n"
		"1:x|1.5|{\"k\":[1,true]}\n"
		"2:|2|{}\n"
		"3!missing key 'o'!{\"a\":\"y\",\"n\":3}\n"
		"4!key 'o' holds a scalar, expected an object!"
		"{\"a\":\"y\",\"n\":3,\"o\":\"str\"}\n"
		"5!unexpected key 'z'!{\"a\":\"y\",\"n\":3,\"o\":{},\"z\":1}\n"
		"6!invalid JSON: string or '}' expected near end of file "
		"(column 9)!{\"a\":\"y\",\n"
		"8!not a JSON object![1]\n");
	free(out);
}

UNIT_TEST(blank_lines_are_skipped_and_counted)
{
	static const char text[] = "a,b\n1,2\n\n3,4\r\n\r\n\n";
	char *path = put_file("blank.csv", text, sizeof(text) - 1);
	const char *paths[1] = { path };
	struct rec_reader *r;
	struct record rec;
	struct err e;
	int n = 0, rc;

	CHECK_INT(rec_reader_open(&r, paths, 1, REC_CSV, &e), ==, 0);
	while ((rc = rec_reader_next(r, &rec, &e)) > 0) {
		CHECK(rec.reject == NULL);
		CHECK_INT(rec.line, ==, n ? 4 : 2);
		n++;
	}
	CHECK_INT(rc, ==, 0);
	CHECK_INT(n, ==, 2);
	CHECK_INT(rec_reader_blank_lines(r), ==, 3);
	rec_reader_free(r);
	free(path);
}

UNIT_TEST(cr_only_line_ends_are_an_error)
{
	static const char text[] = "a,b\r1,2\r3,4\r";
	char *path = put_file("cr.csv", text, sizeof(text) - 1);
	const char *paths[1] = { path };
	struct err e;
	char *out;
	int rc;

	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, -EINVAL);
	CHECK(strstr(e.msg, "ended by CR alone") != NULL);
	free(out);
	free(path);
}

UNIT_TEST(jsonl_records_without_fields)
{
	/* fuzz/corpus/csv/jsonl-empty-objects: once a memcpy from NULL. */
	char *out = RENDER("{}\n{}\n{}\n", REC_JSONL);

	CHECK_STR(out, "H:\n1:\n2:\n3:\n");
	free(out);
}

UNIT_TEST(one_empty_column_is_written_quoted)
{
	static const char *const empty[] = { "" };
	char *path = scratch("one.csv");
	const char *paths[1] = { path };
	struct rec_writer *w;
	struct err e;
	char *text, *out;
	int rc;

	CHECK_INT(rec_writer_open(&w, path, &e), ==, 0);
	CHECK_INT(rec_writer_strings(w, 1, (const char *const[]){ "v" }),
		==, 0);
	CHECK_INT(rec_writer_strings(w, 1, empty), ==, 0);
	CHECK_INT(rec_writer_strings(w, 1, (const char *const[]){ "x" }),
		==, 0);
	CHECK_INT(rec_writer_commit(w, &e), ==, 0);
	text = slurp(path, NULL);
	CHECK_STR(text, "v\n\"\"\nx\n");
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	CHECK_STR(out, "H:v\n2:\n3:x\n");
	free(out);
	free(text);
	free(path);
}

UNIT_TEST(writer_quotes_and_gzips)
{
	static const char *const row[] = { "plain", "a,b", "say \"hi\"",
		"two\nlines", "" };
	struct rec_writer *w;
	struct rejects *rj;
	struct err e;
	char *path = scratch("out/o.csv.gz"), *rpath = scratch("o.rej.csv");
	const char *paths[1] = { path };
	char *out, *text;
	int rc;

	CHECK_INT(rec_writer_open(&w, path, &e), ==, 0);
	CHECK_INT(rec_writer_strings(w, 5, (const char *const[]){ "a", "b",
		"c", "d", "e" }), ==, 0);
	CHECK_INT(rec_writer_strings(w, 5, row), ==, 0);
	CHECK_INT(rec_writer_commit(w, &e), ==, 0);
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	CHECK_STR(out, "H:a|b|c|d|e\n2:plain|a,b|say \"hi\"|two\nlines|\n");
	free(out);
	/* An aborted writer leaves nothing. */
	CHECK_INT(rec_writer_open(&w, rpath, &e), ==, 0);
	rec_writer_abort(w);
	CHECK(access(rpath, F_OK) < 0);
	CHECK_INT(rejects_open(&rj, rpath, &e), ==, 0);
	CHECK_INT(rejects_add(rj, 7, "bad quoting", "x\"y,\xff", 5), ==, 0);
	CHECK_INT(rejects_count(rj), ==, 1);
	CHECK_INT(rejects_commit(rj, &e), ==, 0);
	text = slurp(rpath, NULL);
	CHECK_STR(text, "line,reason,record\n7,bad quoting,\"x\"\"y,\xff\"\n");
	free(text);
	free(path);
	free(rpath);
}

/* A field with every quote doubled and quotes around it: the reference. */
static void
quoted(struct strbuf *sb, const char *p, size_t n)
{
	size_t i;

	sb_addc(sb, '"');
	for (i = 0; i < n; i++) {
		sb_addc(sb, p[i]);
		if (p[i] == '"')
			sb_addc(sb, '"');
	}
	sb_addc(sb, '"');
}

/*
 * Quotes at either end, side by side, alone, and in fields longer than
 * the writer's buffer: each doubled, the bytes exact; read back, every
 * record (many, so the reader's thread hands them over in batches) comes
 * back as written, raw bytes included for the rejected ones.
 */
UNIT_TEST(writer_doubles_every_quote)
{
	static const char *const shapes[] = { "\"", "\"\"", "a\"", "\"a",
		"a\"\"b\"c", "{\"event\": \"x\", \"p\": {\"q\": 1}}", "no quote",
		"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"" };
	const size_t nshape = sizeof(shapes) / sizeof(shapes[0]);
	const size_t nrow = 20000, longn = 300000;
	char *path = scratch("quotes.csv"), *text, *out, *longf;
	const char *paths[1] = { path };
	struct strbuf want, back;
	struct rec_writer *w;
	struct err e;
	char num[24];
	size_t i, n;
	int rc;

	longf = malloc(longn + 1);
	CHECK(longf != NULL);
	for (i = 0; i < longn; i++)
		longf[i] = i % 7 == 3 ? '"' : 'a' + i % 26;
	longf[longn] = 0;
	sb_init(&want);
	sb_init(&back);
	sb_adds(&want, "n,f,g\n");
	sb_adds(&back, "H:n|f|g\n");
	CHECK_INT(rec_writer_open(&w, path, &e), ==, 0);
	CHECK_INT(rec_writer_strings(w, 3, (const char *const[]){ "n", "f",
		"g" }), ==, 0);
	for (i = 0; i < nrow; i++) {
		const char *f = i == 5000 ? longf : shapes[i % nshape];
		const char *g = shapes[(i / nshape) % nshape];

		snprintf(num, sizeof(num), "%zu", i);
		CHECK_INT(rec_writer_strings(w, 3, (const char *const[]){ num,
			f, g }), ==, 0);
		sb_addf(&want, "%s,", num);
		if (strchr(f, '"'))
			quoted(&want, f, strlen(f));
		else
			sb_adds(&want, f);
		sb_addc(&want, ',');
		if (strchr(g, '"'))
			quoted(&want, g, strlen(g));
		else
			sb_adds(&want, g);
		sb_addc(&want, '\n');
		sb_addf(&back, "%zu:%s|%s|%s\n", i + 2, num, f, g);
	}
	CHECK_INT(rec_writer_commit(w, &e), ==, 0);
	text = slurp(path, &n);
	CHECK_INT(n, ==, want.len);
	CHECK(!memcmp(text, want.buf, n));
	free(text);
	out = render_paths(paths, 1, REC_CSV, &rc, &e);
	CHECK_INT(rc, ==, 0);
	CHECK_STR(out, back.buf);
	free(out);
	sb_release(&want);
	sb_release(&back);
	free(longf);
	free(path);
}

/*
 * An output past one buffer: the writer writes the first itself and
 * starts its thread with the second (plain and gzip); every row arrives
 * once, in order.
 */
UNIT_TEST(writer_past_one_buffer)
{
	static const char *const names[] = { "big.csv", "big.csv.gz" };
	const size_t nrow = 30000;
	struct rec_writer *w;
	struct strbuf want;
	struct err e;
	char num[24], *path, *out;
	const char *paths[1];
	size_t i, k;
	int rc;

	for (k = 0; k < 2; k++) {
		path = scratch(names[k]);
		paths[0] = path;
		sb_init(&want);
		sb_adds(&want, "H:n|pad\n");
		CHECK_INT(rec_writer_open(&w, path, &e), ==, 0);
		CHECK_INT(rec_writer_strings(w, 2, (const char *const[]){ "n",
			"pad" }), ==, 0);
		for (i = 0; i < nrow; i++) {
			snprintf(num, sizeof(num), "%zu", i);
			CHECK_INT(rec_writer_strings(w, 2, (const char *const[]){
				num, "padding-padding-padding-padding" }), ==, 0);
			sb_addf(&want, "%zu:%zu|padding-padding-padding-padding\n",
				i + 2, i);
		}
		CHECK_INT(rec_writer_commit(w, &e), ==, 0);
		out = render_paths(paths, 1, REC_CSV, &rc, &e);
		CHECK_INT(rc, ==, 0);
		CHECK(strlen(out) > (1u << 20));
		CHECK_STR(out, want.buf);
		free(out);
		sb_release(&want);
		free(path);
	}
}

UNIT_MAIN(csv_rfc4180, csv_crlf_and_bom, csv_rejects_with_lines,
	csv_unterminated_quote_costs_one_line,
	csv_overlong_forms_and_surrogates_rejected, csv_header_only_and_empty,
	csv_big_field, prepare_runs_for_each_good_record,
	gzip_by_magic_and_truncation, gzip_members_padding_cuts_and_damage,
	several_files_one_stream,
	tsv_has_no_quoting, jsonl_values_and_rejects,
	blank_lines_are_skipped_and_counted, cr_only_line_ends_are_an_error,
	jsonl_records_without_fields, one_empty_column_is_written_quoted,
	writer_quotes_and_gzips, writer_doubles_every_quote,
	writer_past_one_buffer)
