/* test_binding: the connection binding (atls/binding.h) against values computed without
 * src/tls/binding:
 *   - docs/vectors/binding.json (written by binding_vectors.sh with the openssl command line):
 *     atls must give the same binding, AIK_pub_hash and challenge for each exported value, and
 *     the exported value must follow from the exporter secret by RFC 8446 section 7.5;
 *   - live TLS 1.3 connections (both suites): the exporter secret comes from the key log, the
 *     exported value and every hash are computed here with EVP_KDF / EVP_Digest, and must equal
 *     what atls_binding_compute gives on either end, for both directions;
 *   - the directions and the detached domain never give the same challenge. */
#include <atls/binding.h>
#include <atls/challenge.h>

#include "base/hex.h"
#include "check.h"
#include "testcert.h"
#include "tls_pair.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- RFC 8446 by hand --------------------------------------------------------------------- */

static int hkdf_expand(const char *md, const uint8_t *secret, size_t secret_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
        OSSL_PARAM_construct_end(),
    };
    int ok = kctx != NULL && EVP_KDF_derive(kctx, out, len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

/* HKDF-Expand-Label (RFC 8446 section 7.1) */
static int expand_label(const char *md, const uint8_t *secret, size_t secret_len,
                        const char *label, const uint8_t *ctx, size_t ctx_len, uint8_t *out,
                        size_t len)
{
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t n = 0, llen = strlen(label) + 6;
    info[n++] = (uint8_t)(len >> 8);
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)llen;
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, label, llen - 6);
    n += llen;
    info[n++] = (uint8_t)ctx_len;
    memcpy(info + n, ctx, ctx_len);
    n += ctx_len;
    return hkdf_expand(md, secret, secret_len, info, n, out, len);
}

static void digest(const char *md, const uint8_t *a, size_t a_len, const uint8_t *b,
                   size_t b_len, uint8_t *out)
{
    EVP_MD *m = EVP_MD_fetch(NULL, md, NULL);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = m != NULL && c != NULL && EVP_DigestInit_ex(c, m, NULL) == 1 &&
             EVP_DigestUpdate(c, a, a_len) == 1 && (b_len == 0 || EVP_DigestUpdate(c, b, b_len)) &&
             EVP_DigestFinal_ex(c, out, NULL) == 1;
    CHECK(ok);
    EVP_MD_CTX_free(c);
    EVP_MD_free(m);
}

/* TLS-Exporter(label, context, 32) (RFC 8446 section 7.5) from the exporter_master_secret */
static int exporter_by_hand(const char *md, const uint8_t *secret, size_t hlen,
                            const uint8_t *ctx, size_t ctx_len, uint8_t out[32])
{
    uint8_t empty_hash[64], derived[64], ctx_hash[64];
    digest(md, (const uint8_t *)"", 0, NULL, 0, empty_hash);
    if (expand_label(md, secret, hlen, "EXPORTER-cmw-attestation", empty_hash, hlen, derived,
                     hlen) != 0) {
        return -1;
    }
    digest(md, ctx, ctx_len, NULL, 0, ctx_hash);
    return expand_label(md, derived, hlen, "exporter", ctx_hash, hlen, out, 32);
}

/* binding, AIK_pub_hash and challenge by hand */
static void binding_by_hand(const char *md, size_t hlen, const char *role_label,
                            const uint8_t *spki, size_t spki_len, const uint8_t ev[32],
                            uint8_t *b, uint8_t *aik, uint8_t ch[64])
{
    digest(md, spki, spki_len, ev, 32, b);
    digest(md, spki, spki_len, NULL, 0, aik);
    uint8_t in[32 + 96];
    size_t n = strlen(role_label) + 1;
    memcpy(in, role_label, n);
    memcpy(in + n, b, hlen);
    memcpy(in + n + hlen, aik, hlen);
    digest("SHA512", in, n + 2 * hlen, NULL, 0, ch);
}

/* ---- the committed vectors ---------------------------------------------------------------- */

static uint8_t *hex_field(json_t *v, const char *name, size_t *len)
{
    uint8_t *out = NULL;
    const char *h = json_string_value(json_object_get(v, name));
    *len = 0;
    if (h == NULL || atls_hex_decode(h, &out, len) != ATLS_OK) {
        CHECK_FAIL("vector field missing or not hex");
        fprintf(stderr, "  field %s\n", name);
        return NULL;
    }
    return out;
}

static void test_vectors(void)
{
    const char *src = getenv("ATLS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/docs/vectors/binding.json", src ? src : ".");
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    CHECK(doc != NULL);
    if (doc == NULL) {
        fprintf(stderr, "%s: %s\n", path, jerr.text);
        return;
    }
    const char *label = json_string_value(json_object_get(doc, "exporter_label"));
    CHECK(label != NULL && strcmp(label, ATLS_BINDING_EXPORTER_LABEL) == 0);
    json_t *vs = json_object_get(doc, "vectors");
    CHECK(json_array_size(vs) == 4);
    int seen_suites = 0, seen_roles = 0;
    for (size_t i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i);
        const char *hash = json_string_value(json_object_get(v, "hash"));
        const char *role = json_string_value(json_object_get(v, "role"));
        int sha384 = hash != NULL && strcmp(hash, "sha384") == 0;
        int server = role != NULL && strcmp(role, "server") == 0;
        seen_suites |= 1 << sha384;
        seen_roles |= 1 << server;
        size_t n[7];
        uint8_t *secret = hex_field(v, "exporter_master_secret", &n[0]);
        uint8_t *ctx = hex_field(v, "certificate_request_context", &n[1]);
        uint8_t *spki = hex_field(v, "spki", &n[2]);
        uint8_t *ev = hex_field(v, "exported_value", &n[3]);
        uint8_t *b = hex_field(v, "binding", &n[4]);
        uint8_t *aik = hex_field(v, "aik_pub_hash", &n[5]);
        uint8_t *ch = hex_field(v, "challenge", &n[6]);
        size_t hlen = sha384 ? 48 : 32;
        if (secret && ctx && spki && ev && b && aik && ch && n[3] == 32 && n[4] == hlen &&
            n[5] == hlen && n[6] == 64 && n[0] == hlen) {
            uint8_t mine[32];
            CHECK(exporter_by_hand(sha384 ? "SHA384" : "SHA256", secret, hlen, ctx, n[1], mine) ==
                  0);
            CHECK_EQ_MEM(mine, ev, 32);
            atls_binding out;
            CHECK_OK(atls_binding_from_exported(sha384 ? EVP_sha384() : EVP_sha256(),
                                                server ? ATLS_BINDING_SERVER_ATTESTS
                                                       : ATLS_BINDING_CLIENT_ATTESTS,
                                                ev, spki, n[2], &out));
            CHECK(out.hash_len == hlen);
            CHECK_EQ_MEM(out.exported_value, ev, 32);
            CHECK_EQ_MEM(out.binding, b, hlen);
            CHECK_EQ_MEM(out.aik_pub_hash, aik, hlen);
            CHECK_EQ_MEM(out.challenge, ch, 64);
        } else {
            CHECK_FAIL("vector fields have the wrong lengths");
        }
        free(secret), free(ctx), free(spki), free(ev), free(b), free(aik), free(ch);
    }
    CHECK(seen_suites == 3 && seen_roles == 3);
    json_decref(doc);
}

/* ---- live connections --------------------------------------------------------------------- */

static uint8_t exporter_secret[48];
static size_t exporter_secret_len;

static void keylog(const SSL *ssl, const char *line)
{
    (void)ssl;
    static const char tag[] = "EXPORTER_SECRET ";
    if (strncmp(line, tag, sizeof(tag) - 1) != 0) {
        return;
    }
    const char *hex = strchr(line + sizeof(tag) - 1, ' '); /* after the client random */
    if (hex == NULL) {
        return;
    }
    hex++;
    exporter_secret_len = strlen(hex) / 2;
    if (exporter_secret_len > sizeof(exporter_secret) ||
        atls_hex_decode_fixed(hex, exporter_secret, exporter_secret_len) != ATLS_OK) {
        exporter_secret_len = 0;
    }
}

static void test_live(const char *suite, const char *md, size_t hlen, testcert_keytype kt)
{
    testcert *ca = NULL, *leaf = NULL;
    CHECK_OK(testcert_ca_new("binding CA", &ca));
    CHECK_OK(testcert_leaf_new(ca, kt, "server.test", &leaf));
    tls_pair_options o = {0};
    o.ciphersuites = suite;
    o.keylog = keylog;
    o.server_cert = leaf ? leaf->cert : NULL;
    o.server_key = leaf ? leaf->key : NULL;
    tls_pair *p = NULL;
    exporter_secret_len = 0;
    CHECK_OK(tls_pair_new(&o, &p));
    CHECK(exporter_secret_len == hlen);
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    if (p == NULL || leaf == NULL || exporter_secret_len != hlen ||
        atls_spki_der(leaf->cert, &spki, &spki_len) != ATLS_OK) {
        CHECK_FAIL("live setup");
        goto done;
    }
    /* the SPKI is the certificate's public key, DER, as i2d_PUBKEY writes it */
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(X509_get0_pubkey(leaf->cert), &der);
    CHECK(der_len > 0 && (size_t)der_len == spki_len && memcmp(der, spki, spki_len) == 0);
    OPENSSL_free(der);
    static const uint8_t ctx[40] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t ev[32];
    CHECK(exporter_by_hand(md, exporter_secret, hlen, ctx, sizeof(ctx), ev) == 0);
    const struct {
        atls_binding_role role;
        const char *label;
    } roles[] = {{ATLS_BINDING_SERVER_ATTESTS, "atls/1 server evidence"},
                 {ATLS_BINDING_CLIENT_ATTESTS, "atls/1 client evidence"}};
    uint8_t first_challenge[64];
    for (size_t r = 0; r < 2; r++) {
        uint8_t b[64], aik[64], ch[64];
        binding_by_hand(md, hlen, roles[r].label, spki, spki_len, ev, b, aik, ch);
        SSL *ends[2] = {p->client, p->server};
        for (int e = 0; e < 2; e++) {
            atls_binding out;
            CHECK_OK(atls_binding_compute(ends[e], roles[r].role, ctx, sizeof(ctx), spki, spki_len,
                                          &out));
            CHECK(out.role == roles[r].role && out.hash_len == hlen);
            CHECK_EQ_MEM(out.exported_value, ev, 32);
            CHECK_EQ_MEM(out.binding, b, hlen);
            CHECK_EQ_MEM(out.aik_pub_hash, aik, hlen);
            CHECK_EQ_MEM(out.challenge, ch, 64);
        }
        if (r == 0) {
            memcpy(first_challenge, ch, 64);
        } else {
            CHECK(memcmp(first_challenge, ch, 64) != 0); /* the directions differ */
        }
    }
    /* the roles as seen from each end */
    CHECK(atls_binding_role_for(p->server, 1) == ATLS_BINDING_SERVER_ATTESTS);
    CHECK(atls_binding_role_for(p->client, 0) == ATLS_BINDING_SERVER_ATTESTS);
    CHECK(atls_binding_role_for(p->client, 1) == ATLS_BINDING_CLIENT_ATTESTS);
    CHECK(atls_binding_role_for(p->server, 0) == ATLS_BINDING_CLIENT_ATTESTS);
    /* another label gives another value (the older "Attestation" label) */
    atls_binding a, other;
    CHECK_OK(atls_binding_compute(p->client, ATLS_BINDING_SERVER_ATTESTS, ctx, sizeof(ctx), spki,
                                  spki_len, &a));
    CHECK_OK(atls_binding_compute_with_label(p->client, "Attestation", ATLS_BINDING_SERVER_ATTESTS,
                                             ctx, sizeof(ctx), spki, spki_len, &other));
    CHECK(memcmp(a.challenge, other.challenge, 64) != 0);
done:
    free(spki);
    tls_pair_free(p);
    testcert_free(leaf);
    testcert_free(ca);
}

static void test_detached(void)
{
    uint8_t in[64], got[64], want[64];
    memset(in, 0x5a, sizeof(in));
    uint8_t buf[25 + 64];
    memcpy(buf, "atls/1 detached evidence", 25); /* with its 0x00 */
    memcpy(buf + 25, in, 64);
    digest("SHA512", buf, sizeof(buf), NULL, 0, want);
    CHECK_OK(atls_challenge_detached(in, sizeof(in), got));
    CHECK_EQ_MEM(got, want, 64);
    CHECK(memcmp(got, in, 64) != 0);
    CHECK_ERR(atls_challenge_detached(in, 0, got), ATLS_ERR_USAGE);
    CHECK_ERR(atls_challenge_detached(NULL, 4, got), ATLS_ERR_USAGE);
    CHECK_ERR(atls_challenge_derive((atls_challenge_domain)9, in, 1, NULL, 0, got), ATLS_ERR_USAGE);
    /* the same bytes in the three domains: three different challenges */
    uint8_t s[64], c[64];
    CHECK_OK(atls_challenge_derive(ATLS_CHALLENGE_SERVER_EVIDENCE, in, 32, in + 32, 32, s));
    CHECK_OK(atls_challenge_derive(ATLS_CHALLENGE_CLIENT_EVIDENCE, in, 32, in + 32, 32, c));
    CHECK(memcmp(s, c, 64) != 0 && memcmp(s, got, 64) != 0 && memcmp(c, got, 64) != 0);
}

int main(void)
{
    CHECK(strcmp(ATLS_BINDING_EXPORTER_LABEL, "EXPORTER-cmw-attestation") == 0);
    test_vectors();
    test_live("TLS_AES_128_GCM_SHA256", "SHA256", 32, TESTCERT_P256);
    test_live("TLS_AES_256_GCM_SHA384", "SHA384", 48, TESTCERT_P384);
    test_live("TLS_CHACHA20_POLY1305_SHA256", "SHA256", 32, TESTCERT_ED25519);
    test_detached();
    return check_summary();
}
