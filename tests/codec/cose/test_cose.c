/* test_cose: COSE_Sign1 sign/verify/parse, COSE_Key and raw EC points (src/codec/cose/cose.h), and
 * the realm/platform signatures of the shared Arm CCA tokens (argument "shared": test_cose_shared). */
#include "base/file.h"
#include "base/hex.h"
#include "base/writer.h"
#include "codec/cbor/cbor.h"
#include "check.h"
#include "vectors.h"
#include "codec/cose/cose.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *gen(const char *curve)
{
    EVP_PKEY *k = EVP_EC_gen(curve);
    if (k == NULL) {
        fprintf(stderr, "EVP_EC_gen(%s) failed\n", curve);
        exit(1);
    }
    return k;
}

/* sign_verify: parse + verify of a message signed with |opts|; returns the verify result. */
static atls_error parse_verify(const uint8_t *msg, size_t len, unsigned flags, EVP_PKEY *key,
                               const uint8_t *aad, size_t aad_len)
{
    atls_cose_sign1 m;
    atls_error rc = atls_cose_sign1_parse(msg, len, flags, &m);
    if (rc != ATLS_OK) {
        return rc;
    }
    return atls_cose_sign1_verify(&m, key, aad, aad_len);
}

static void test_round_trip(void)
{
    static const char *const curves[] = {"P-256", "P-384", "P-521"};
    static const int64_t algs[] = {ATLS_COSE_ALG_ES256, ATLS_COSE_ALG_ES384, ATLS_COSE_ALG_ES512};
    static const uint8_t payload[] = "claims go here";
    static const uint8_t aad[] = {1, 2, 3};
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY *key = gen(curves[i]);
        EVP_PKEY *other = gen(curves[i]);
        int64_t alg = 0;
        CHECK_OK(atls_cose_alg_for_key(key, &alg));
        CHECK(alg == algs[i]);
        for (int tagged = 0; tagged < 2; tagged++) {
            atls_cose_sign_opts o = {0};
            o.tagged = tagged;
            o.content_type = "application/eat+cwt";
            o.kid = (const uint8_t *)"kid1";
            o.kid_len = 4;
            o.external_aad = aad;
            o.external_aad_len = sizeof(aad);
            uint8_t *msg = NULL;
            size_t len = 0;
            CHECK_OK(atls_cose_sign1_sign(payload, sizeof(payload), key, &o, &msg, &len));
            CHECK(msg[0] == (tagged ? 0xd2 : 0x84));
            atls_cose_sign1 m;
            CHECK_OK(atls_cose_sign1_parse(msg, len, 0, &m));
            CHECK(m.tagged == (bool)tagged && m.alg == algs[i] && !m.detached);
            CHECK(m.has_kid && atls_cursor_equals(&m.kid, (const uint8_t *)"kid1", 4));
            CHECK(m.has_content_type && m.content_type_is_text &&
                  atls_cbor_tstr_equals(&m.content_type, "application/eat+cwt"));
            CHECK(atls_cursor_equals(&m.payload, payload, sizeof(payload)));
            CHECK_OK(atls_cbor_check_deterministic(&(atls_cursor){msg, len}));
            CHECK_OK(atls_cose_sign1_verify(&m, key, aad, sizeof(aad)));
            /* wrong key, wrong or missing external AAD */
            CHECK_ERR(atls_cose_sign1_verify(&m, other, aad, sizeof(aad)),
                      ATLS_ERR_CRYPTO_SIGNATURE);
            CHECK_ERR(atls_cose_sign1_verify(&m, key, NULL, 0), ATLS_ERR_CRYPTO_SIGNATURE);
            /* tag rules */
            CHECK_ERR(atls_cose_sign1_parse(msg, len,
                                            tagged ? ATLS_COSE_FORBID_TAG : ATLS_COSE_REQUIRE_TAG,
                                            &m),
                      ATLS_ERR_DECODE_TYPE);
            /* every truncation */
            for (size_t cut = 0; cut < len; cut++) {
                CHECK_ERR(atls_cose_sign1_parse(msg, cut, 0, &m), ATLS_ERR_DECODE_TRUNCATED);
            }
            free(msg);
        }
        EVP_PKEY_free(key);
        EVP_PKEY_free(other);
    }
}

static void test_bit_flips(void)
{
    EVP_PKEY *key = gen("P-256");
    static const uint8_t payload[] = {0xa1, 0x0a, 0x41, 0x00};
    atls_cose_sign_opts o = {0};
    o.tagged = true;
    uint8_t *msg = NULL;
    size_t len = 0;
    CHECK_OK(atls_cose_sign1_sign(payload, sizeof(payload), key, &o, &msg, &len));
    CHECK_OK(parse_verify(msg, len, 0, key, NULL, 0));
    int all_failed = 1;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            msg[i] ^= (uint8_t)(1u << bit);
            if (parse_verify(msg, len, 0, key, NULL, 0) == ATLS_OK) {
                printf("  flip of bit %d in byte %zu still verifies\n", bit, i);
                all_failed = 0;
            }
            msg[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK(all_failed);
    CHECK_OK(parse_verify(msg, len, 0, key, NULL, 0));
    /* trailing byte */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, msg, len);
    longer[len] = 0;
    CHECK_ERR(parse_verify(longer, len + 1, 0, key, NULL, 0), ATLS_ERR_DECODE_TRAILING);
    free(longer);
    free(msg);
    EVP_PKEY_free(key);
}

static void test_alg_curve(void)
{
    EVP_PKEY *p256 = gen("P-256");
    EVP_PKEY *p384 = gen("P-384");
    uint8_t *msg = NULL;
    size_t len = 0;
    CHECK_OK(atls_cose_sign1_sign((const uint8_t *)"x", 1, p384, NULL, &msg, &len));
    CHECK_ERR(parse_verify(msg, len, 0, p256, NULL, 0), ATLS_ERR_CRYPTO_KEY);
    free(msg);
    /* a non-EC key */
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    CHECK(ed != NULL);
    CHECK_ERR(atls_cose_sign1_sign((const uint8_t *)"x", 1, ed, NULL, &msg, &len),
              ATLS_ERR_CRYPTO_KEY);
    CHECK_OK(atls_cose_sign1_sign((const uint8_t *)"x", 1, p256, NULL, &msg, &len));
    CHECK_ERR(parse_verify(msg, len, 0, ed, NULL, 0), ATLS_ERR_CRYPTO_KEY);
    free(msg);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
}

/* build: a COSE_Sign1 from hand-written parts (hex of the protected map, hex of the
 * unprotected map item, payload item hex, signature length). */
static uint8_t *build(const char *prot_hex, const char *unprot_hex, const char *payload_hex,
                      size_t sig_len, size_t *len)
{
    uint8_t *prot = NULL, *unprot = NULL, *pay = NULL;
    size_t prot_len = 0, unprot_len = 0, pay_len = 0;
    if (atls_hex_decode(prot_hex, &prot, &prot_len) != ATLS_OK ||
        atls_hex_decode(unprot_hex, &unprot, &unprot_len) != ATLS_OK ||
        atls_hex_decode(payload_hex, &pay, &pay_len) != ATLS_OK) {
        fprintf(stderr, "bad test hex\n");
        exit(1);
    }
    uint8_t sig[200] = {0};
    atls_writer w;
    atls_writer_init(&w, 0);
    uint8_t *out = NULL;
    if (!atls_cbor_put_array(&w, 4) || !atls_cbor_put_bstr(&w, prot, prot_len) ||
        !atls_cbor_put_raw(&w, unprot, unprot_len) || !atls_cbor_put_raw(&w, pay, pay_len) ||
        !atls_cbor_put_bstr(&w, sig, sig_len) || atls_writer_finish(&w, &out, len) != ATLS_OK) {
        exit(1);
    }
    atls_writer_cleanup(&w);
    free(prot);
    free(unprot);
    free(pay);
    return out;
}

static void expect_parse(const char *prot, const char *unprot, const char *pay, size_t sig_len,
                         unsigned flags, atls_error code)
{
    size_t len;
    uint8_t *msg = build(prot, unprot, pay, sig_len, &len);
    atls_cose_sign1 m;
    atls_error rc = atls_cose_sign1_parse(msg, len, flags, &m);
    CHECK_ERR(rc, code);
    if (rc != code) {
        printf("  case prot=%s unprot=%s payload=%s\n", prot, unprot, pay);
    }
    free(msg);
}

static void test_header_rules(void)
{
    expect_parse("a10126", "a0", "4100", 64, 0, ATLS_OK);                    /* ES256 */
    expect_parse("a1013822", "a0", "4100", 96, 0, ATLS_OK);                  /* ES384 */
    expect_parse("a1013823", "a0", "4100", 132, 0, ATLS_OK);                 /* ES512 */
    expect_parse("a10127", "a0", "4100", 64, 0, ATLS_ERR_USAGE_UNSUPPORTED); /* EdDSA -8 */
    expect_parse("a101654553323536", "a0", "4100", 64, 0, ATLS_ERR_USAGE_UNSUPPORTED); /* "ES256" */
    expect_parse("a10101", "a0", "4100", 64, 0, ATLS_ERR_USAGE_UNSUPPORTED);  /* A128GCM */
    expect_parse("", "a0", "4100", 64, 0, ATLS_ERR_DECODE_VALUE);             /* no alg */
    expect_parse("a0", "a0", "4100", 64, 0, ATLS_ERR_DECODE_VALUE);           /* no alg */
    expect_parse("a0", "a10126", "4100", 64, 0, ATLS_ERR_DECODE_VALUE);       /* alg unprotected */
    expect_parse("a2012602810f", "a0", "4100", 64, 0, ATLS_ERR_DECODE_VALUE); /* crit */
    expect_parse("a201260126", "a0", "4100", 64, 0, ATLS_ERR_DECODE_VALUE);   /* dup label */
    expect_parse("a1012600", "a0", "4100", 64, 0, ATLS_ERR_DECODE_TRAILING);  /* after map */
    expect_parse("a20126044101", "a1044101", "4100", 64, 0, ATLS_ERR_DECODE_VALUE); /* both */
    expect_parse("a10126", "a2044101044102", "4100", 64, 0, ATLS_ERR_DECODE_VALUE); /* dup */
    expect_parse("a10126", "80", "4100", 64, 0, ATLS_ERR_DECODE_TYPE);       /* not a map */
    expect_parse("a10126", "a14000", "4100", 64, 0, ATLS_ERR_DECODE_TYPE);   /* bstr label */
    expect_parse("a10126", "a0", "6100", 64, 0, ATLS_ERR_DECODE_TYPE);       /* tstr payload */
    expect_parse("a10126", "a0", "f6", 64, 0, ATLS_ERR_DECODE_VALUE);        /* detached */
    expect_parse("a10126", "a0", "f6", 64, ATLS_COSE_ALLOW_DETACHED, ATLS_OK);
    expect_parse("a10140", "a0", "4100", 64, 0, ATLS_ERR_DECODE_TYPE);       /* alg not int */
    expect_parse("a20126031a00010000", "a0", "4100", 64, 0, ATLS_ERR_DECODE_VALUE); /* ctype */
    expect_parse("a201260340", "a0", "4100", 64, 0, ATLS_ERR_DECODE_TYPE);   /* ctype bstr */
    expect_parse("a2012603183c", "a0", "4100", 64, 0, ATLS_OK);

    /* array shape and tag */
    static const uint8_t three[] = {0x83, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x40};
    atls_cose_sign1 m;
    CHECK_ERR(atls_cose_sign1_parse(three, sizeof(three), 0, &m), ATLS_ERR_DECODE_LENGTH);
    static const uint8_t tag17[] = {0xd1, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x40, 0x40};
    CHECK_ERR(atls_cose_sign1_parse(tag17, sizeof(tag17), 0, &m), ATLS_ERR_DECODE_TYPE);
    CHECK_ERR(atls_cose_sign1_parse(tag17 + 1, sizeof(tag17) - 1, 0, &m), ATLS_OK);
    CHECK_ERR(atls_cose_sign1_parse(tag17 + 1, sizeof(tag17) - 1, ATLS_COSE_REQUIRE_TAG, &m),
              ATLS_ERR_DECODE_TYPE);

    /* signature length must be 2 * coordinate size */
    EVP_PKEY *key = gen("P-256");
    size_t len;
    uint8_t *msg = build("a10126", "a0", "4100", 63, &len);
    CHECK_OK(atls_cose_sign1_parse(msg, len, 0, &m));
    CHECK_ERR(atls_cose_sign1_verify(&m, key, NULL, 0), ATLS_ERR_DECODE_LENGTH);
    free(msg);
    msg = build("a10126", "a0", "4100", 64, &len); /* right length, all zero: r = 0 */
    CHECK_OK(atls_cose_sign1_parse(msg, len, 0, &m));
    CHECK_ERR(atls_cose_sign1_verify(&m, key, NULL, 0), ATLS_ERR_CRYPTO_SIGNATURE);
    free(msg);

    /* detached payload: the caller supplies it */
    uint8_t *signed_msg = NULL;
    CHECK_OK(atls_cose_sign1_sign((const uint8_t *)"detached", 8, key, NULL, &signed_msg, &len));
    CHECK_OK(atls_cose_sign1_parse(signed_msg, len, 0, &m));
    atls_cose_sign1 d = m;
    d.detached = true;
    atls_cursor_init(&d.payload, (const uint8_t *)"detached", 8);
    CHECK_OK(atls_cose_sign1_verify(&d, key, NULL, 0));
    atls_cursor_init(&d.payload, (const uint8_t *)"detacheD", 8);
    CHECK_ERR(atls_cose_sign1_verify(&d, key, NULL, 0), ATLS_ERR_CRYPTO_SIGNATURE);
    free(signed_msg);
    EVP_PKEY_free(key);
}

/* cose_key_bytes: a COSE_Key EC2 map for |key| with optional tweaks. */
static uint8_t *cose_key_bytes(EVP_PKEY *key, int64_t kty, int64_t crv_override, int x_trim,
                               int with_y, size_t *len)
{
    int64_t crv = 0;
    uint8_t *pt = NULL;
    size_t pt_len = 0;
    if (atls_cose_ec_pkey_to_point(key, &crv, &pt, &pt_len) != ATLS_OK) {
        exit(1);
    }
    size_t cl = (pt_len - 1) / 2;
    atls_writer w;
    atls_writer_init(&w, 0);
    uint8_t *out = NULL;
    bool ok = atls_cbor_put_map(&w, with_y ? 5 : 4) && atls_cbor_put_int(&w, 1) &&
              atls_cbor_put_int(&w, kty) && atls_cbor_put_int(&w, -1) &&
              atls_cbor_put_int(&w, crv_override ? crv_override : crv) &&
              atls_cbor_put_int(&w, -2) && atls_cbor_put_bstr(&w, pt + 1, cl - (size_t)x_trim) &&
              atls_cbor_put_int(&w, 2) && atls_cbor_put_bstr(&w, (const uint8_t *)"k", 1);
    if (with_y == 1) {
        ok = ok && atls_cbor_put_int(&w, -3) && atls_cbor_put_bstr(&w, pt + 1 + cl, cl);
    } else if (with_y == 2) {
        ok = ok && atls_cbor_put_int(&w, -3) && atls_cbor_put_bool(&w, true);
    }
    if (!ok || atls_writer_finish(&w, &out, len) != ATLS_OK) {
        exit(1);
    }
    atls_writer_cleanup(&w);
    free(pt);
    return out;
}

static void test_cose_key(void)
{
    static const char *const curves[] = {"P-256", "P-384", "P-521"};
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY *key = gen(curves[i]);
        size_t len;
        uint8_t *ck = cose_key_bytes(key, 2, 0, 0, 1, &len);
        EVP_PKEY *pub = NULL;
        CHECK_OK(atls_cose_key_to_pkey(ck, len, &pub));
        CHECK(pub != NULL && EVP_PKEY_eq(pub, key) == 1);
        EVP_PKEY_free(pub);
        for (size_t cut = 0; cut < len; cut++) {
            pub = NULL;
            CHECK_ERR(atls_cose_key_to_pkey(ck, cut, &pub), ATLS_ERR_DECODE_TRUNCATED);
            CHECK(pub == NULL);
        }
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, ck, len);
        longer[len] = 0;
        CHECK_ERR(atls_cose_key_to_pkey(longer, len + 1, &pub), ATLS_ERR_DECODE_TRAILING);
        free(longer);
        free(ck);

        /* the raw point too */
        uint8_t *pt = NULL;
        size_t pt_len = 0;
        int64_t crv = 0;
        CHECK_OK(atls_cose_ec_pkey_to_point(key, &crv, &pt, &pt_len));
        CHECK(crv == (int64_t)i + 1);
        CHECK_OK(atls_cose_ec_point_to_pkey(crv, pt, pt_len, &pub));
        CHECK(EVP_PKEY_eq(pub, key) == 1);
        EVP_PKEY_free(pub);
        CHECK_ERR(atls_cose_ec_point_to_pkey(crv, pt, pt_len - 1, &pub), ATLS_ERR_DECODE_LENGTH);
        CHECK_ERR(atls_cose_ec_point_to_pkey(crv == 1 ? 2 : 1, pt, pt_len, &pub),
                  ATLS_ERR_DECODE_LENGTH);
        CHECK_ERR(atls_cose_ec_point_to_pkey(4, pt, pt_len, &pub), ATLS_ERR_USAGE_UNSUPPORTED);
        pt[0] = 0x02;
        CHECK_ERR(atls_cose_ec_point_to_pkey(crv, pt, pt_len, &pub), ATLS_ERR_DECODE_VALUE);
        pt[0] = 0x04;
        pt[pt_len - 1] ^= 1; /* off the curve */
        CHECK_ERR(atls_cose_ec_point_to_pkey(crv, pt, pt_len, &pub), ATLS_ERR_CRYPTO_KEY);
        free(pt);
        EVP_PKEY_free(key);
    }
    EVP_PKEY *key = gen("P-256");
    size_t len;
    EVP_PKEY *pub = NULL;
    uint8_t *ck = cose_key_bytes(key, 1, 0, 0, 1, &len); /* kty OKP */
    CHECK_ERR(atls_cose_key_to_pkey(ck, len, &pub), ATLS_ERR_USAGE_UNSUPPORTED);
    free(ck);
    ck = cose_key_bytes(key, 2, 4, 0, 1, &len); /* crv 4 */
    CHECK_ERR(atls_cose_key_to_pkey(ck, len, &pub), ATLS_ERR_USAGE_UNSUPPORTED);
    free(ck);
    ck = cose_key_bytes(key, 2, 2, 0, 1, &len); /* crv P-384 with 32-byte coordinates */
    CHECK_ERR(atls_cose_key_to_pkey(ck, len, &pub), ATLS_ERR_DECODE_LENGTH);
    free(ck);
    ck = cose_key_bytes(key, 2, 0, 1, 1, &len); /* x one byte short */
    CHECK_ERR(atls_cose_key_to_pkey(ck, len, &pub), ATLS_ERR_DECODE_LENGTH);
    free(ck);
    ck = cose_key_bytes(key, 2, 0, 0, 0, &len); /* no y */
    CHECK_ERR(atls_cose_key_to_pkey(ck, len, &pub), ATLS_ERR_DECODE_VALUE);
    free(ck);
    ck = cose_key_bytes(key, 2, 0, 0, 2, &len); /* compressed */
    CHECK_ERR(atls_cose_key_to_pkey(ck, len, &pub), ATLS_ERR_USAGE_UNSUPPORTED);
    free(ck);
    static const uint8_t not_map[] = {0x80};
    CHECK_ERR(atls_cose_key_to_pkey(not_map, 1, &pub), ATLS_ERR_DECODE_TYPE);
    CHECK(pub == NULL);
    EVP_PKEY_free(key);

    /* raw <-> DER helpers */
    uint8_t raw[64];
    memset(raw, 0x11, sizeof(raw));
    uint8_t *der = NULL;
    size_t der_len = 0;
    CHECK_OK(atls_ecdsa_raw_to_der(raw, sizeof(raw), &der, &der_len));
    uint8_t back[64];
    CHECK_OK(atls_ecdsa_der_to_raw(der, der_len, 32, back));
    CHECK_EQ_MEM(raw, back, 64);
    CHECK_ERR(atls_ecdsa_der_to_raw(der, der_len, 16, back), ATLS_ERR_CRYPTO);
    OPENSSL_free(der);
    CHECK_ERR(atls_ecdsa_raw_to_der(raw, 63, &der, &der_len), ATLS_ERR_DECODE_LENGTH);
    CHECK_ERR(atls_ecdsa_raw_to_der(raw, 0, &der, &der_len), ATLS_ERR_DECODE_LENGTH);
}

/* Arm CCA tokens (evidence-formats.md section 4): 399({44234: platform, 44241: realm}). */
static void check_cca_token(const char *dir, const char *name, EVP_PKEY *cpak)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/cca/%s", dir, name);
    uint8_t *tok = NULL;
    size_t tok_len = 0;
    CHECK_OK(atls_file_read(path, 1u << 20, &tok, &tok_len));
    if (tok == NULL) {
        return;
    }
    atls_cursor c, platform = {NULL, 0}, realm = {NULL, 0};
    atls_cursor_init(&c, tok, tok_len);
    uint64_t tag = 0;
    CHECK_OK(atls_cbor_read_tag(&c, &tag));
    CHECK(tag == 399);
    atls_cbor_map_iter it;
    CHECK_OK(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        CHECK_OK(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_int(&k, 44234)) {
            CHECK_OK(atls_cbor_read_bstr(&c, &platform));
        } else if (atls_cbor_key_is_int(&k, 44241)) {
            CHECK_OK(atls_cbor_read_bstr(&c, &realm));
        } else {
            CHECK_OK(atls_cbor_skip(&c));
        }
    }
    CHECK(atls_cursor_is_empty(&c));
    CHECK(!atls_cursor_is_empty(&realm) && !atls_cursor_is_empty(&platform));

    /* realm token: the RAK is claim 44237 (raw point or COSE_Key) */
    atls_cose_sign1 rm;
    CHECK_OK(atls_cose_sign1_parse(atls_cursor_data(&realm), atls_cursor_remaining(&realm),
                                   ATLS_COSE_REQUIRE_TAG, &rm));
    atls_cursor claims = rm.payload, rak = {NULL, 0};
    CHECK_OK(atls_cbor_map_begin(&claims, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        CHECK_OK(atls_cbor_map_next_key(&claims, &it, &k));
        if (atls_cbor_key_is_int(&k, 44237)) {
            CHECK_OK(atls_cbor_read_bstr(&claims, &rak));
        } else {
            CHECK_OK(atls_cbor_skip(&claims));
        }
    }
    CHECK(atls_cursor_is_empty(&claims));
    EVP_PKEY *rak_key = NULL;
    if (atls_cursor_remaining(&rak) == 97) {
        CHECK_OK(atls_cose_ec_point_to_pkey(ATLS_COSE_CRV_P384, atls_cursor_data(&rak), 97,
                                            &rak_key));
    } else {
        CHECK_OK(atls_cose_key_to_pkey(atls_cursor_data(&rak), atls_cursor_remaining(&rak),
                                       &rak_key));
    }
    if (rak_key != NULL) {
        CHECK(rm.alg == ATLS_COSE_ALG_ES384);
        CHECK_OK(atls_cose_sign1_verify(&rm, rak_key, NULL, 0));
        CHECK_ERR(atls_cose_sign1_verify(&rm, cpak, NULL, 0), ATLS_ERR_CRYPTO_SIGNATURE);
        CHECK_ERR(atls_cose_sign1_verify(&rm, rak_key, (const uint8_t *)"x", 1),
                  ATLS_ERR_CRYPTO_SIGNATURE);
    }

    /* platform token: signed by the CPAK */
    atls_cose_sign1 pm;
    CHECK_OK(atls_cose_sign1_parse(atls_cursor_data(&platform), atls_cursor_remaining(&platform),
                                   0, &pm));
    CHECK_OK(atls_cose_sign1_verify(&pm, cpak, NULL, 0));
    if (rak_key != NULL) {
        CHECK_ERR(atls_cose_sign1_verify(&pm, rak_key, NULL, 0), ATLS_ERR_CRYPTO_SIGNATURE);
    }

    /* one flipped payload byte in the realm token breaks its signature */
    size_t off = (size_t)(atls_cursor_data(&rm.payload) - tok);
    tok[off + 3] ^= 0x01;
    CHECK_ERR(atls_cose_sign1_verify(&rm, rak_key, NULL, 0), ATLS_ERR_CRYPTO_SIGNATURE);
    EVP_PKEY_free(rak_key);
    free(tok);
    printf("  CCA token %s: realm and platform signatures checked\n", name);
}

static void test_cca_vectors(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/cca/ccatoken_tfrmm_cca_platform_pub.pem", dir);
    FILE *f = fopen(path, "r");
    EVP_PKEY *cpak = f != NULL ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) {
        fclose(f);
    }
    CHECK(cpak != NULL);
    if (cpak == NULL) {
        return;
    }
    check_cca_token(dir, "ccatoken_tfrmm_cca_token.cbor", cpak);
    check_cca_token(dir, "trustee_cca-example-token.cbor", cpak);
    check_cca_token(dir, "rustccatoken_cca-token-draft-ffm-00.cbor", cpak);
    EVP_PKEY_free(cpak);
}

/* no argument: the codec on our own messages; "shared": the signatures of the shared Arm CCA
 * tokens (test_cose_shared) */
int main(int argc, char **argv)
{
    if (test_shared_mode(argc, argv)) {
        test_cca_vectors(test_shared_vectors("cca/ccatoken_tfrmm_cca_platform_pub.pem"));
        return check_summary();
    }
    test_round_trip();
    test_bit_flips();
    test_alg_curve();
    test_header_rules();
    test_cose_key();
    return check_summary();
}
