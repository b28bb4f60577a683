/* SHA-256, to check that a manifest is the one its digest names. */
#ifndef GANTRY_SHA256_H
#define GANTRY_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t total;                 /* bytes hashed */
	unsigned char block[64];
	size_t used;                    /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[32]);

/* "sha256:" and 64 lower-case hex digits of data's hash, into out (at least 72 bytes). */
void sha256_digest(const void *data, size_t len, char out[72]);

#endif
