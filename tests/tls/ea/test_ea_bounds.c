/* test_ea_bounds: what the EA layer adds for atls's secure defaults and bounds:
 *   - a spontaneous authenticator takes its scheme from the client's ClientHello
 *     signature_algorithms, in the client's order (RFC 9261 section 5.2.2), and its chain must
 *     use algorithms the client accepts for certificates (signature_algorithms_cert, else
 *     signature_algorithms: RFC 8446 section 4.2.3); a request's signature_algorithms_cert
 *     binds an answer's chain the same way;
 *   - the leaf's key usage is checked for the role (leaf_purpose);
 *   - the sequenced context set: O(1) and constant memory over 100 000 contexts, each accepted
 *     once, old ones refused. */
#include "ea_testutil.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static testcert *ca, *rsa_leaf, *p256_leaf;

static tls_pair *pair_offering(const char *client_sigalgs, const testcert *server)
{
    tls_pair_options o = {0};
    o.server_cert = server->cert;
    o.server_key = server->key;
    o.client_sigalgs = client_sigalgs;
    tls_pair *p = NULL;
    CHECK_OK(tls_pair_new(&o, &p));
    return p;
}

static void test_spontaneous_schemes(void)
{
    /* the client prefers rsa_pss_rsae_sha512: the server's RSA key signs with it, not with
     * atls's first RSA scheme; the chain (signed by the P-256 CA) is acceptable */
    tls_pair *p = pair_offering("rsa_pss_rsae_sha512:rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256",
                                rsa_leaf);
    if (p != NULL) {
        uint8_t *auth = NULL;
        size_t len = 0;
        CHECK_OK(atls_ea_authenticate(p->server, NULL, rsa_leaf->cert, NULL, rsa_leaf->key, NULL,
                                      0, &auth, &len));
        atls_ea_context_set *seen = NULL;
        CHECK_OK(atls_ea_context_set_new(&seen));
        atls_ea_result *res = NULL;
        CHECK_OK(atls_ea_validate(p->client, NULL, auth, len, seen, NULL, &res));
        CHECK(res != NULL && atls_ea_result_scheme(res) == ATLS_SIG_RSA_PSS_RSAE_SHA512);
        atls_ea_result_free(res);
        atls_ea_context_set_free(seen);
        free(auth);
    }
    tls_pair_free(p);
    /* the client accepts no ECDSA: a chain signed by the P-256 CA does not respect it */
    p = pair_offering("rsa_pss_rsae_sha512:rsa_pss_rsae_sha256", rsa_leaf);
    if (p != NULL) {
        uint8_t *auth = NULL;
        size_t len = 0;
        CHECK_ERR(atls_ea_authenticate(p->server, NULL, rsa_leaf->cert, NULL, rsa_leaf->key,
                                       NULL, 0, &auth, &len),
                  ATLS_ERR_PROTOCOL_SCHEME);
        CHECK(strstr(atls_error_message(), "does not accept for certificates") != NULL);
        free(auth);
    }
    tls_pair_free(p);
    /* the client's order decides: now rsa_pss_rsae_sha256 first */
    p = pair_offering("rsa_pss_rsae_sha256:rsa_pss_rsae_sha512:ecdsa_secp256r1_sha256", rsa_leaf);
    if (p != NULL) {
        uint8_t *auth = NULL;
        size_t len = 0;
        CHECK_OK(atls_ea_authenticate(p->server, NULL, rsa_leaf->cert, NULL, rsa_leaf->key, NULL,
                                      0, &auth, &len));
        /* CertificateVerify follows the Certificate: find its scheme after the first message */
        size_t cert_len = len > 4 ? 4 + ((size_t)auth[1] << 16 | (size_t)auth[2] << 8 | auth[3]) : 0;
        CHECK(cert_len + 6 <= len && auth[cert_len] == ATLS_HS_CERTIFICATE_VERIFY &&
              (auth[cert_len + 4] << 8 | auth[cert_len + 5]) == ATLS_SIG_RSA_PSS_RSAE_SHA256);
        free(auth);
    }
    tls_pair_free(p);
}

static void test_chain_schemes(void)
{
    /* the leaves are signed by the P-256 CA with ecdsa_secp256r1_sha256; the CA is
     * self-signed: a trust anchor, not checked */
    STACK_OF(X509) *chain = sk_X509_new_null();
    CHECK(chain != NULL && sk_X509_push(chain, ca->cert) > 0);
    const uint16_t ecdsa[] = {ATLS_SIG_ECDSA_SECP256R1_SHA256};
    const uint16_t rsa[] = {ATLS_SIG_RSA_PSS_RSAE_SHA256, 0x0401};
    CHECK_OK(atls_ea_check_chain_schemes(rsa_leaf->cert, chain, ecdsa, 1));
    CHECK_ERR(atls_ea_check_chain_schemes(rsa_leaf->cert, chain, rsa, 2), ATLS_ERR_PROTOCOL_SCHEME);
    CHECK_OK(atls_ea_check_chain_schemes(ca->cert, NULL, rsa, 2)); /* self-signed alone */
    sk_X509_free(chain);

    /* a request's signature_algorithms_cert (extension 50) binds the answer's chain */
    tls_pair *p = new_pair(SUITE_SHA256);
    static const uint8_t only_rsa[] = {0x00, 0x02, 0x08, 0x04};
    static const uint8_t with_ecdsa[] = {0x00, 0x04, 0x08, 0x04, 0x04, 0x03};
    const uint8_t *lists[2] = {only_rsa, with_ecdsa};
    size_t lens[2] = {sizeof(only_rsa), sizeof(with_ecdsa)};
    for (int i = 0; i < 2; i++) {
        atls_ea_extension ext = {.type = 50, .data = lists[i], .len = lens[i]};
        atls_ea_request_options o = {.extensions = &ext, .num_extensions = 1};
        atls_ea_request *req = NULL;
        CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &o, &req));
        atls_ea_request *peer = req != NULL ? request_at_peer(req) : NULL;
        uint8_t *auth = NULL;
        size_t len = 0;
        atls_error rc = atls_ea_authenticate(p->server, peer, p256_leaf->cert, NULL,
                                             p256_leaf->key, NULL, 0, &auth, &len);
        CHECK_ERR(rc, i == 0 ? ATLS_ERR_PROTOCOL_SCHEME : ATLS_OK);
        free(auth);
        atls_ea_request_free(peer);
        atls_ea_request_free(req);
    }
    tls_pair_free(p);
}

static void test_leaf_purpose(void)
{
    const struct {
        const char *eku;
        int purpose;
        atls_error want;
    } cases[] = {
        {"serverAuth", X509_PURPOSE_SSL_SERVER, ATLS_OK},
        {"clientAuth", X509_PURPOSE_SSL_CLIENT, ATLS_OK},
        {"codeSigning", X509_PURPOSE_SSL_SERVER, ATLS_ERR_CRYPTO_KEY_USAGE},
        {"codeSigning", X509_PURPOSE_SSL_CLIENT, ATLS_ERR_CRYPTO_KEY_USAGE},
        {"clientAuth", X509_PURPOSE_SSL_SERVER, ATLS_ERR_CRYPTO_KEY_USAGE},
        {"serverAuth", X509_PURPOSE_SSL_CLIENT, ATLS_ERR_CRYPTO_KEY_USAGE},
    };
    X509_STORE *store = NULL;
    CHECK_OK(testcert_store_new(ca, &store));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int with_store = 0; with_store <= 1; with_store++) {
            testcert *leaf = NULL;
            CHECK_OK(testcert_leaf_new_ext(ca, TESTCERT_P256, "server.test", "DNS:server.test",
                                           cases[i].eku, &leaf));
            tls_pair *p = new_pair(SUITE_SHA256);
            int server_attests = cases[i].purpose == X509_PURPOSE_SSL_SERVER;
            SSL *asker = server_attests ? p->client : p->server;
            SSL *answerer = server_attests ? p->server : p->client;
            atls_ea_request *req = NULL, *peer = NULL;
            CHECK_OK(atls_ea_request_new(asker, server_attests ? ATLS_EA_CLIENT_CERTIFICATE_REQUEST
                                                               : ATLS_EA_CERTIFICATE_REQUEST,
                                         NULL, &req));
            peer = req != NULL ? request_at_peer(req) : NULL;
            uint8_t *auth = NULL;
            size_t len = 0;
            CHECK_OK(atls_ea_authenticate(answerer, peer, leaf->cert, NULL, leaf->key, NULL, 0,
                                          &auth, &len));
            atls_ea_context_set *seen = NULL;
            CHECK_OK(atls_ea_context_set_new(&seen));
            atls_ea_validate_options vo = {0};
            vo.leaf_purpose = cases[i].purpose;
            vo.trust = with_store ? store : NULL;
            atls_ea_result *res = NULL;
            atls_error rc = atls_ea_validate(asker, req, auth, len, seen, &vo, &res);
            CHECK_ERR(rc, cases[i].want);
            atls_ea_result_free(res);
            atls_ea_context_set_free(seen);
            free(auth);
            atls_ea_request_free(peer);
            atls_ea_request_free(req);
            tls_pair_free(p);
            testcert_free(leaf);
        }
    }
    X509_STORE_free(store);
}

static void make_ctx(uint8_t *ctx, const uint8_t prefix[16], uint64_t seq)
{
    memcpy(ctx, prefix, 16);
    for (int i = 0; i < 8; i++) {
        ctx[16 + i] = (uint8_t)(seq >> (56 - 8 * i));
    }
    memset(ctx + 24, 0xaa, 16);
}

static void test_sequenced_set(void)
{
    static const uint8_t prefix[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    atls_ea_context_set *set = NULL;
    CHECK_OK(atls_ea_context_set_new_sequenced(prefix, sizeof(prefix), &set));
    if (set == NULL) {
        return;
    }
    size_t mem0 = atls_ea_context_set_memory(set);
    uint8_t ctx[40];
    int ok = 1;
    clock_t t0 = clock();
    for (uint64_t seq = 1; seq <= 100000; seq++) {
        make_ctx(ctx, prefix, seq);
        ok &= !atls_ea_context_set_contains(set, ctx, sizeof(ctx));
        ok &= atls_ea_context_set_add(set, ctx, sizeof(ctx)) == ATLS_OK;
        ok &= atls_ea_context_set_contains(set, ctx, sizeof(ctx));
        /* every earlier context stays used */
        make_ctx(ctx, prefix, seq / 2 + 1);
        ok &= atls_ea_context_set_contains(set, ctx, sizeof(ctx));
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(ok);
    CHECK(atls_ea_context_set_memory(set) == mem0); /* constant memory */
    printf("100000 sequenced contexts in %.3f s, %zu bytes\n", secs, mem0);
    CHECK(secs < 2.0);
    /* out of order inside the window: fine once; a context without the prefix: never */
    atls_ea_context_set *w = NULL;
    CHECK_OK(atls_ea_context_set_new_sequenced(prefix, sizeof(prefix), &w));
    make_ctx(ctx, prefix, 5);
    CHECK_OK(atls_ea_context_set_add(w, ctx, sizeof(ctx)));
    make_ctx(ctx, prefix, 3);
    CHECK(!atls_ea_context_set_contains(w, ctx, sizeof(ctx)));
    CHECK_OK(atls_ea_context_set_add(w, ctx, sizeof(ctx)));
    CHECK(atls_ea_context_set_contains(w, ctx, sizeof(ctx)));
    make_ctx(ctx, prefix, 200); /* far ahead: 3 and 5 fall below the window: used */
    CHECK_OK(atls_ea_context_set_add(w, ctx, sizeof(ctx)));
    make_ctx(ctx, prefix, 4);
    CHECK(atls_ea_context_set_contains(w, ctx, sizeof(ctx)));
    static const uint8_t other[16] = {1};
    make_ctx(ctx, other, 7);
    CHECK(!atls_ea_context_set_contains(w, ctx, sizeof(ctx)));
    CHECK_ERR(atls_ea_context_set_add(w, ctx, sizeof(ctx)), ATLS_ERR_PROTOCOL_CONTEXT);
    CHECK_ERR(atls_ea_context_set_new_sequenced(prefix, 0, &w), ATLS_ERR_USAGE);
    atls_ea_context_set_free(w);
    atls_ea_context_set_free(set);
}

int main(void)
{
    CHECK_OK(testcert_ca_new("bounds CA", &ca));
    CHECK_OK(testcert_leaf_new(ca, TESTCERT_RSA2048, "server.test", &rsa_leaf));
    CHECK_OK(testcert_leaf_new(ca, TESTCERT_P256, "server.test", &p256_leaf));
    if (ca == NULL || rsa_leaf == NULL || p256_leaf == NULL) {
        return check_summary();
    }
    test_spontaneous_schemes();
    test_chain_schemes();
    test_leaf_purpose();
    test_sequenced_set();
    testcert_free(rsa_leaf);
    testcert_free(p256_leaf);
    testcert_free(ca);
    return check_summary();
}
