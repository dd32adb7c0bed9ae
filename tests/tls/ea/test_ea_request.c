/* test_ea_request: request encoding and the strict request parser (RFC 9261 section 4), every
 * rejection with its own code. */
#include "ea_testutil.h"

#include "base/hex.h"

#include <stdlib.h>
#include <string.h>

static atls_error parse_hex(const char *h)
{
    uint8_t *b = NULL;
    size_t n = 0;
    atls_ea_request *req = NULL;
    if (atls_hex_decode(h, &b, &n) != ATLS_OK) {
        return ATLS_ERR_INTERNAL;
    }
    atls_error rc = atls_ea_request_parse(b, n, &req);
    if (rc != ATLS_OK && req != NULL) {
        rc = ATLS_ERR_INTERNAL;
    }
    atls_ea_request_free(req);
    free(b);
    return rc;
}

static void parser(void)
{
    /* minimal valid: type 13, context 01, signature_algorithms {0x0807} */
    CHECK_OK(parse_hex("0d00000c" "0101" "0008" "000d00040002" "0807"));
    /* empty context is allowed by the RFC's <0..2^8-1> */
    CHECK_OK(parse_hex("1100000b" "00" "0008" "000d00040002" "0807"));
    CHECK_ERR(parse_hex("0e00000c" "0101" "0008" "000d00040002" "0807"), ATLS_ERR_DECODE_TYPE);
    CHECK_ERR(parse_hex("0d00000c" "0101" "0008" "000d00040002" "080700"), ATLS_ERR_DECODE_TRAILING);
    /* body longer than its extensions */
    CHECK_ERR(parse_hex("0d00000d" "0101" "0008" "000d00040002" "0807" "00"), ATLS_ERR_DECODE_TRAILING);
    /* no signature_algorithms */
    CHECK_ERR(parse_hex("0d000008" "0101" "0004" "ff000000"), ATLS_ERR_DECODE_VALUE);
    /* signature_algorithms: empty list, odd length, trailing byte inside */
    CHECK_ERR(parse_hex("0d00000a" "0101" "0006" "000d00020000"), ATLS_ERR_DECODE_LENGTH);
    CHECK_ERR(parse_hex("0d00000b" "0101" "0007" "000d00030001" "08"), ATLS_ERR_DECODE_LENGTH);
    CHECK_ERR(parse_hex("0d00000d" "0101" "0009" "000d00050002" "080700"), ATLS_ERR_DECODE_TRAILING);
    /* duplicate extension */
    CHECK_ERR(parse_hex("0d000014" "0101" "0010" "000d00040002" "0807" "000d00040002" "0807"),
              ATLS_ERR_DECODE_VALUE);
    /* extension truncated inside the list */
    CHECK_ERR(parse_hex("0d00000e" "0101" "000a" "000d00040002" "0807" "ff"),
              ATLS_ERR_DECODE_TRUNCATED);
    /* every truncation of a valid request */
    {
        uint8_t *b = NULL;
        size_t n = 0, wrong = 0;
        CHECK_OK(atls_hex_decode("0d000010" "0101" "000c" "000d00040002" "0807" "ff000000", &b, &n));
        CHECK_OK(parse_hex("0d000010" "0101" "000c" "000d00040002" "0807" "ff000000"));
        for (size_t i = 0; i < n; i++) {
            atls_ea_request *req = NULL;
            if (atls_ea_request_parse(b, i, &req) != ATLS_ERR_DECODE_TRUNCATED || req != NULL) {
                wrong++;
            }
        }
        CHECK(wrong == 0);
        free(b);
    }
    /* over the ceiling */
    {
        uint8_t *big = calloc(1, ATLS_EA_MAX_MESSAGE + 1);
        atls_ea_request *req = NULL;
        CHECK_ERR(atls_ea_request_parse(big, ATLS_EA_MAX_MESSAGE + 1, &req), ATLS_ERR_DECODE_TOO_LARGE);
        free(big);
    }
    /* get_context on malformed input */
    {
        uint8_t c[255];
        size_t cl;
        static const uint8_t bad[] = {0x0d, 0, 0, 2, 5, 1};
        static const uint8_t fin[] = {0x14, 0, 0, 0};
        CHECK_ERR(atls_ea_get_context(bad, sizeof(bad), c, &cl), ATLS_ERR_DECODE_TRUNCATED);
        CHECK_ERR(atls_ea_get_context(fin, sizeof(fin), c, &cl), ATLS_ERR_DECODE_TYPE);
        CHECK_ERR(atls_ea_get_context(bad, 3, c, &cl), ATLS_ERR_DECODE_TRUNCATED);
    }
}

static void builder(void)
{
    tls_pair *p = new_pair(SUITE_SHA384);
    atls_ea_request *a = NULL, *b = NULL;
    atls_ea_request_options ro = {0};
    uint8_t ctx[256] = {0};
    atls_ea_extension sa = {ATLS_EXT_SIGNATURE_ALGORITHMS, NULL, 0};
    atls_ea_extension dup[2] = {{0xFF00, NULL, 0}, {0xFF00, NULL, 0}};
    uint16_t none[1] = {0};
    size_t n1 = 0, n2 = 0, nd = 0;
    /* defaults: fresh 32-byte random contexts, atls's default sigalgs */
    CHECK_OK(atls_ea_request_new(p->server, ATLS_EA_CERTIFICATE_REQUEST, NULL, &a));
    CHECK_OK(atls_ea_request_new(p->server, ATLS_EA_CERTIFICATE_REQUEST, NULL, &b));
    const uint8_t *c1 = atls_ea_request_get0_context(a, &n1);
    const uint8_t *c2 = atls_ea_request_get0_context(b, &n2);
    CHECK(n1 == 32 && n2 == 32 && memcmp(c1, c2, 32) != 0);
    const uint16_t *def = atls_ea_default_sigalgs(&nd);
    CHECK(nd == 6 && def[0] == 0x0403 && def[1] == 0x0503 && def[2] == 0x0804 &&
          def[3] == 0x0805 && def[4] == 0x0806 && def[5] == 0x0807);
    {
        size_t n = 0;
        const uint8_t *d = atls_ea_request_get0_extension(a, ATLS_EXT_SIGNATURE_ALGORITHMS, &n);
        static const uint8_t want[] = {0, 12, 4, 3, 5, 3, 8, 4, 8, 5, 8, 6, 8, 7};
        CHECK(d != NULL && n == sizeof(want) && memcmp(d, want, n) == 0);
    }
    atls_ea_request_free(a);
    atls_ea_request_free(b);
    /* usage errors */
    CHECK_ERR(atls_ea_request_new(p->server, 11, NULL, &a), ATLS_ERR_USAGE);
    ro.context = ctx;
    ro.context_len = 0;
    CHECK_ERR(atls_ea_request_new(p->server, 13, &ro, &a), ATLS_ERR_USAGE);
    ro.context_len = 256;
    CHECK_ERR(atls_ea_request_new(p->server, 13, &ro, &a), ATLS_ERR_USAGE);
    ro.context_len = 255;
    CHECK_OK(atls_ea_request_new(p->server, 13, &ro, &a));
    atls_ea_request_free(a);
    ro.context_len = 1;
    ro.sigalgs = none;
    ro.num_sigalgs = 0;
    CHECK_ERR(atls_ea_request_new(p->server, 13, &ro, &a), ATLS_ERR_USAGE);
    ro.sigalgs = NULL;
    ro.extensions = &sa;
    ro.num_extensions = 1;
    CHECK_ERR(atls_ea_request_new(p->server, 13, &ro, &a), ATLS_ERR_USAGE);
    ro.extensions = dup;
    ro.num_extensions = 2;
    CHECK_ERR(atls_ea_request_new(p->server, 13, &ro, &a), ATLS_ERR_USAGE);
    tls_pair_free(p);
}

int main(void)
{
    parser();
    builder();
    return check_summary();
}
