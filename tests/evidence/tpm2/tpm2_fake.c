/* tpm2_fake.c: software-made quotes (tpm2_fake.h). Built with the project's writer. */
#include "tpm2_fake.h"

#include "base/writer.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <stdlib.h>
#include <string.h>

#define AK_ATTRS 0x00050072u

EVP_PKEY *fake_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* rsa_public: TPMT_PUBLIC of an RSA RSASSA-SHA256 signing key (exponent 0 = 65537). */
static int rsa_public(EVP_PKEY *key, uint32_t attrs, atls_writer *w)
{
    BIGNUM *n = NULL;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1) {
        return 0;
    }
    int bytes = BN_num_bytes(n);
    uint8_t mod[512];
    int ok = bytes > 0 && bytes <= (int)sizeof(mod) && BN_bn2bin(n, mod) == bytes;
    BN_free(n);
    return ok && atls_writer_open_u16(w) && atls_writer_add_u16(w, ATLS_TPM2_ALG_RSA) &&
           atls_writer_add_u16(w, ATLS_TPM2_ALG_SHA256) && atls_writer_add_u32(w, attrs) &&
           atls_writer_add_u16(w, 0) && atls_writer_add_u16(w, ATLS_TPM2_ALG_NULL) &&
           atls_writer_add_u16(w, ATLS_TPM2_ALG_RSASSA) &&
           atls_writer_add_u16(w, ATLS_TPM2_ALG_SHA256) &&
           atls_writer_add_u16(w, (uint16_t)(8 * bytes)) && atls_writer_add_u32(w, 0) &&
           atls_writer_add_u16(w, (uint16_t)bytes) &&
           atls_writer_add_bytes(w, mod, (size_t)bytes) && atls_writer_close(w);
}

EVP_PKEY *fake_rsa_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

int fake_public(EVP_PKEY *key, uint32_t attrs, atls_buf *out)
{
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        atls_writer w;
        atls_writer_init(&w, 0);
        uint8_t *buf = NULL;
        size_t len = 0;
        if (!rsa_public(key, attrs, &w) || atls_writer_finish(&w, &buf, &len) != ATLS_OK) {
            atls_writer_cleanup(&w);
            return -1;
        }
        atls_buf_cleanup(out);
        out->data = buf;
        out->len = len;
        return 0;
    }
    uint8_t pt[65];
    size_t ptlen = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen) != 1
        || ptlen != 65) {
        return -1;
    }
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_writer_open_u16(&w) && atls_writer_add_u16(&w, ATLS_TPM2_ALG_ECC) &&
              atls_writer_add_u16(&w, ATLS_TPM2_ALG_SHA256) && atls_writer_add_u32(&w, attrs) &&
              atls_writer_add_u16(&w, 0) &&                        /* authPolicy */
              atls_writer_add_u16(&w, ATLS_TPM2_ALG_NULL) &&       /* symmetric */
              atls_writer_add_u16(&w, ATLS_TPM2_ALG_ECDSA) &&      /* scheme */
              atls_writer_add_u16(&w, ATLS_TPM2_ALG_SHA256) &&
              atls_writer_add_u16(&w, ATLS_TPM2_ECC_NIST_P256) &&
              atls_writer_add_u16(&w, ATLS_TPM2_ALG_NULL) &&       /* kdf */
              atls_writer_add_u16(&w, 32) && atls_writer_add_bytes(&w, pt + 1, 32) &&
              atls_writer_add_u16(&w, 32) && atls_writer_add_bytes(&w, pt + 33, 32) &&
              atls_writer_close(&w);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!ok || atls_writer_finish(&w, &buf, &len) != ATLS_OK) {
        atls_writer_cleanup(&w);
        return -1;
    }
    atls_buf_cleanup(out);
    out->data = buf;
    out->len = len;
    return 0;
}

/* sign_rsa: an RSASSA-PKCS1-v1_5 TPMT_SIGNATURE. */
static int sign_rsa(EVP_PKEY *key, uint16_t hash, const atls_buf *msg, atls_buf *out)
{
    unsigned char sig[512];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = EVP_DigestSignInit(ctx, NULL, atls_tpm2_hash_md(hash), NULL, key) == 1 &&
             EVP_DigestSign(ctx, sig, &sig_len, msg->data, msg->len) == 1;
    EVP_MD_CTX_free(ctx);
    atls_writer w;
    atls_writer_init(&w, 0);
    ok = ok && atls_writer_add_u16(&w, ATLS_TPM2_ALG_RSASSA) && atls_writer_add_u16(&w, hash) &&
         atls_writer_add_u16(&w, (uint16_t)sig_len) && atls_writer_add_bytes(&w, sig, sig_len);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!ok || atls_writer_finish(&w, &buf, &len) != ATLS_OK) {
        atls_writer_cleanup(&w);
        return -1;
    }
    atls_buf_cleanup(out);
    out->data = buf;
    out->len = len;
    return 0;
}

static int sign(EVP_PKEY *key, uint16_t hash, const atls_buf *msg, atls_buf *out)
{
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        return sign_rsa(key, hash, msg, out);
    }
    unsigned char der[128];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = EVP_DigestSignInit(ctx, NULL, atls_tpm2_hash_md(hash), NULL, key) == 1 &&
             EVP_DigestSign(ctx, der, &der_len, msg->data, msg->len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        return -1;
    }
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    uint8_t r[32], s[32];
    BN_bn2binpad(ECDSA_SIG_get0_r(es), r, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), s, 32);
    ECDSA_SIG_free(es);
    atls_writer w;
    atls_writer_init(&w, 0);
    ok = atls_writer_add_u16(&w, ATLS_TPM2_ALG_ECDSA) && atls_writer_add_u16(&w, hash) &&
         atls_writer_add_u16(&w, 32) && atls_writer_add_bytes(&w, r, 32) &&
         atls_writer_add_u16(&w, 32) && atls_writer_add_bytes(&w, s, 32);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!ok || atls_writer_finish(&w, &buf, &len) != ATLS_OK) {
        atls_writer_cleanup(&w);
        return -1;
    }
    atls_buf_cleanup(out);
    out->data = buf;
    out->len = len;
    return 0;
}

int fake_quote(EVP_PKEY *key, const fake_opts *o, atls_tpm2_quote *q)
{
    memset(q, 0, sizeof(*q));
    uint16_t hash = o->sig_hash ? o->sig_hash : ATLS_TPM2_ALG_SHA256;
    if (fake_public(key, o->attrs ? o->attrs : AK_ATTRS, &q->ak_public) != 0) {
        return -1;
    }
    atls_tpm2_public pub;
    if (atls_tpm2_public_parse(q->ak_public.data, q->ak_public.len, &pub) != ATLS_OK) {
        return -1;
    }
    uint8_t qn[ATLS_TPM2_MAX_NAME];
    size_t qn_len = 0;
    const uint8_t eh[4] = {0x40, 0, 0, 0x0b};
    if (atls_tpm2_qualified_name(eh, 4, pub.name, pub.name_len, qn, &qn_len) != ATLS_OK) {
        return -1;
    }
    atls_tpm2_public_cleanup(&pub);

    atls_tpm2_pcr_selection sel;
    if (atls_tpm2_pcr_selection_parse(o->pcr_spec ? o->pcr_spec : "sha256:0-7,23", &sel) !=
        ATLS_OK) {
        return -1;
    }
    size_t n = atls_tpm2_pcr_selection_count(&sel);
    q->pcrs = calloc(n + 1, sizeof(*q->pcrs));
    for (size_t b = 0; b < sel.count; b++) {
        for (unsigned i = 0; i < 8u * sel.banks[b].size_of_select; i++) {
            if (sel.banks[b].select[i / 8] & (1u << (i % 8))) {
                atls_tpm2_pcr_value *v = &q->pcrs[q->num_pcrs++];
                v->alg = sel.banks[b].hash;
                v->index = (uint8_t)i;
                v->digest_len = (uint8_t)atls_tpm2_hash_size(v->alg);
                memset(v->digest, o->pcr_fill + (int)i, v->digest_len);
            }
        }
    }
    uint8_t digest[64];
    size_t dlen = 0;
    if (atls_tpm2_pcr_digest(hash, &sel, q->pcrs, q->num_pcrs, digest, &dlen) != ATLS_OK) {
        return -1;
    }
    if (o->corrupt_digest) {
        digest[0] ^= 1;
    }
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_writer_add_u32(&w, o->magic ? o->magic : ATLS_TPM2_GENERATED_VALUE) &&
              atls_writer_add_u16(&w, o->type ? o->type : ATLS_TPM2_ST_ATTEST_QUOTE) &&
              atls_writer_open_u16(&w) &&
              atls_writer_add_bytes(&w, o->signer ? o->signer : qn,
                                    o->signer ? o->signer_len : qn_len) &&
              atls_writer_close(&w) && atls_writer_open_u16(&w) &&
              atls_writer_add_bytes(&w, o->extra, o->extra_len) && atls_writer_close(&w) &&
              atls_writer_add_u64(&w, 12345) && atls_writer_add_u32(&w, 1) &&
              atls_writer_add_u32(&w, 2) && atls_writer_add_u8(&w, 1) &&
              atls_writer_add_u64(&w, 0x2019102300163636ull) &&
              atls_writer_add_u32(&w, (uint32_t)sel.count);
    for (size_t b = 0; b < sel.count; b++) {
        ok = ok && atls_writer_add_u16(&w, sel.banks[b].hash) &&
             atls_writer_add_u8(&w, sel.banks[b].size_of_select) &&
             atls_writer_add_bytes(&w, sel.banks[b].select, sel.banks[b].size_of_select);
    }
    ok = ok && atls_writer_open_u16(&w) && atls_writer_add_bytes(&w, digest, dlen) &&
         atls_writer_close(&w);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!ok || atls_writer_finish(&w, &buf, &len) != ATLS_OK) {
        atls_writer_cleanup(&w);
        return -1;
    }
    q->attest.data = buf;
    q->attest.len = len;
    return sign(key, hash, &q->attest, &q->sig);
}
