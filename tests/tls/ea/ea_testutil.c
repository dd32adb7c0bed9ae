/* ea_testutil.c: see ea_testutil.h. */
#include "ea_testutil.h"

tls_pair *new_pair(const char *suite)
{
    tls_pair_options o = {0};
    tls_pair *p = NULL;
    o.ciphersuites = suite;
    if (tls_pair_new(&o, &p) != ATLS_OK) {
        fprintf(stderr, "fixture: tls_pair_new(%s) failed: %s\n", suite, atls_error_detail());
        exit(1);
    }
    return p;
}

uint16_t expected_scheme(testcert_keytype type)
{
    switch (type) {
    case TESTCERT_P256: return ATLS_SIG_ECDSA_SECP256R1_SHA256;
    case TESTCERT_P384: return ATLS_SIG_ECDSA_SECP384R1_SHA384;
    case TESTCERT_RSA2048: return ATLS_SIG_RSA_PSS_RSAE_SHA256;
    case TESTCERT_ED25519: return ATLS_SIG_ED25519;
    }
    return 0;
}

atls_ea_request *request_at_peer(const atls_ea_request *req)
{
    size_t len = 0;
    const uint8_t *b = atls_ea_request_get0_bytes(req, &len);
    atls_ea_request *copy = NULL;
    if (atls_ea_request_parse(b, len, &copy) != ATLS_OK) {
        fprintf(stderr, "fixture: request_parse failed: %s\n", atls_error_detail());
        exit(1);
    }
    return copy;
}
