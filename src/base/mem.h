/* mem.h: memory helpers. atls_wipe zeroes memory in a way the compiler cannot elide
 * (OPENSSL_cleanse); atls_buf is an owned byte string. */
#ifndef ATLS_BASE_MEM_H
#define ATLS_BASE_MEM_H

#include <atls/error.h>

#include <stddef.h>
#include <stdint.h>

/* atls_wipe zeroes |len| bytes at |p| (p may be NULL). */
void atls_wipe(void *p, size_t len);

/* atls_buf: an owned, heap-allocated byte string. Zero-initialise before use. */
typedef struct atls_buf {
    uint8_t *data;
    size_t len;
} atls_buf;

/* atls_buf_set replaces |b|'s contents with a copy of |len| bytes at |data|. */
ATLS_MUST_CHECK atls_error atls_buf_set(atls_buf *b, const uint8_t *data, size_t len);

/* atls_buf_cleanup wipes and frees |b|'s contents and zeroes it (NULL-safe). */
void atls_buf_cleanup(atls_buf *b);

/* atls_memdup returns a malloc'd copy of |len| bytes (len may be 0: returns a 1-byte block). */
void *atls_memdup(const void *data, size_t len);

#endif /* ATLS_BASE_MEM_H */
