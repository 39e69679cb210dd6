/*
 * SHA-256 (FIPS 180-4), streaming: archive checksums its outputs without
 * holding them in memory, and without a crypto library dependency.
 */
#ifndef DAG_SHA256_H
#define DAG_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[64];	/* a partial block */
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* Finish and write the 32-byte digest; s must be re-initialised to reuse. */
void sha256_final(struct sha256 *s, uint8_t digest[32]);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
