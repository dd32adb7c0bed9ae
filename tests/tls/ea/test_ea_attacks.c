/* test_ea_attacks: every validation check of atls_ea_validate made to fail with its own error
 * code over real TLS 1.3 connections (relay, reflection, bit flips, truncation, crafted
 * Certificate messages, TLS 1.2, chain). */
#include "ea_testutil.h"

#include "base/mem.h"
#include "base/writer.h"

#include <stdlib.h>
#include <string.h>

static testcert *ca, *other_ca;
static X509_STORE *store, *other_store;
static testcert *leaves[TESTCERT_NUM_KEYTYPES]; /* "server.test" leaves by key type */

/* validate_fresh validates with a fresh context set (so only the check under test fails). */
static atls_error validate_fresh(SSL *ssl, const atls_ea_request *req, const uint8_t *msg,
                                 size_t len, const atls_ea_validate_options *vo)
{
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    if (atls_ea_context_set_new(&seen) != ATLS_OK) {
        return ATLS_ERR_INTERNAL_ALLOC;
    }
    atls_error rc = atls_ea_validate(ssl, req, msg, len, seen, vo, &res);
    if (rc != ATLS_OK && res != NULL) {
        rc = ATLS_ERR_INTERNAL; /* a failed validate must return no result */
    }
    atls_ea_result_free(res);
    atls_ea_context_set_free(seen);
    return rc;
}

/* server_answer: the server of |p| answers |req| (a client request) with |leaf|. */
static uint8_t *server_answer(tls_pair *p, const atls_ea_request *req, const testcert *leaf,
                              size_t *len)
{
    uint8_t *auth = NULL;
    atls_ea_request *peer = req ? request_at_peer(req) : NULL;
    CHECK_OK(atls_ea_authenticate(p->server, peer, leaf->cert, NULL, leaf->key, NULL, 0, &auth,
                                  len));
    atls_ea_request_free(peer);
    return auth;
}

/* cert_msg builds a Certificate message with |ctx|; entries are |certs| with |ext_in[i]|
 * extension type added to entry i when non-zero. */
static uint8_t *cert_msg(const uint8_t *ctx, size_t ctx_len, X509 *const *certs,
                         const uint16_t *ext_in, size_t n, size_t *len)
{
    atls_writer w;
    uint8_t *out = NULL;
    atls_writer_init(&w, 0);
    bool ok = atls_writer_add_u8(&w, ATLS_HS_CERTIFICATE) && atls_writer_open_u24(&w) &&
              atls_writer_open_u8(&w) && atls_writer_add_bytes(&w, ctx, ctx_len) &&
              atls_writer_close(&w) && atls_writer_open_u24(&w);
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char *der = NULL;
        int dl = i2d_X509(certs[i], &der);
        ok = dl > 0 && atls_writer_open_u24(&w) && atls_writer_add_bytes(&w, der, (size_t)dl) &&
             atls_writer_close(&w) && atls_writer_open_u16(&w);
        if (ok && ext_in[i] != 0) {
            ok = atls_writer_add_u16(&w, ext_in[i]) && atls_writer_add_u16(&w, 1) &&
                 atls_writer_add_u8(&w, 0x42);
        }
        ok = ok && atls_writer_close(&w);
        OPENSSL_free(der);
    }
    ok = ok && atls_writer_close(&w) && atls_writer_close(&w);
    CHECK(ok);
    CHECK_OK(atls_writer_finish(&w, &out, len));
    atls_writer_cleanup(&w);
    return out;
}

static void context_and_replay(tls_pair *p)
{
    atls_ea_request *r1 = NULL, *r2 = NULL;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    size_t len = 0;
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &r1));
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &r2));
    uint8_t *auth = server_answer(p, r2, leaves[TESTCERT_P256], &len);
    /* answering another request of ours: wrong context */
    CHECK_ERR(validate_fresh(p->client, r1, auth, len, NULL), ATLS_ERR_PROTOCOL_CONTEXT);
    CHECK_OK(atls_ea_context_set_new(&seen));
    CHECK_OK(atls_ea_validate(p->client, r2, auth, len, seen, NULL, &res));
    atls_ea_result_free(res);
    res = NULL;
    CHECK_ERR(atls_ea_validate(p->client, r2, auth, len, seen, NULL, &res),
              ATLS_ERR_PROTOCOL_REPLAY);
    /* a failed validation does not consume a context */
    {
        atls_ea_context_set *seen2 = NULL;
        uint8_t *bad = atls_memdup(auth, len);
        CHECK_OK(atls_ea_context_set_new(&seen2));
        bad[len - 1] ^= 0x80;
        CHECK_ERR(atls_ea_validate(p->client, r2, bad, len, seen2, NULL, &res), ATLS_ERR_CRYPTO_MAC);
        CHECK_OK(atls_ea_validate(p->client, r2, auth, len, seen2, NULL, &res));
        atls_ea_result_free(res);
        res = NULL;
        free(bad);
        atls_ea_context_set_free(seen2);
    }
    free(auth);
    atls_ea_request_free(r1);
    atls_ea_request_free(r2);
    atls_ea_context_set_free(seen);
}

/* relay: the client of pair B asks; an attacker forwards the request to the server of pair A
 * (same certificate) and relays the answer back. Different exporter values: signature fails. */
static void relay(const char *suite)
{
    tls_pair *a = new_pair(suite), *b = new_pair(suite);
    atls_ea_request *req = NULL;
    size_t len = 0;
    for (int t = 0; t < TESTCERT_NUM_KEYTYPES; t++) {
        CHECK_OK(atls_ea_request_new(b->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req));
        uint8_t *auth = server_answer(a, req, leaves[t], &len);
        CHECK_ERR(validate_fresh(b->client, req, auth, len, NULL), ATLS_ERR_CRYPTO_SIGNATURE);
        free(auth);
        /* relayed refusal: the Finished MAC fails */
        CHECK_OK(atls_ea_authenticate_empty(a->server, req, &auth, &len));
        CHECK_ERR(validate_fresh(b->client, req, auth, len, NULL), ATLS_ERR_CRYPTO_MAC);
        free(auth);
        atls_ea_request_free(req);
        req = NULL;
    }
    /* and the server-asks-client direction */
    CHECK_OK(atls_ea_request_new(b->server, ATLS_EA_CERTIFICATE_REQUEST, NULL, &req));
    {
        uint8_t *auth = NULL;
        CHECK_OK(atls_ea_authenticate(a->client, req, leaves[0]->cert, NULL, leaves[0]->key, NULL,
                                      0, &auth, &len));
        CHECK_ERR(validate_fresh(b->server, req, auth, len, NULL), ATLS_ERR_CRYPTO_SIGNATURE);
        free(auth);
    }
    atls_ea_request_free(req);
    tls_pair_free(a);
    tls_pair_free(b);
}

/* reflection: an authenticator made with the validator's own labels. */
static void reflection(tls_pair *p)
{
    atls_ea_request *req = NULL;
    uint8_t *cm = NULL, *auth = NULL;
    size_t cm_len = 0, len = 0, ctx_len = 0;
    const testcert *leaf = leaves[TESTCERT_P256];
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req));
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    CHECK_OK(atls_ea_encode_certificate(ctx, ctx_len, leaf->cert, NULL, NULL, 0, &cm, &cm_len));
    /* control: the honest raw authenticator validates */
    CHECK_OK(atls_ea_authenticate_raw(p->server, req, cm, cm_len, leaf->key,
                                      ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
    CHECK_OK(validate_fresh(p->client, req, auth, len, NULL));
    free(auth);
    /* the server signs with the client's labels */
    CHECK_OK(atls_ea_authenticate_raw(p->server, req, cm, cm_len, leaf->key,
                                      ATLS_SIG_ECDSA_SECP256R1_SHA256, 1, &auth, &len));
    CHECK_ERR(validate_fresh(p->client, req, auth, len, NULL), ATLS_ERR_CRYPTO_SIGNATURE);
    free(auth);
    /* the client's own authenticator reflected back to it */
    CHECK_OK(atls_ea_authenticate_raw(p->client, req, cm, cm_len, leaf->key,
                                      ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
    CHECK_ERR(validate_fresh(p->client, req, auth, len, NULL), ATLS_ERR_CRYPTO_SIGNATURE);
    free(auth);
    free(cm);
    atls_ea_request_free(req);
}

/* bit_flips: one flipped bit at every byte of Certificate, CertificateVerify and Finished. */
static void bit_flips(tls_pair *p, testcert_keytype type)
{
    atls_ea_request *req = NULL;
    size_t len = 0, accepted = 0;
    atls_ea_validate_options vo = {0};
    vo.trust = store;
    vo.hostname = "server.test";
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req));
    uint8_t *auth = server_answer(p, req, leaves[type], &len);
    CHECK_OK(validate_fresh(p->client, req, auth, len, &vo));
    for (size_t i = 0; i < len; i++) {
        uint8_t bit = (uint8_t)(1u << (i % 8));
        auth[i] ^= bit;
        atls_error rc = validate_fresh(p->client, req, auth, len, &vo);
        if (rc == ATLS_OK) {
            fprintf(stderr, "bit flip at %zu (%s) accepted\n", i, testcert_keytype_name(type));
            accepted++;
        }
        auth[i] ^= bit;
    }
    CHECK(accepted == 0);
    free(auth);
    atls_ea_request_free(req);
}

/* truncated_and_long: every prefix, trailing bytes, the ceiling. */
static void truncated_and_long(tls_pair *p)
{
    atls_ea_request *req = NULL;
    size_t len = 0, wrong = 0;
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req));
    uint8_t *auth = server_answer(p, req, leaves[TESTCERT_ED25519], &len);
    for (size_t n = 0; n < len; n++) {
        uint8_t *prefix = atls_memdup(auth, n);
        if (validate_fresh(p->client, req, prefix, n, NULL) != ATLS_ERR_DECODE_TRUNCATED) {
            fprintf(stderr, "prefix of %zu bytes: %s\n", n, atls_error_detail());
            wrong++;
        }
        free(prefix);
    }
    CHECK(wrong == 0);
    uint8_t *longer = malloc(ATLS_EA_MAX_MESSAGE + 1);
    memcpy(longer, auth, len);
    memset(longer + len, 0, ATLS_EA_MAX_MESSAGE + 1 - len);
    CHECK_ERR(validate_fresh(p->client, req, longer, len + 1, NULL), ATLS_ERR_DECODE_TRAILING);
    longer[len] = ATLS_HS_FINISHED;
    CHECK_ERR(validate_fresh(p->client, req, longer, len + 4, NULL), ATLS_ERR_DECODE_TRAILING);
    CHECK_ERR(validate_fresh(p->client, req, longer, ATLS_EA_MAX_MESSAGE + 1, NULL),
              ATLS_ERR_DECODE_TOO_LARGE);
    free(longer);
    /* Finished body of the wrong length (length field and body both changed) */
    {
        uint8_t *shorter = atls_memdup(auth, len - 1);
        shorter[len - 33] = 31; /* SHA-256 pair: u24 length low byte */
        CHECK_ERR(validate_fresh(p->client, req, shorter, len - 1, NULL), ATLS_ERR_DECODE_LENGTH);
        free(shorter);
    }
    /* messages out of order: Finished first, but not alone */
    {
        uint8_t *swapped = malloc(len + 36);
        memcpy(swapped, auth + len - 36, 36);
        memcpy(swapped + 36, auth, len);
        CHECK_ERR(validate_fresh(p->client, req, swapped, len + 36, NULL), ATLS_ERR_DECODE_TYPE);
        free(swapped);
    }
    free(auth);
    atls_ea_request_free(req);
}

/* schemes: not offered, not fitting the key, none fitting at the producer. */
static void schemes(tls_pair *p)
{
    static const uint16_t only_p256[] = {ATLS_SIG_ECDSA_SECP256R1_SHA256};
    static const uint16_t both_ec[] = {ATLS_SIG_ECDSA_SECP256R1_SHA256,
                                       ATLS_SIG_ECDSA_SECP384R1_SHA384};
    atls_ea_request_options ro = {0};
    atls_ea_request *req = NULL;
    uint8_t *cm = NULL, *auth = NULL;
    size_t cm_len = 0, len = 0, ctx_len = 0;
    const testcert *p384 = leaves[TESTCERT_P384];
    ro.sigalgs = only_p256;
    ro.num_sigalgs = 1;
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &ro, &req));
    /* the producer finds no offered scheme for a P-384 key */
    CHECK_ERR(atls_ea_authenticate(p->server, req, p384->cert, NULL, p384->key, NULL, 0, &auth,
                                   &len),
              ATLS_ERR_PROTOCOL_SCHEME);
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    CHECK_OK(atls_ea_encode_certificate(ctx, ctx_len, p384->cert, NULL, NULL, 0, &cm, &cm_len));
    CHECK_OK(atls_ea_authenticate_raw(p->server, req, cm, cm_len, p384->key,
                                      ATLS_SIG_ECDSA_SECP384R1_SHA384, -1, &auth, &len));
    CHECK_ERR(validate_fresh(p->client, req, auth, len, NULL), ATLS_ERR_PROTOCOL_SCHEME);
    free(auth);
    atls_ea_request_free(req);
    /* offered, but the scheme's curve is not the leaf's: patch 0x0503 -> 0x0403 */
    ro.sigalgs = both_ec;
    ro.num_sigalgs = 2;
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &ro, &req));
    free(cm);
    ctx = atls_ea_request_get0_context(req, &ctx_len);
    CHECK_OK(atls_ea_encode_certificate(ctx, ctx_len, p384->cert, NULL, NULL, 0, &cm, &cm_len));
    CHECK_OK(atls_ea_authenticate_raw(p->server, req, cm, cm_len, p384->key,
                                      ATLS_SIG_ECDSA_SECP384R1_SHA384, -1, &auth, &len));
    CHECK_OK(validate_fresh(p->client, req, auth, len, NULL));
    CHECK(auth[cm_len] == ATLS_HS_CERTIFICATE_VERIFY && auth[cm_len + 4] == 0x05);
    auth[cm_len + 4] = 0x04;
    CHECK_ERR(validate_fresh(p->client, req, auth, len, NULL), ATLS_ERR_PROTOCOL_SCHEME);
    free(auth);
    /* rsa_pkcs1_sha256 (0x0401) is never accepted */
    CHECK_ERR(atls_ea_authenticate_raw(p->server, req, cm, cm_len, leaves[TESTCERT_RSA2048]->key,
                                       0x0401, -1, &auth, &len),
              ATLS_ERR_PROTOCOL_SCHEME);
    free(cm);
    atls_ea_request_free(req);
}

/* extensions: not requested, first-entry-only in the second entry, spontaneous. */
static void extensions(tls_pair *p)
{
    atls_ea_extension cmw = {EXT_CMW, NULL, 0};
    atls_ea_request_options ro = {0};
    atls_ea_request *plain = NULL, *with_cmw = NULL;
    uint8_t *cm = NULL, *auth = NULL;
    size_t cm_len = 0, len = 0, ctx_len = 0;
    uint16_t first_only[] = {EXT_CMW};
    atls_ea_validate_options vo = {0};
    const testcert *leaf = leaves[TESTCERT_P256];
    X509 *certs[2] = {leaf->cert, ca->cert};
    vo.first_entry_only = first_only;
    vo.num_first_entry_only = 1;
    ro.extensions = &cmw;
    ro.num_extensions = 1;
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &plain));
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &ro, &with_cmw));

    /* producer side: not offered */
    CHECK_ERR(atls_ea_authenticate(p->server, plain, leaf->cert, NULL, leaf->key, &cmw, 1, &auth,
                                   &len),
              ATLS_ERR_PROTOCOL_EXTENSION);
    CHECK_ERR(atls_ea_authenticate(p->server, NULL, leaf->cert, NULL, leaf->key, &cmw, 1, &auth,
                                   &len),
              ATLS_ERR_PROTOCOL_EXTENSION);

    /* validator side: an extension in the first entry the request did not offer */
    {
        const uint16_t ext_in[2] = {EXT_CMW, 0};
        const uint8_t *ctx = atls_ea_request_get0_context(plain, &ctx_len);
        cm = cert_msg(ctx, ctx_len, certs, ext_in, 1, &cm_len);
        CHECK_OK(atls_ea_authenticate_raw(p->server, plain, cm, cm_len, leaf->key,
                                          ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
        CHECK_ERR(validate_fresh(p->client, plain, auth, len, &vo), ATLS_ERR_PROTOCOL_EXTENSION);
        free(auth);
        free(cm);
    }
    /* the offered first-entry-only extension in the second entry */
    {
        const uint16_t ext_in[2] = {0, EXT_CMW};
        const uint8_t *ctx = atls_ea_request_get0_context(with_cmw, &ctx_len);
        cm = cert_msg(ctx, ctx_len, certs, ext_in, 2, &cm_len);
        CHECK_OK(atls_ea_authenticate_raw(p->server, with_cmw, cm, cm_len, leaf->key,
                                          ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
        CHECK_ERR(validate_fresh(p->client, with_cmw, auth, len, &vo),
                  ATLS_ERR_PROTOCOL_EXTENSION);
        /* control: without the rule it is acceptable (offered in the request) */
        CHECK_OK(validate_fresh(p->client, with_cmw, auth, len, NULL));
        free(auth);
        free(cm);
    }
    /* in the first entry it is fine */
    {
        const uint16_t ext_in[2] = {EXT_CMW, 0};
        const uint8_t *ctx = atls_ea_request_get0_context(with_cmw, &ctx_len);
        cm = cert_msg(ctx, ctx_len, certs, ext_in, 2, &cm_len);
        CHECK_OK(atls_ea_authenticate_raw(p->server, with_cmw, cm, cm_len, leaf->key,
                                          ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
        CHECK_OK(validate_fresh(p->client, with_cmw, auth, len, &vo));
        free(auth);
        free(cm);
    }
    /* a spontaneous authenticator carries no CertificateEntry extension */
    {
        static const uint8_t ctx[32] = {1};
        const uint16_t ext_in[2] = {EXT_CMW, 0};
        cm = cert_msg(ctx, sizeof(ctx), certs, ext_in, 1, &cm_len);
        CHECK_OK(atls_ea_authenticate_raw(p->server, NULL, cm, cm_len, leaf->key,
                                          ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
        CHECK_ERR(validate_fresh(p->client, NULL, auth, len, NULL), ATLS_ERR_PROTOCOL_EXTENSION);
        free(auth);
        free(cm);
    }
    atls_ea_request_free(plain);
    atls_ea_request_free(with_cmw);
}

/* crafted Certificate messages: ceilings and malformed entries, each signed and MACed
 * correctly so only the parser can object. */
static void crafted_certificates(tls_pair *p)
{
    atls_ea_request *req = NULL;
    uint8_t *auth = NULL;
    size_t len = 0, ctx_len = 0, cm_len = 0;
    const testcert *leaf = leaves[TESTCERT_P256];
    X509 *certs[11];
    uint16_t no_ext[11] = {0};
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req));
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    for (int i = 0; i < 11; i++) {
        certs[i] = i == 0 ? leaf->cert : ca->cert;
    }
    /* 10 certificates are accepted, 11 are not */
    uint8_t *cm = cert_msg(ctx, ctx_len, certs, no_ext, 10, &cm_len);
    CHECK_OK(atls_ea_authenticate_raw(p->server, req, cm, cm_len, leaf->key,
                                      ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
    CHECK_OK(validate_fresh(p->client, req, auth, len, NULL));
    free(auth);
    free(cm);
    cm = cert_msg(ctx, ctx_len, certs, no_ext, 11, &cm_len);
    CHECK_OK(atls_ea_authenticate_raw(p->server, req, cm, cm_len, leaf->key,
                                      ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
    CHECK_ERR(validate_fresh(p->client, req, auth, len, NULL), ATLS_ERR_DECODE_TOO_LARGE);
    free(auth);
    free(cm);
    /* empty certificate_list with a CertificateVerify */
    cm = cert_msg(ctx, ctx_len, certs, no_ext, 0, &cm_len);
    CHECK_OK(atls_ea_authenticate_raw(p->server, req, cm, cm_len, leaf->key,
                                      ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
    CHECK_ERR(validate_fresh(p->client, req, auth, len, NULL), ATLS_ERR_PROTOCOL);
    free(auth);
    free(cm);
    /* hand-made entries: empty cert_data; declared 64 KiB + 1; not DER; duplicate extension */
    {
        struct {
            const uint8_t *entry;
            size_t len;
            atls_error want;
        } cases[4];
        static const uint8_t empty_cert[] = {0, 0, 0, 0, 0};
        static const uint8_t huge_cert[] = {0x01, 0x00, 0x01, 0x30};
        static const uint8_t not_der[] = {0, 0, 2, 0x30, 0x01, 0, 0};
        uint8_t dup_ext[600];
        unsigned char *der = NULL;
        int dl = i2d_X509(leaf->cert, &der);
        size_t off = 0;
        CHECK(dl > 0 && dl < 500);
        dup_ext[off++] = 0;
        dup_ext[off++] = (uint8_t)(dl >> 8);
        dup_ext[off++] = (uint8_t)dl;
        memcpy(dup_ext + off, der, (size_t)dl);
        off += (size_t)dl;
        static const uint8_t two_exts[] = {0, 8, 0xff, 0, 0, 0, 0xff, 0, 0, 0};
        memcpy(dup_ext + off, two_exts, sizeof(two_exts));
        off += sizeof(two_exts);
        OPENSSL_free(der);
        cases[0].entry = empty_cert, cases[0].len = sizeof(empty_cert), cases[0].want = ATLS_ERR_DECODE_LENGTH;
        cases[1].entry = huge_cert, cases[1].len = sizeof(huge_cert), cases[1].want = ATLS_ERR_DECODE_TOO_LARGE;
        cases[2].entry = not_der, cases[2].len = sizeof(not_der), cases[2].want = ATLS_ERR_DECODE_VALUE;
        cases[3].entry = dup_ext, cases[3].len = off, cases[3].want = ATLS_ERR_DECODE_VALUE;
        for (int i = 0; i < 4; i++) {
            atls_writer w;
            atls_writer_init(&w, 0);
            bool ok = atls_writer_add_u8(&w, ATLS_HS_CERTIFICATE) && atls_writer_open_u24(&w) &&
                      atls_writer_open_u8(&w) && atls_writer_add_bytes(&w, ctx, ctx_len) &&
                      atls_writer_close(&w) && atls_writer_open_u24(&w) &&
                      atls_writer_add_bytes(&w, cases[i].entry, cases[i].len) &&
                      atls_writer_close(&w) && atls_writer_close(&w);
            CHECK(ok);
            CHECK_OK(atls_writer_finish(&w, &cm, &cm_len));
            atls_writer_cleanup(&w);
            CHECK_OK(atls_ea_authenticate_raw(p->server, req, cm, cm_len, leaf->key,
                                              ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &len));
            CHECK_ERR(validate_fresh(p->client, req, auth, len, NULL), cases[i].want);
            free(auth);
            free(cm);
        }
    }
    atls_ea_request_free(req);
}

static void tls12(void)
{
    tls_pair_options o = {0};
    tls_pair *p = NULL;
    atls_ea_request *req = NULL, *req13 = NULL;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    uint8_t *auth = NULL;
    size_t len = 0;
    tls_pair *p13 = new_pair(SUITE_SHA256);
    o.max_version = TLS1_2_VERSION;
    CHECK_OK(tls_pair_new(&o, &p));
    if (p == NULL) {
        tls_pair_free(p13);
        return;
    }
    CHECK(SSL_version(p->client) == TLS1_2_VERSION);
    CHECK_OK(atls_ea_context_set_new(&seen));
    CHECK_OK(atls_ea_request_new(p13->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req13));
    CHECK_ERR(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req),
              ATLS_ERR_USAGE_NOT_TLS13);
    CHECK_ERR(atls_ea_authenticate(p->server, req13, leaves[0]->cert, NULL, leaves[0]->key, NULL,
                                   0, &auth, &len),
              ATLS_ERR_USAGE_NOT_TLS13);
    CHECK_ERR(atls_ea_authenticate_empty(p->server, req13, &auth, &len), ATLS_ERR_USAGE_NOT_TLS13);
    uint8_t *good = server_answer(p13, req13, leaves[0], &len);
    CHECK_ERR(atls_ea_validate(p->client, req13, good, len, seen, NULL, &res),
              ATLS_ERR_USAGE_NOT_TLS13);
    free(good);
    atls_ea_request_free(req13);
    atls_ea_context_set_free(seen);
    tls_pair_free(p);
    tls_pair_free(p13);
}

static atls_error reject_all(void *arg, X509 *leaf, STACK_OF(X509) *chain)
{
    (void)leaf;
    (void)chain;
    (*(int *)arg)++;
    return ATLS_ERR_POLICY_UNTRUSTED_KEY;
}

static atls_error accept_all(void *arg, X509 *leaf, STACK_OF(X509) *chain)
{
    (void)chain;
    (*(int *)arg) += leaf != NULL;
    return ATLS_OK;
}

static void chain(tls_pair *p)
{
    atls_ea_request *req = NULL;
    size_t len = 0;
    int calls = 0;
    atls_ea_validate_options vo = {0};
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req));
    uint8_t *auth = server_answer(p, req, leaves[TESTCERT_P256], &len);
    vo.trust = store;
    vo.hostname = "server.test";
    CHECK_OK(validate_fresh(p->client, req, auth, len, &vo));
    vo.trust = other_store;
    CHECK_ERR(validate_fresh(p->client, req, auth, len, &vo), ATLS_ERR_CRYPTO_CHAIN);
    vo.trust = store;
    vo.hostname = "evil.test";
    CHECK_ERR(validate_fresh(p->client, req, auth, len, &vo), ATLS_ERR_CRYPTO_CHAIN);
    /* hostname without a store: the leaf alone is checked */
    vo.trust = NULL;
    CHECK_ERR(validate_fresh(p->client, req, auth, len, &vo), ATLS_ERR_CRYPTO_CHAIN);
    vo.hostname = "server.test";
    CHECK_OK(validate_fresh(p->client, req, auth, len, &vo));
    /* verification time after the leaf expired (30 days) */
    vo.trust = store;
    vo.at = time(NULL) + 60L * 24 * 3600;
    CHECK_ERR(validate_fresh(p->client, req, auth, len, &vo), ATLS_ERR_CRYPTO_CHAIN);
    vo.at = 0;
    /* the callback decides */
    vo.trust = NULL;
    vo.hostname = NULL;
    vo.verify_cb = reject_all;
    vo.verify_arg = &calls;
    CHECK_ERR(validate_fresh(p->client, req, auth, len, &vo), ATLS_ERR_POLICY_UNTRUSTED_KEY);
    vo.verify_cb = accept_all;
    CHECK_OK(validate_fresh(p->client, req, auth, len, &vo));
    CHECK(calls == 2);
    free(auth);
    atls_ea_request_free(req);
}

static void roles(tls_pair *p)
{
    atls_ea_request *r17 = NULL, *r13 = NULL;
    uint8_t *auth = NULL;
    size_t len = 0;
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &r17));
    CHECK_OK(atls_ea_request_new(p->server, ATLS_EA_CERTIFICATE_REQUEST, NULL, &r13));
    /* the client cannot answer its own kind of request, nor the server a type 13 */
    CHECK_ERR(atls_ea_authenticate(p->client, r17, leaves[0]->cert, NULL, leaves[0]->key, NULL, 0,
                                   &auth, &len),
              ATLS_ERR_USAGE_STATE);
    CHECK_ERR(atls_ea_authenticate(p->server, r13, leaves[0]->cert, NULL, leaves[0]->key, NULL, 0,
                                   &auth, &len),
              ATLS_ERR_USAGE_STATE);
    auth = server_answer(p, r17, leaves[0], &len);
    CHECK_ERR(validate_fresh(p->server, r17, auth, len, NULL), ATLS_ERR_USAGE_STATE);
    CHECK_ERR(validate_fresh(p->client, r13, auth, len, NULL), ATLS_ERR_USAGE_STATE);
    free(auth);
    auth = NULL;
    /* a key that is not the leaf's */
    CHECK_ERR(atls_ea_authenticate(p->server, r17, leaves[0]->cert, NULL, leaves[1]->key, NULL, 0,
                                   &auth, &len),
              ATLS_ERR_CRYPTO_KEY);
    atls_ea_request_free(r17);
    atls_ea_request_free(r13);
}

int main(void)
{
    const char *suites[2] = {SUITE_SHA256, SUITE_SHA384};
    if (testcert_ca_new("atls test CA", &ca) != ATLS_OK ||
        testcert_ca_new("other CA", &other_ca) != ATLS_OK ||
        testcert_store_new(ca, &store) != ATLS_OK ||
        testcert_store_new(other_ca, &other_store) != ATLS_OK) {
        fprintf(stderr, "fixture failed: %s\n", atls_error_detail());
        return 1;
    }
    for (int t = 0; t < TESTCERT_NUM_KEYTYPES; t++) {
        if (testcert_leaf_new(ca, (testcert_keytype)t, "server.test", &leaves[t]) != ATLS_OK) {
            fprintf(stderr, "fixture failed: %s\n", atls_error_detail());
            return 1;
        }
    }
    for (int s = 0; s < 2; s++) {
        tls_pair *p = new_pair(suites[s]);
        relay(suites[s]);
        reflection(p);
        for (int t = 0; t < TESTCERT_NUM_KEYTYPES; t++) {
            bit_flips(p, (testcert_keytype)t);
        }
        tls_pair_free(p);
    }
    {
        tls_pair *p = new_pair(SUITE_SHA256);
        context_and_replay(p);
        truncated_and_long(p);
        schemes(p);
        extensions(p);
        crafted_certificates(p);
        chain(p);
        roles(p);
        tls_pair_free(p);
    }
    tls12();
    for (int t = 0; t < TESTCERT_NUM_KEYTYPES; t++) {
        testcert_free(leaves[t]);
    }
    X509_STORE_free(store);
    X509_STORE_free(other_store);
    testcert_free(ca);
    testcert_free(other_ca);
    return check_summary();
}
