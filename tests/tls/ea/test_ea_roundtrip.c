/* test_ea_roundtrip: RFC 9261 exported authenticators over real OpenSSL TLS 1.3 connections,
 * both hash sizes, every key type, both directions, spontaneous and empty authenticators. */
#include "ea_testutil.h"

#include <stdlib.h>
#include <string.h>

static testcert *ca;
static X509_STORE *store;

/* one_direction: |asker| requests (type 17 from the client, 13 from the server), |answerer|
 * authenticates with a fresh |type| leaf named |host|, |asker| validates. */
static void one_direction(SSL *asker, SSL *answerer, int req_type, testcert_keytype type,
                          const char *host, size_t hash_len)
{
    testcert *leaf = NULL;
    atls_ea_request *req = NULL, *peer_req;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    uint8_t *auth = NULL;
    size_t auth_len = 0;
    atls_ea_validate_options vo = {0};

    CHECK_OK(testcert_leaf_new(ca, type, host, &leaf));
    CHECK_OK(atls_ea_context_set_new(&seen));
    CHECK_OK(atls_ea_request_new(asker, req_type, NULL, &req));
    CHECK(atls_ea_request_type(req) == req_type);
    peer_req = request_at_peer(req);
    CHECK_OK(atls_ea_authenticate(answerer, peer_req, leaf->cert, NULL, leaf->key, NULL, 0, &auth,
                                  &auth_len));
    /* framing: Certificate first, Finished of hash length last */
    CHECK(auth_len > 4 + hash_len && auth[0] == ATLS_HS_CERTIFICATE);
    CHECK(auth[auth_len - hash_len - 4] == ATLS_HS_FINISHED);
    vo.trust = store;
    vo.hostname = host;
    CHECK_OK(atls_ea_validate(asker, req, auth, auth_len, seen, &vo, &res));
    if (res != NULL) {
        size_t clen = 0, rlen = 0, slen = 0;
        const uint8_t *c = atls_ea_result_get0_context(res, &clen);
        const uint8_t *rc = atls_ea_request_get0_context(req, &rlen);
        CHECK(clen == 32 && rlen == 32 && memcmp(c, rc, 32) == 0);
        CHECK(atls_ea_result_scheme(res) == expected_scheme(type));
        CHECK(X509_cmp(atls_ea_result_get0_leaf(res), leaf->cert) == 0);
        CHECK(sk_X509_num(atls_ea_result_get0_chain(res)) == 0);
        const uint8_t *spki = atls_ea_result_get0_spki(res, &slen);
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(leaf->key, &der);
        CHECK(n > 0 && (size_t)n == slen && memcmp(der, spki, slen) == 0);
        OPENSSL_free(der);
    }
    atls_ea_result_free(res);
    res = NULL;
    /* RFC 9261 section 5.2.1: the same context is not accepted twice */
    CHECK_ERR(atls_ea_validate(asker, req, auth, auth_len, seen, &vo, &res), ATLS_ERR_PROTOCOL_REPLAY);
    CHECK(res == NULL);
    free(auth);
    atls_ea_request_free(req);
    atls_ea_request_free(peer_req);
    atls_ea_context_set_free(seen);
    testcert_free(leaf);
}

static void spontaneous(tls_pair *p)
{
    testcert *leaf = NULL;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    uint8_t *auth = NULL;
    size_t auth_len = 0;
    atls_ea_validate_options vo = {0};
    vo.trust = store;
    vo.hostname = "server.test";
    CHECK_OK(testcert_leaf_new(ca, TESTCERT_P384, "server.test", &leaf));
    CHECK_OK(atls_ea_context_set_new(&seen));
    CHECK_OK(atls_ea_authenticate(p->server, NULL, leaf->cert, NULL, leaf->key, NULL, 0, &auth,
                                  &auth_len));
    CHECK_OK(atls_ea_validate(p->client, NULL, auth, auth_len, seen, &vo, &res));
    if (res != NULL) {
        size_t clen = 0;
        uint8_t ctx[255];
        size_t ctx_len = 0;
        const uint8_t *c = atls_ea_result_get0_context(res, &clen);
        CHECK_OK(atls_ea_get_context(auth, auth_len, ctx, &ctx_len));
        CHECK(clen == 32 && ctx_len == 32 && memcmp(c, ctx, 32) == 0);
    }
    atls_ea_result_free(res);
    res = NULL;
    CHECK_ERR(atls_ea_validate(p->client, NULL, auth, auth_len, seen, &vo, &res),
              ATLS_ERR_PROTOCOL_REPLAY);
    /* only a server authenticates without a request, and only a client validates that */
    free(auth);
    auth = NULL;
    CHECK_ERR(atls_ea_authenticate(p->client, NULL, leaf->cert, NULL, leaf->key, NULL, 0, &auth,
                                   &auth_len),
              ATLS_ERR_USAGE_STATE);
    CHECK_ERR(atls_ea_validate(p->server, NULL, (const uint8_t *)"x", 1, seen, &vo, &res),
              ATLS_ERR_USAGE_STATE);
    atls_ea_context_set_free(seen);
    testcert_free(leaf);
}

static void empty_authenticator(tls_pair *p, size_t hash_len)
{
    atls_ea_request *req = NULL, *peer_req;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    uint8_t *auth = NULL;
    size_t auth_len = 0;
    CHECK_OK(atls_ea_context_set_new(&seen));
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req));
    peer_req = request_at_peer(req);
    CHECK_OK(atls_ea_authenticate_empty(p->server, peer_req, &auth, &auth_len));
    CHECK(auth_len == 4 + hash_len && auth[0] == ATLS_HS_FINISHED);
    CHECK_ERR(atls_ea_validate(p->client, req, auth, auth_len, seen, NULL, &res),
              ATLS_ERR_PROTOCOL_REFUSED);
    CHECK(res == NULL);
    /* the context is consumed by the refusal */
    CHECK_ERR(atls_ea_validate(p->client, req, auth, auth_len, seen, NULL, &res),
              ATLS_ERR_PROTOCOL_REPLAY);
    /* an empty authenticator has no context of its own */
    {
        uint8_t ctx[255];
        size_t ctx_len;
        CHECK_ERR(atls_ea_get_context(auth, auth_len, ctx, &ctx_len), ATLS_ERR_DECODE_TYPE);
    }
    /* a wrong MAC in an empty authenticator */
    {
        atls_ea_context_set *seen2 = NULL;
        CHECK_OK(atls_ea_context_set_new(&seen2));
        auth[auth_len - 1] ^= 1;
        CHECK_ERR(atls_ea_validate(p->client, req, auth, auth_len, seen2, NULL, &res),
                  ATLS_ERR_CRYPTO_MAC);
        CHECK_ERR(atls_ea_validate(p->client, NULL, auth, auth_len, seen2, NULL, &res),
                  ATLS_ERR_PROTOCOL);
        atls_ea_context_set_free(seen2);
    }
    free(auth);
    auth = NULL;
    CHECK_ERR(atls_ea_authenticate_empty(p->server, NULL, &auth, &auth_len), ATLS_ERR_USAGE_STATE);
    CHECK_ERR(atls_ea_authenticate_empty(p->client, peer_req, &auth, &auth_len),
              ATLS_ERR_USAGE_STATE);
    CHECK(auth == NULL);
    atls_ea_request_free(req);
    atls_ea_request_free(peer_req);
    atls_ea_context_set_free(seen);
}

/* extensions_and_chain: an offered extension in the first entry comes back in the result;
 * an intermediate (here the CA itself) comes back in the chain. */
static void extensions_and_chain(tls_pair *p)
{
    testcert *leaf = NULL;
    atls_ea_request *req = NULL, *peer_req;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    uint8_t *auth = NULL;
    size_t auth_len = 0;
    static const uint8_t evidence[] = {0xde, 0xad, 0xbe, 0xef};
    atls_ea_extension offered = {EXT_CMW, NULL, 0};
    atls_ea_extension ext = {EXT_CMW, evidence, sizeof(evidence)};
    atls_ea_request_options ro = {0};
    atls_ea_validate_options vo = {0};
    uint16_t first_only[] = {EXT_CMW};
    STACK_OF(X509) *chain = sk_X509_new_null();
    CHECK(chain != NULL && sk_X509_push(chain, ca->cert) > 0);
    ro.extensions = &offered;
    ro.num_extensions = 1;
    vo.trust = store;
    vo.hostname = "server.test";
    vo.first_entry_only = first_only;
    vo.num_first_entry_only = 1;
    CHECK_OK(testcert_leaf_new(ca, TESTCERT_ED25519, "server.test", &leaf));
    CHECK_OK(atls_ea_context_set_new(&seen));
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &ro, &req));
    CHECK(atls_ea_request_has_extension(req, EXT_CMW) == 1);
    CHECK(atls_ea_request_has_extension(req, 0x1234) == 0);
    peer_req = request_at_peer(req);
    CHECK_OK(atls_ea_authenticate(p->server, peer_req, leaf->cert, chain, leaf->key, &ext, 1,
                                  &auth, &auth_len));
    CHECK_OK(atls_ea_validate(p->client, req, auth, auth_len, seen, &vo, &res));
    if (res != NULL) {
        size_t n = 0;
        const uint8_t *d = atls_ea_result_get0_extension(res, EXT_CMW, &n);
        CHECK(d != NULL && n == sizeof(evidence) && memcmp(d, evidence, n) == 0);
        CHECK(atls_ea_result_get0_extension(res, 0x1234, &n) == NULL);
        CHECK(sk_X509_num(atls_ea_result_get0_chain(res)) == 1);
        CHECK(X509_cmp(sk_X509_value(atls_ea_result_get0_chain(res), 0), ca->cert) == 0);
    }
    atls_ea_result_free(res);
    free(auth);
    sk_X509_free(chain);
    atls_ea_request_free(req);
    atls_ea_request_free(peer_req);
    atls_ea_context_set_free(seen);
    testcert_free(leaf);
}

/* the result holds its own references: it outlives the certificate and the message */
static void result_ownership(tls_pair *p)
{
    testcert *leaf = NULL;
    atls_ea_request *req = NULL;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    uint8_t *auth = NULL;
    size_t auth_len = 0;
    CHECK_OK(testcert_leaf_new(ca, TESTCERT_P256, "server.test", &leaf));
    CHECK_OK(atls_ea_context_set_new(&seen));
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req));
    CHECK_OK(atls_ea_authenticate(p->server, req, leaf->cert, NULL, leaf->key, NULL, 0, &auth,
                                  &auth_len));
    CHECK_OK(atls_ea_validate(p->client, req, auth, auth_len, seen, NULL, &res));
    memset(auth, 0, auth_len);
    free(auth);
    atls_ea_request_free(req);
    testcert_free(leaf);
    if (res != NULL) {
        X509_NAME *subj = X509_get_subject_name(atls_ea_result_get0_leaf(res));
        char cn[64];
        CHECK(X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn)) > 0 &&
              strcmp(cn, "server.test") == 0);
    }
    atls_ea_result_free(res);
    atls_ea_context_set_free(seen);
}

int main(void)
{
    const char *suites[2] = {SUITE_SHA256, SUITE_SHA384};
    const size_t hash_lens[2] = {32, 48};
    if (testcert_ca_new("atls test CA", &ca) != ATLS_OK || testcert_store_new(ca, &store) != ATLS_OK) {
        fprintf(stderr, "fixture failed: %s\n", atls_error_detail());
        return 1;
    }
    for (int s = 0; s < 2; s++) {
        tls_pair *p = new_pair(suites[s]);
        CHECK(strcmp(SSL_CIPHER_get_name(SSL_get_current_cipher(p->client)), suites[s]) == 0);
        for (int t = 0; t < TESTCERT_NUM_KEYTYPES; t++) {
            one_direction(p->client, p->server, ATLS_EA_CLIENT_CERTIFICATE_REQUEST,
                          (testcert_keytype)t, "server.test", hash_lens[s]);
            one_direction(p->server, p->client, ATLS_EA_CERTIFICATE_REQUEST, (testcert_keytype)t,
                          "client.test", hash_lens[s]);
        }
        spontaneous(p);
        empty_authenticator(p, hash_lens[s]);
        extensions_and_chain(p);
        result_ownership(p);
        tls_pair_free(p);
    }
    X509_STORE_free(store);
    testcert_free(ca);
    return check_summary();
}
