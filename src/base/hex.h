/* hex.h: lowercase hex encoding and strict hex decoding (every claim digest atls prints is
 * lowercase hex). */
#ifndef ATLS_BASE_HEX_H
#define ATLS_BASE_HEX_H

#include <atls/error.h>

#include <stddef.h>
#include <stdint.h>

/* atls_hex_encode writes 2*len lowercase hex digits and a NUL into |out| (out_size >= 2*len+1). */
ATLS_MUST_CHECK atls_error atls_hex_encode(char *out, size_t out_size, const uint8_t *data,
                                           size_t len);

/* atls_hex_encode_alloc returns a malloc'd lowercase hex string (caller frees), NULL on OOM. */
char *atls_hex_encode_alloc(const uint8_t *data, size_t len);

/* atls_hex_decode decodes |hex| (even length, [0-9a-fA-F] only, no prefix or spaces) into a
 * malloc'd buffer (*out, caller frees). Raises ATLS_ERR_DECODE_VALUE naming the problem. */
ATLS_MUST_CHECK atls_error atls_hex_decode(const char *hex, uint8_t **out, size_t *out_len);

/* atls_hex_decode_fixed decodes exactly |len| bytes into caller storage. */
ATLS_MUST_CHECK atls_error atls_hex_decode_fixed(const char *hex, uint8_t *out, size_t len);

#endif /* ATLS_BASE_HEX_H */
