/*
 * test_intra_wire: the INSECURE baseline's pieces that need no attester.
 *   - evidence_request codec (-08 section 4): round trip, and every bound refused;
 *   - the key-schedule pieces computed by hand: HKDF-Extract / HKDF-Expand-Label against
 *     RFC 8448 section 3, the RFC 8446 7.5 exporter against OpenSSL's own
 *     SSL_export_keying_material (EXPORTER_SECRET from the key log, SHA-256 and SHA-384
 *     suites), the early exporter of a live handshake against an independent Python
 *     computation from the captured ClientHello;
 *   - the challenge rule: each binder depends on exactly the inputs of its table row.
 */
#include "intra_lab.h"
#include "tls/intra/intra_internal.h"

#include "base/hex.h"
#include "check.h"
#include "tls_pair.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_request_roundtrip(void)
{
    static const char *const types[] = {"application/a", "application/b", NULL};
    uint8_t nonce[32];
    memset(nonce, 0x5a, sizeof(nonce));
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_OK(intra_request_encode(ATLS_INTRA_INSECURE_KIND_CERT_ATTESTATION, types, nonce,
                                  sizeof(nonce), &buf, &len));
    /* u8 types length, 2 x (kind, encoding, u16 len, bytes), u8 nonce length, nonce */
    CHECK(len == 1 + 2 * (4 + 13) + 1 + 32);
    CHECK(buf[0] == 2 * (4 + 13) && buf[1] == 1 && buf[2] == 1 && buf[3] == 0 && buf[4] == 13);
    intra_request req;
    CHECK_OK(intra_request_decode(buf, len, &req));
    CHECK(req.num_types == 2);
    CHECK(intra_type_is(&req.types[1], ATLS_INTRA_INSECURE_KIND_CERT_ATTESTATION,
                        "application/b"));
    CHECK(!intra_type_is(&req.types[1], ATLS_INTRA_INSECURE_KIND_ATTESTATION, "application/b"));
    CHECK(!intra_type_is(&req.types[1], ATLS_INTRA_INSECURE_KIND_CERT_ATTESTATION,
                         "application/bb"));
    CHECK(atls_cursor_equals(&req.nonce, nonce, sizeof(nonce)));
    /* every proper prefix is truncated or too short somewhere */
    for (size_t cut = 0; cut < len; cut++) {
        intra_request r2;
        CHECK(intra_request_decode(buf, cut, &r2) != ATLS_OK);
    }
    /* a trailing byte */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    CHECK_ERR(intra_request_decode(longer, len + 1, &req), ATLS_ERR_DECODE_TRAILING);
    free(longer);
    free(buf);

    uint8_t *sel = NULL;
    size_t sel_len = 0;
    intra_evidence_type t;
    CHECK_OK(intra_selected_encode(ATLS_INTRA_INSECURE_KIND_ATTESTATION, "application/a", &sel,
                                   &sel_len));
    CHECK_OK(intra_selected_decode(sel, sel_len, &t));
    CHECK(intra_type_is(&t, ATLS_INTRA_INSECURE_KIND_ATTESTATION, "application/a"));
    CHECK_ERR(intra_selected_decode(sel, sel_len - 1, &t), ATLS_ERR_DECODE_TRUNCATED);
    free(sel);
}

static void test_request_bounds(void)
{
    intra_request req;
    /* empty type list */
    const uint8_t no_types[] = {0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_ERR(intra_request_decode(no_types, sizeof(no_types), &req), ATLS_ERR_DECODE_LENGTH);
    /* a 7-byte nonce (-08: nonce<8..2^8-1>) */
    const uint8_t short_nonce[] = {4, 1, 1, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7};
    CHECK_ERR(intra_request_decode(short_nonce, sizeof(short_nonce), &req),
              ATLS_ERR_DECODE_LENGTH);
    /* unknown credential kind, unknown encoding */
    const uint8_t bad_kind[] = {4, 2, 1, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_ERR(intra_request_decode(bad_kind, sizeof(bad_kind), &req), ATLS_ERR_DECODE_VALUE);
    const uint8_t bad_enc[] = {4, 0, 2, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_ERR(intra_request_decode(bad_enc, sizeof(bad_enc), &req), ATLS_ERR_DECODE_VALUE);
    /* a media type running past its vector */
    const uint8_t over[] = {4, 0, 1, 0, 9, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_ERR(intra_request_decode(over, sizeof(over), &req), ATLS_ERR_DECODE_TRUNCATED);
    /* a content-format type parses but matches no media type */
    const uint8_t cf[] = {4, 0, 0, 0x01, 0x2c, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_OK(intra_request_decode(cf, sizeof(cf), &req));
    CHECK(req.num_types == 1 && req.types[0].content_format == 300 &&
          !intra_type_is(&req.types[0], 0, ""));
    /* an empty media type is legal (<0..2^16-1>) and matches only "" */
    const uint8_t empty_mt[] = {4, 0, 1, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_OK(intra_request_decode(empty_mt, sizeof(empty_mt), &req));
    CHECK(intra_type_is(&req.types[0], 0, "") && !intra_type_is(&req.types[0], 0, "a"));
    /* encoder bounds */
    static const char *const one[] = {"x", NULL};
    static const char *const none[] = {NULL};
    uint8_t nonce[256] = {0}, *buf = NULL;
    size_t len = 0;
    CHECK_ERR(intra_request_encode(0, one, nonce, 7, &buf, &len), ATLS_ERR_USAGE_CONFIG);
    CHECK_ERR(intra_request_encode(0, one, nonce, 256, &buf, &len), ATLS_ERR_USAGE_CONFIG);
    CHECK_ERR(intra_request_encode(0, none, nonce, 8, &buf, &len), ATLS_ERR_USAGE_CONFIG);
    CHECK_OK(intra_request_encode(0, one, nonce, 255, &buf, &len));
    CHECK_OK(intra_request_decode(buf, len, &req));
    CHECK(atls_cursor_remaining(&req.nonce) == 255);
    free(buf);
}

static void hex_is(const uint8_t *got, size_t len, const char *want)
{
    char h[2 * EVP_MAX_MD_SIZE + 1];
    CHECK_OK(atls_hex_encode(h, sizeof(h), got, len));
    CHECK(strcmp(h, want) == 0);
    if (strcmp(h, want) != 0) {
        printf("  got  %s\n  want %s\n", h, want);
    }
}

/* RFC 8448 section 3 (simple 1-RTT handshake): the early secret and "derived". */
static void test_rfc8448(void)
{
    uint8_t zeros[32] = {0}, es[EVP_MAX_MD_SIZE], empty[32], derived[32];
    size_t es_len = 0;
    unsigned int n = 0;
    CHECK_OK(intra_hkdf_extract(EVP_sha256(), zeros, 32, zeros, 32, es, &es_len));
    CHECK(es_len == 32);
    hex_is(es, es_len, "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
    CHECK(EVP_Digest(NULL, 0, empty, &n, EVP_sha256(), NULL) == 1);
    CHECK_OK(intra_hkdf_expand_label(EVP_sha256(), es, 32, "derived", empty, 32, derived, 32));
    hex_is(derived, 32, "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
    char long_label[260];
    memset(long_label, 'a', sizeof(long_label) - 1);
    long_label[sizeof(long_label) - 1] = '\0';
    CHECK_ERR(intra_hkdf_expand_label(EVP_sha256(), es, 32, long_label, NULL, 0, derived, 32),
              ATLS_ERR_USAGE);
}

/* the exporter by hand equals OpenSSL's, from EXPORTER_SECRET in the server's key log */
static uint8_t exporter_secret[EVP_MAX_MD_SIZE];
static size_t exporter_secret_len;

static void keylog(const SSL *ssl, const char *line)
{
    (void)ssl;
    if (strncmp(line, "EXPORTER_SECRET ", 16) == 0) {
        uint8_t *b = NULL;
        size_t n = 0;
        if (atls_hex_decode(strrchr(line, ' ') + 1, &b, &n) == ATLS_OK && n <= 48) {
            memcpy(exporter_secret, b, n);
            exporter_secret_len = n;
        }
        free(b);
    }
}

static void test_exporter_matches_openssl(void)
{
    const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"};
    const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384()};
    for (int i = 0; i < 2; i++) {
        SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_set_keylog_callback(sctx, keylog);
        tls_pair_options o = {0};
        o.ciphersuites = suites[i];
        o.server_ctx = sctx;
        tls_pair *p = NULL;
        exporter_secret_len = 0;
        CHECK_OK(tls_pair_new(&o, &p));
        SSL_CTX_free(sctx);
        if (p == NULL) {
            continue;
        }
        CHECK(exporter_secret_len == (size_t)EVP_MD_get_size(mds[i]));
        const uint8_t ctx[] = "some context";
        uint8_t ours[40], theirs[40];
        CHECK_OK(intra_tls13_export(mds[i], exporter_secret, exporter_secret_len, "EXPORTER-test",
                                    ctx, sizeof(ctx), ours, sizeof(ours)));
        CHECK(SSL_export_keying_material(p->server, theirs, sizeof(theirs), "EXPORTER-test", 13,
                                         ctx, sizeof(ctx), 1) == 1);
        CHECK_EQ_MEM(ours, theirs, sizeof(ours));
        /* the empty context (RFC 8446: an absent context and an empty one are the same) */
        CHECK_OK(intra_tls13_export(mds[i], exporter_secret, exporter_secret_len, "EXPORTER-test",
                                    NULL, 0, ours, 32));
        CHECK(SSL_export_keying_material(p->server, theirs, 32, "EXPORTER-test", 13, NULL, 0, 1) ==
              1);
        CHECK_EQ_MEM(ours, theirs, 32);
        tls_pair_free(p);
    }
}

/* the early exporter of a live handshake: the server's and client's binder inputs agree, and an
 * independent Python computation over the captured ClientHello gives the same value */
static uint8_t captured_ch[INTRA_MAX_CLIENT_HELLO];
static size_t captured_ch_len;
static atls_intra_insecure_binder_inputs captured_server;

static atls_error capture_source(void *arg, SSL *ssl, const atls_intra_insecure_binder_inputs *in,
                                 const uint8_t challenge[ATLS_CHALLENGE_LEN], uint8_t **cmw,
                                 size_t *cmw_len)
{
    (void)arg, (void)challenge;
    const intra_conn *c = intra_conn_get(ssl);
    captured_ch_len = c->client_hello_len;
    memcpy(captured_ch, c->client_hello, c->client_hello_len);
    captured_server = *in;
    /* not a CMW: the client's appraisal fails after it has computed its inputs */
    *cmw = calloc(1, 4);
    *cmw_len = 4;
    return *cmw != NULL ? ATLS_OK : ATLS_ERR_INTERNAL_ALLOC;
}

static void test_early_exporter_live(void)
{
    static const char *const types[] = {"application/test", NULL};
    const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"};
    const char *hashes[] = {"sha256", "sha384"};
    const char *src = getenv("ATLS_SOURCE_DIR");
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    CHECK_OK(atls_intra_insecure_throwaway_new(&key, &cert));
    for (int i = 0; i < 2; i++) {
        atls_intra_insecure_config s = {0}, c = {0};
        s.mode = c.mode = ATLS_INTRA_INSECURE_RA_ONLY;
        s.binder = c.binder = ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0_KEY;
        s.evidence_cb = capture_source;
        s.evidence_media_type = types[0];
        c.offered_media_types = types;
        SSL_CTX *sctx = intra_lab_server_ctx(&s, cert, key);
        SSL_CTX *cctx = intra_lab_client_ctx(&c);
        CHECK(sctx != NULL && cctx != NULL &&
              SSL_CTX_set_ciphersuites(sctx, suites[i]) == 1);
        intra_lab_server srv;
        memset(&srv, 0, sizeof(srv));
        CHECK(intra_lab_server_start(&srv, sctx) == 0);
        intra_lab_result r;
        captured_ch_len = 0;
        intra_lab_connect(cctx, srv.lb.port, NULL, &r);
        intra_lab_server_stop(&srv);
        CHECK(!r.handshake_ok && r.have_inputs && captured_ch_len > 0);
        CHECK(captured_ch[0] == SSL3_MT_CLIENT_HELLO);
        /* both ends computed the same values from their own view */
        CHECK_EQ_MEM(r.inputs.exp0, captured_server.exp0, 32);
        CHECK_EQ_MEM(r.inputs.key_hash, captured_server.key_hash, 32);
        CHECK_EQ_MEM(r.inputs.client_random, captured_server.client_random, 32);
        CHECK(r.inputs.nonce_len == captured_server.nonce_len &&
              memcmp(r.inputs.nonce, captured_server.nonce, r.inputs.nonce_len) == 0);
        CHECK_EQ_MEM(r.inputs.hs_binder, captured_server.hs_binder, 32);
        /* and an independent implementation agrees on exp0 */
        char *cmd = malloc(2 * captured_ch_len + 512);
        char *hex = malloc(2 * captured_ch_len + 1);
        CHECK_OK(atls_hex_encode(hex, 2 * captured_ch_len + 1, captured_ch, captured_ch_len));
        snprintf(cmd, 2 * captured_ch_len + 512,
                 "python3 '%s/tests/tls/intra/early_exporter.py' %s %s attestation-binder 32",
                 src != NULL ? src : ".", hashes[i], hex);
        FILE *fp = popen(cmd, "r");
        char out[200] = "";
        if (fp != NULL && fgets(out, sizeof(out), fp) != NULL) {
            out[strcspn(out, "\n")] = '\0';
        }
        if (fp != NULL) {
            pclose(fp);
        }
        printf("exp0 (%s) by python: %s\n", hashes[i], out);
        hex_is(r.inputs.exp0, 32, out);
        free(cmd);
        free(hex);
        intra_lab_result_cleanup(&r);
        SSL_CTX_free(sctx);
        SSL_CTX_free(cctx);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
}

/* each binder's challenge changes with exactly the inputs of its table row */
static void test_binder_inputs_used(void)
{
    /* rows: binder; columns: cr, nonce, exp0, key, hs */
    static const int uses[10][5] = {
        [1] = {1, 0, 0, 0, 0}, [2] = {0, 1, 0, 0, 0}, [3] = {0, 0, 1, 0, 0},
        [4] = {0, 0, 0, 1, 0}, [5] = {0, 1, 1, 0, 0}, [6] = {0, 1, 0, 1, 0},
        [7] = {0, 1, 1, 1, 0}, [8] = {0, 1, 0, 1, 1}, [9] = {0, 0, 0, 0, 0},
    };
    atls_intra_insecure_binder_inputs base;
    memset(&base, 0x11, sizeof(base));
    base.nonce_len = 32;
    uint8_t prev[ATLS_CHALLENGE_LEN] = {0};
    for (int b = 1; b <= 9; b++) {
        base.binder = (atls_intra_insecure_binder)b;
        uint8_t c0[ATLS_CHALLENGE_LEN], c1[ATLS_CHALLENGE_LEN];
        CHECK_OK(atls_intra_insecure_challenge(&base, c0));
        CHECK(memcmp(c0, prev, sizeof(c0)) != 0); /* the binder number is hashed in */
        memcpy(prev, c0, sizeof(c0));
        for (int col = 0; col < 5; col++) {
            atls_intra_insecure_binder_inputs v = base;
            uint8_t *field = col == 0 ? v.client_random
                           : col == 1 ? v.nonce
                           : col == 2 ? v.exp0
                           : col == 3 ? v.key_hash
                                      : v.hs_binder;
            field[0] ^= 1;
            CHECK_OK(atls_intra_insecure_challenge(&v, c1));
            int changed = memcmp(c0, c1, sizeof(c0)) != 0;
            CHECK(changed == uses[b][col]);
            if (changed != uses[b][col]) {
                printf("binder %d input %d: changed %d\n", b, col, changed);
            }
        }
    }
    /* the nonce length counts too: a shorter nonce with the same prefix differs */
    base.binder = ATLS_INTRA_INSECURE_BINDER_NONCE;
    uint8_t a[ATLS_CHALLENGE_LEN], b2[ATLS_CHALLENGE_LEN];
    CHECK_OK(atls_intra_insecure_challenge(&base, a));
    base.nonce_len = 31;
    CHECK_OK(atls_intra_insecure_challenge(&base, b2));
    CHECK(memcmp(a, b2, sizeof(a)) != 0);
    /* the rule written out: SHA-512(label 0x00 || 2 || 31 || nonce[0..30]) */
    static const char label[] = "atls intra-handshake INSECURE baseline";
    uint8_t msg[sizeof(label) + 2 + 31], want[64];
    memcpy(msg, label, sizeof(label));
    msg[sizeof(label)] = 2;
    msg[sizeof(label) + 1] = 31;
    memcpy(msg + sizeof(label) + 2, base.nonce, 31);
    unsigned int n = 0;
    CHECK(EVP_Digest(msg, sizeof(msg), want, &n, EVP_sha512(), NULL) == 1);
    CHECK_EQ_MEM(b2, want, 64);
    base.binder = 0;
    CHECK_ERR(atls_intra_insecure_challenge(&base, a), ATLS_ERR_USAGE);
}

static void test_names(void)
{
    for (int b = 1; b <= 9; b++) {
        const char *name = atls_intra_insecure_binder_name((atls_intra_insecure_binder)b);
        CHECK(name != NULL && (int)atls_intra_insecure_binder_parse(name) == b);
        CHECK(atls_intra_insecure_binder_description((atls_intra_insecure_binder)b) != NULL);
    }
    CHECK(atls_intra_insecure_binder_parse("8") == ATLS_INTRA_INSECURE_BINDER_HANDSHAKE);
    CHECK(atls_intra_insecure_binder_parse("0") == 0 && atls_intra_insecure_binder_parse("") == 0);
    CHECK(atls_intra_insecure_binder_name(0) == NULL);
    CHECK(atls_intra_insecure_mode_parse("ra-only") == ATLS_INTRA_INSECURE_RA_ONLY);
    CHECK(atls_intra_insecure_mode_parse("x509") == ATLS_INTRA_INSECURE_X509);
    CHECK(atls_intra_insecure_mode_parse("X509") == 0 && atls_intra_insecure_mode_name(0) == NULL);
}

static void test_throwaway(void)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    CHECK_OK(atls_intra_insecure_throwaway_new(&key, &cert));
    CHECK(X509_check_private_key(cert, key) == 1);
    CHECK(X509_check_issued(cert, cert) == X509_V_OK); /* self-signed */
    CHECK(X509_check_host(cert, "server.test", 0, 0, NULL) != 1); /* names nobody */
    EVP_PKEY *key2 = NULL;
    X509 *cert2 = NULL;
    CHECK_OK(atls_intra_insecure_throwaway_new(&key2, &cert2));
    CHECK(EVP_PKEY_eq(key, key2) != 1); /* fresh each time */
    X509_free(cert), X509_free(cert2);
    EVP_PKEY_free(key), EVP_PKEY_free(key2);
}

int main(void)
{
    test_request_roundtrip();
    test_request_bounds();
    test_rfc8448();
    test_exporter_matches_openssl();
    test_early_exporter_live();
    test_binder_inputs_used();
    test_names();
    test_throwaway();
    ERR_clear_error();
    return check_summary();
}
