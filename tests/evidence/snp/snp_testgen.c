/* snp_testgen.c: see snp_testgen.h. Test-only; builds reports with the writer. */
#include "snp_testgen.h"

#include "base/writer.h"

#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tg_snp_defaults(tg_snp_fields *f)
{
    memset(f, 0, sizeof(*f));
    f->version = 3;
    f->policy = 0x30000; /* SMT allowed, reserved bit 17 */
    f->tcb = 0x4405000000000002ull; /* Milan layout: BL 2, TEE 0, SNP 5, ucode 0x44 */
    f->cpuid_fam = 0x19;
    f->guest_svn = 7;
    for (size_t i = 0; i < 48; i++) {
        f->measurement[i] = (uint8_t)(0xa0 + i);
    }
    for (size_t i = 0; i < 64; i++) {
        f->chip_id[i] = (uint8_t)(0x10 + i);
    }
}

static EVP_PKEY *rsa_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static EVP_PKEY *p384_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
}

static int add_ext_der(X509 *x, const char *oid, const uint8_t *der, int len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    int ok = obj != NULL && os != NULL && ASN1_OCTET_STRING_set(os, der, len) == 1;
    X509_EXTENSION *e = ok ? X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os) : NULL;
    ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return ok;
}

static int add_int_ext(X509 *x, const char *oid, long v)
{
    ASN1_INTEGER *ai = ASN1_INTEGER_new();
    unsigned char *der = NULL;
    int n = (ai != NULL && ASN1_INTEGER_set(ai, v) == 1) ? i2d_ASN1_INTEGER(ai, &der) : -1;
    int ok = n > 0 && add_ext_der(x, oid, der, n);
    OPENSSL_free(der);
    ASN1_INTEGER_free(ai);
    return ok;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca,
                       time_t nb, time_t na)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = x != NULL && name != NULL && md != NULL && X509_set_version(x, 2) == 1 &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 0) == 1 &&
             X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                        (const unsigned char *)"atls test", -1, -1, 0) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_set_subject_name(x, name) == 1 &&
             X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
             X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) != NULL &&
             X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &na) != NULL &&
             X509_set_pubkey(x, key) == 1;
    if (ok && ca) {
        X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
                                                 "critical,CA:TRUE");
        X509_EXTENSION *ku = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
                                                 "critical,keyCertSign,cRLSign");
        ok = bc != NULL && ku != NULL && X509_add_ext(x, bc, -1) == 1 && X509_add_ext(x, ku, -1) == 1;
        X509_EXTENSION_free(bc);
        X509_EXTENSION_free(ku);
    }
    /* AMD signs with RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 (evidence-formats.md 2.2). */
    ok = ok && EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, ikey) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1 && X509_sign_ctx(x, md) > 0;
    EVP_MD_CTX_free(md);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int tg_snp_leaf_new(tg_snp_pki *p, uint64_t tcb, int turin, const uint8_t *hwid, size_t hwid_len,
                    const char *product, time_t nb, time_t na, X509 **leaf, EVP_PKEY **key)
{
    return tg_snp_leaf_new_cn(p, tcb, turin, hwid, hwid_len, "SEV-VCEK", product, nb, na, leaf, key);
}

int tg_snp_leaf_new_cn(tg_snp_pki *p, uint64_t tcb, int turin, const uint8_t *hwid,
                       size_t hwid_len, const char *cn, const char *product, time_t nb, time_t na,
                       X509 **leaf, EVP_PKEY **key)
{
    uint8_t b[8];
    for (size_t i = 0; i < 8; i++) {
        b[i] = (uint8_t)(tcb >> (8 * i));
    }
    *key = p384_key();
    if (*key == NULL) {
        return 0;
    }
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    unsigned char *pder = NULL;
    int plen = -1;
    if (ia5 != NULL && ASN1_STRING_set(ia5, product, -1) == 1) {
        plen = i2d_ASN1_IA5STRING(ia5, &pder);
    }
    int ok = x != NULL && name != NULL && md != NULL && plen > 0 && X509_set_version(x, 2) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_set_subject_name(x, name) == 1 &&
             X509_set_issuer_name(x, X509_get_subject_name(p->ask)) == 1 &&
             X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) != NULL &&
             X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &na) != NULL &&
             X509_set_pubkey(x, *key) == 1 && add_int_ext(x, "1.3.6.1.4.1.3704.1.1", 1) &&
             add_ext_der(x, "1.3.6.1.4.1.3704.1.2", pder, plen);
    if (turin) {
        ok = ok && add_int_ext(x, "1.3.6.1.4.1.3704.1.3.9", b[0]) &&
             add_int_ext(x, "1.3.6.1.4.1.3704.1.3.1", b[1]) &&
             add_int_ext(x, "1.3.6.1.4.1.3704.1.3.2", b[2]) &&
             add_int_ext(x, "1.3.6.1.4.1.3704.1.3.3", b[3]);
    } else {
        ok = ok && add_int_ext(x, "1.3.6.1.4.1.3704.1.3.1", b[0]) &&
             add_int_ext(x, "1.3.6.1.4.1.3704.1.3.2", b[1]) &&
             add_int_ext(x, "1.3.6.1.4.1.3704.1.3.3", b[6]);
    }
    ok = ok && add_int_ext(x, "1.3.6.1.4.1.3704.1.3.8", b[7]);
    if (ok && hwid_len > 0) {
        ok = add_ext_der(x, "1.3.6.1.4.1.3704.1.4", hwid, (int)hwid_len);
    }
    ok = ok && EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, p->ask_key) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1 && X509_sign_ctx(x, md) > 0;
    OPENSSL_free(pder);
    ASN1_IA5STRING_free(ia5);
    EVP_MD_CTX_free(md);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        EVP_PKEY_free(*key);
        *key = NULL;
        return 0;
    }
    *leaf = x;
    return 1;
}

int tg_snp_pki_new(tg_snp_pki *p, uint64_t tcb, int turin, const uint8_t *hwid, size_t hwid_len,
                   const char *leaf_cn, const char *product, time_t nb, time_t na)
{
    memset(p, 0, sizeof(*p));
    time_t ca_nb = nb - 86400, ca_na = na + 86400 * 365;
    p->ark_key = rsa_key();
    p->ask_key = rsa_key();
    if (p->ark_key == NULL || p->ask_key == NULL) {
        return 0;
    }
    p->ark = make_cert(p->ark_key, "ARK-Test", NULL, p->ark_key, 1, ca_nb, ca_na);
    p->ask = p->ark ? make_cert(p->ask_key, "SEV-Test", p->ark, p->ark_key, 1, ca_nb, ca_na) : NULL;
    return p->ask != NULL && tg_snp_leaf_new_cn(p, tcb, turin, hwid, hwid_len, leaf_cn, product,
                                                nb, na, &p->leaf, &p->leaf_key);
}

void tg_snp_pki_free(tg_snp_pki *p)
{
    EVP_PKEY_free(p->ark_key);
    EVP_PKEY_free(p->ask_key);
    EVP_PKEY_free(p->leaf_key);
    X509_free(p->ark);
    X509_free(p->ask);
    X509_free(p->leaf);
    memset(p, 0, sizeof(*p));
}

int tg_snp_report(const tg_snp_fields *f, EVP_PKEY *key, uint8_t out[1184])
{
    atls_writer w;
    uint8_t *buf = NULL;
    size_t len = 0;
    atls_writer_init(&w, 0);
    uint8_t pat[64];
    for (size_t i = 0; i < sizeof(pat); i++) {
        pat[i] = (uint8_t)(0x30 + i);
    }
    bool ok = atls_writer_add_u32_le(&w, f->version) && atls_writer_add_u32_le(&w, f->guest_svn) &&
              atls_writer_add_u64_le(&w, f->policy) && atls_writer_add_bytes(&w, pat, 16) &&
              atls_writer_add_bytes(&w, pat + 16, 16) && atls_writer_add_u32_le(&w, f->vmpl) &&
              atls_writer_add_u32_le(&w, 1) && atls_writer_add_u64_le(&w, f->tcb) &&
              atls_writer_add_u64_le(&w, 0x3) && atls_writer_add_u32_le(&w, f->signer_info) &&
              atls_writer_add_zeros(&w, 4) && atls_writer_add_bytes(&w, f->report_data, 64) &&
              atls_writer_add_bytes(&w, f->measurement, 48) &&
              atls_writer_add_bytes(&w, pat, 32) &&          /* host_data */
              atls_writer_add_bytes(&w, pat + 1, 48) &&      /* id_key_digest */
              atls_writer_add_bytes(&w, pat + 2, 48) &&      /* author_key_digest */
              atls_writer_add_bytes(&w, pat + 3, 32) &&      /* report_id */
              atls_writer_add_bytes(&w, pat + 4, 32) &&      /* report_id_ma */
              atls_writer_add_u64_le(&w, f->tcb);
    if (f->version >= 3) {
        ok = ok && atls_writer_add_u8(&w, f->cpuid_fam) && atls_writer_add_u8(&w, 1) &&
             atls_writer_add_u8(&w, 1);
    } else {
        ok = ok && atls_writer_add_zeros(&w, 3);
    }
    ok = ok && atls_writer_add_zeros(&w, 21) && atls_writer_add_bytes(&w, f->chip_id, 64) &&
         atls_writer_add_u64_le(&w, f->committed_tcb != 0 ? f->committed_tcb : f->tcb) &&
         atls_writer_add_u32_le(&w, 0x00013701) &&
         atls_writer_add_u32_le(&w, 0x00013701) && atls_writer_add_u64_le(&w, f->tcb);
    if (f->version >= 5) {
        ok = ok && atls_writer_add_u64_le(&w, 0x11) && atls_writer_add_u64_le(&w, 0x13);
    } else {
        ok = ok && atls_writer_add_zeros(&w, 16);
    }
    ok = ok && atls_writer_add_zeros(&w, 0x98) && atls_writer_len(&w) == 0x2A0;
    /* ECDSA P-384 / SHA-384 over 0x000-0x29F; r and s stored little-endian in 72 bytes. */
    unsigned char der[128];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ok = ok && md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
         EVP_DigestSign(md, der, &der_len, atls_writer_data(&w), 0x2A0) == 1;
    EVP_MD_CTX_free(md);
    const unsigned char *dp = der;
    ECDSA_SIG *sig = ok ? d2i_ECDSA_SIG(NULL, &dp, (long)der_len) : NULL;
    uint8_t r[72], s[72];
    ok = ok && sig != NULL && BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), r, 72) == 72 &&
         BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), s, 72) == 72 && atls_writer_add_bytes(&w, r, 72) &&
         atls_writer_add_bytes(&w, s, 72) && atls_writer_add_zeros(&w, 0x170);
    ECDSA_SIG_free(sig);
    ok = ok && atls_writer_finish(&w, &buf, &len) == ATLS_OK && len == 1184;
    if (ok) {
        memcpy(out, buf, 1184);
    }
    free(buf);
    atls_writer_cleanup(&w);
    return ok;
}

int tg_write_der(X509 *x, const char *path)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL) {
        return 0;
    }
    int ok = i2d_X509_fp(fp, x) == 1;
    return fclose(fp) == 0 && ok;
}

uint8_t *tg_snp_cert_table(const tg_snp_pki *p, size_t *len)
{
    static const uint8_t guids[3][16] = {
        {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
         0xcd},
        {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
         0x82},
        {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
         0xae}};
    X509 *certs[3] = {p->leaf, p->ask, p->ark};
    unsigned char *der[3] = {NULL, NULL, NULL};
    int dlen[3];
    for (int i = 0; i < 3; i++) {
        dlen[i] = i2d_X509(certs[i], &der[i]);
    }
    atls_writer w;
    atls_writer_init(&w, 0);
    uint32_t off = 4 * 24;
    bool ok = true;
    for (int i = 0; i < 3; i++) {
        ok = ok && atls_writer_add_bytes(&w, guids[i], 16) && atls_writer_add_u32_le(&w, off) &&
             atls_writer_add_u32_le(&w, (uint32_t)dlen[i]);
        off += (uint32_t)dlen[i];
    }
    ok = ok && atls_writer_add_zeros(&w, 24);
    for (int i = 0; i < 3; i++) {
        ok = ok && atls_writer_add_bytes(&w, der[i], (size_t)dlen[i]);
        OPENSSL_free(der[i]);
    }
    (void)ok;
    uint8_t *out = NULL;
    if (atls_writer_finish(&w, &out, len) != ATLS_OK) {
        out = NULL;
    }
    atls_writer_cleanup(&w);
    return out;
}
