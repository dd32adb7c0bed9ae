/* base64url.h: base64url without padding (RFC 4648 section 5; RFC 7515 section 2 "Base64url
 * Encoding"), as JWS and EAR use it. Decoding is strict: only the URL-safe alphabet, no
 * padding, no whitespace, and the unused low bits of the last character must be zero (so every
 * byte string has exactly one accepted encoding). */
#ifndef ATLS_EAR_BASE64URL_H
#define ATLS_EAR_BASE64URL_H

#include <atls/error.h>

#include <stddef.h>
#include <stdint.h>

/* atls_b64url_encode returns a malloc'd NUL-terminated encoding of |len| bytes in *out (caller
 * frees with free()). */
ATLS_MUST_CHECK atls_error atls_b64url_encode(const uint8_t *data, size_t len, char **out);

/* atls_b64url_decode decodes |len| characters at |s| into a malloc'd buffer (*out, caller frees
 * with free(); a 1-byte block when empty). ATLS_ERR_DECODE_VALUE names what was wrong. */
ATLS_MUST_CHECK atls_error atls_b64url_decode(const char *s, size_t len, uint8_t **out,
                                              size_t *out_len);

#endif /* ATLS_EAR_BASE64URL_H */
