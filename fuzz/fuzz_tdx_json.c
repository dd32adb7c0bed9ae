/* fuzz_tdx_json.c: the bounded JSON span scanner that finds the exact signed bytes of the
 * "tcbInfo" / "enclaveIdentity" members (atls_tdx_json_member_span). Properties: a span lies
 * inside the input, and when jansson also accepts the document (duplicates rejected), the
 * span parses to the same value jansson sees for that member. */
#include "fuzz.h"

#include "evidence/tdx/tdx_internal.h"

#include <string.h>

static const char *const keys[] = {"tcbInfo", "enclaveIdentity", "signature", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const uint8_t *span = NULL;
        size_t span_len = 0;
        if (atls_tdx_json_member_span(data, size, keys[i], &span, &span_len) != ATLS_OK) {
            continue;
        }
        FUZZ_REQUIRE(span >= data && span_len > 0 && span + span_len <= data + size);
        if (root == NULL) {
            json_error_t je;
            root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
            if (root == NULL) {
                return 0; /* the scanner is not a validator; jansson decides validity */
            }
        }
        json_error_t je2;
        json_t *v = json_loadb((const char *)span, span_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                               &je2);
        const json_t *want = json_object_get(root, keys[i]);
        FUZZ_REQUIRE(v != NULL && want != NULL && json_equal(v, want));
        json_decref(v);
    }
    json_decref(root);
    return 0;
}
