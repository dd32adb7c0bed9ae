/* base64url.c: base64url without padding (base64url.h, RFC 4648 section 5). */
#include "codec/ear/base64url.h"

#include "base/result.h"

#include <stdlib.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

atls_error atls_b64url_encode(const uint8_t *data, size_t len, char **out)
{
    ATLS_ENSURE(data != NULL || len == 0, ATLS_ERR_USAGE, "base64url: NULL input");
    ATLS_ENSURE(len <= SIZE_MAX / 2, ATLS_ERR_USAGE, "base64url: input too large");
    size_t n = len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
    char *s = malloc(n + 1);
    ATLS_ENSURE(s != NULL, ATLS_ERR_INTERNAL_ALLOC, "base64url: out of memory");
    size_t j = 0;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        s[j++] = alphabet[v >> 18];
        s[j++] = alphabet[(v >> 12) & 63];
        s[j++] = alphabet[(v >> 6) & 63];
        s[j++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        s[j++] = alphabet[v >> 18];
        s[j++] = alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        s[j++] = alphabet[v >> 18];
        s[j++] = alphabet[(v >> 12) & 63];
        s[j++] = alphabet[(v >> 6) & 63];
    }
    s[j] = '\0';
    *out = s;
    return ATLS_OK;
}

static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

atls_error atls_b64url_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(s != NULL || len == 0, ATLS_ERR_USAGE, "base64url: NULL input");
    ATLS_ENSURE(len % 4 != 1, ATLS_ERR_DECODE_VALUE,
                "base64url: %zu characters is not a valid length", len);
    size_t n = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
    uint8_t *buf = malloc(n == 0 ? 1 : n);
    ATLS_ENSURE(buf != NULL, ATLS_ERR_INTERNAL_ALLOC, "base64url: out of memory");
    uint32_t acc = 0;
    size_t bits = 0, j = 0;
    for (size_t i = 0; i < len; i++) {
        int v = value_of(s[i]);
        if (v < 0) {
            free(buf);
            ATLS_RAISE(ATLS_ERR_DECODE_VALUE,
                       "base64url: character %zu is outside the URL-safe alphabet", i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[j++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) { /* RFC 4648 section 3.5: pad bits must be zero (canonical encoding) */
        free(buf);
        ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "base64url: non-zero bits after the last byte");
    }
    *out = buf;
    *out_len = j;
    return ATLS_OK;
}
