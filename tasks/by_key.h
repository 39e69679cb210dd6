/*
 * by-key's file naming, shared with its unit tests and fuzz target.
 *
 * A key value becomes "<name>.csv" where name keeps the bytes
 * A-Z a-z 0-9 _ - (and '.' after the first byte) and writes every other
 * byte as %XX (upper-case hex), so two values never share a name and no
 * name starts with '.' (our temporary files do).  The empty value is
 * "%.csv", which no other value gives.  A name longer than 200 bytes is
 * cut after at most 180 (never inside a %XX) and ends with '~' and the
 * value's 64-bit FNV-1a hash in 16 hex digits; '~' never occurs in a
 * name that was not cut.
 */
#ifndef DAG_BY_KEY_H
#define DAG_BY_KEY_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

/* Append the file name of value v (len bytes), ".csv" included, to out. */
void bykey_file_name(struct strbuf *out, const char *v, size_t len);

/*
 * The value a file name (with ".csv") stands for, appended to out.
 * Returns 0, 1 when the name was cut (out holds the kept prefix), or
 * -EINVAL when name is not one bykey_file_name makes.
 */
int bykey_value_of_name(const char *name, struct strbuf *out);

/* The bucket of value v among n (FNV-1a 64 modulo n). */
size_t bykey_bucket(const char *v, size_t len, size_t n);

#endif
