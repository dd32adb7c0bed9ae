/* hex.c: hex helpers (hex.h). */
#include "base/hex.h"

#include "base/result.h"

#include <stdlib.h>
#include <string.h>

static const char digits[] = "0123456789abcdef";

atls_error atls_hex_encode(char *out, size_t out_size, const uint8_t *data, size_t len)
{
    ATLS_ENSURE(len <= (SIZE_MAX - 1) / 2 && out_size >= 2 * len + 1, ATLS_ERR_USAGE,
                "hex output buffer too small");
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return ATLS_OK;
}

char *atls_hex_encode_alloc(const uint8_t *data, size_t len)
{
    if (len > (SIZE_MAX - 1) / 2) {
        return NULL;
    }
    char *s = malloc(2 * len + 1);
    if (s != NULL && atls_hex_encode(s, 2 * len + 1, data, len) != ATLS_OK) {
        free(s);
        return NULL;
    }
    return s;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static atls_error decode_into(const char *hex, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = nibble(hex[2 * i]);
        int lo = nibble(hex[2 * i + 1]);
        ATLS_ENSURE(hi >= 0 && lo >= 0, ATLS_ERR_DECODE_VALUE,
                    "hex: invalid character at position %zu", hi < 0 ? 2 * i : 2 * i + 1);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return ATLS_OK;
}

atls_error atls_hex_decode(const char *hex, uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(hex != NULL, ATLS_ERR_USAGE, "hex: no input");
    size_t len = strlen(hex);
    ATLS_ENSURE(len % 2 == 0, ATLS_ERR_DECODE_VALUE, "hex: odd number of digits (%zu)", len);
    uint8_t *buf = malloc(len / 2 + 1);
    ATLS_ENSURE(buf != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = decode_into(hex, len / 2, buf);
    if (rc != ATLS_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len / 2;
    return ATLS_OK;
}

atls_error atls_hex_decode_fixed(const char *hex, uint8_t *out, size_t len)
{
    ATLS_ENSURE(hex != NULL, ATLS_ERR_USAGE, "hex: no input");
    size_t n = strlen(hex);
    ATLS_ENSURE(n == 2 * len, ATLS_ERR_DECODE_LENGTH, "hex: expected %zu digits, got %zu",
                2 * len, n);
    return decode_into(hex, len, out);
}
