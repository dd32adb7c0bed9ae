/* fuzz_ea_request.c: RFC 9261 request parsing (atls_ea_request_parse), "get context"
 * (atls_ea_get_context), and parse -> bytes -> parse round trip. */
#include "fuzz.h"

#include <atls/ea.h>

#include <string.h>

static const uint16_t probe_types[] = {0, 10, ATLS_EXT_SIGNATURE_ALGORITHMS, 43, 0xFF00};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ctx[ATLS_EA_CONTEXT_MAX_LEN];
    size_t ctx_len = 0;
    int have_ctx = atls_ea_get_context(data, size, ctx, &ctx_len) == ATLS_OK;
    if (have_ctx) {
        FUZZ_REQUIRE(ctx_len <= ATLS_EA_CONTEXT_MAX_LEN);
    }

    atls_ea_request *req = NULL;
    if (atls_ea_request_parse(data, size, &req) != ATLS_OK) {
        FUZZ_REQUIRE(req == NULL);
        return 0;
    }
    /* the accepted request: its bytes are exactly the input */
    size_t len = 0;
    const uint8_t *bytes = atls_ea_request_get0_bytes(req, &len);
    FUZZ_REQUIRE(len == size && memcmp(bytes, data, size) == 0);
    int type = atls_ea_request_type(req);
    FUZZ_REQUIRE(type == ATLS_EA_CERTIFICATE_REQUEST || type == ATLS_EA_CLIENT_CERTIFICATE_REQUEST);
    size_t c_len = 0;
    const uint8_t *c = atls_ea_request_get0_context(req, &c_len);
    /* get context agrees with the full parser */
    FUZZ_REQUIRE(have_ctx && c_len == ctx_len && (c_len == 0 || memcmp(c, ctx, c_len) == 0));

    /* parse the encoding again: same type, context and extensions */
    atls_ea_request *again = NULL;
    FUZZ_REQUIRE(atls_ea_request_parse(bytes, len, &again) == ATLS_OK);
    FUZZ_REQUIRE(atls_ea_request_type(again) == type);
    size_t c2_len = 0;
    const uint8_t *c2 = atls_ea_request_get0_context(again, &c2_len);
    FUZZ_REQUIRE(c2_len == c_len && (c_len == 0 || memcmp(c, c2, c_len) == 0));
    for (size_t i = 0; i < sizeof(probe_types) / sizeof(probe_types[0]); i++) {
        size_t l1 = 0, l2 = 0;
        const uint8_t *e1 = atls_ea_request_get0_extension(req, probe_types[i], &l1);
        const uint8_t *e2 = atls_ea_request_get0_extension(again, probe_types[i], &l2);
        FUZZ_REQUIRE(atls_ea_request_has_extension(req, probe_types[i]) ==
                     atls_ea_request_has_extension(again, probe_types[i]));
        FUZZ_REQUIRE((e1 == NULL) == (e2 == NULL) && l1 == l2 &&
                     (l1 == 0 || memcmp(e1, e2, l1) == 0));
    }
    atls_ea_request_free(again);
    atls_ea_request_free(req);
    return 0;
}
