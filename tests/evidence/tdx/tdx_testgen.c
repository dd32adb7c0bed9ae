/* tdx_testgen.c: see tdx_testgen.h. Test-only. */
#include "tdx_testgen.h"
#include "testcrl.h"

#include "base/writer.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static EVP_PKEY *p256(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static X509 *cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca,
                  const uint8_t *sgx_ext, size_t sgx_len)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = x && name && X509_set_version(x, 2) == 1 &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), 7) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_set_subject_name(x, name) == 1 &&
             X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
             X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 30) != NULL &&
             X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) != NULL &&
             X509_set_pubkey(x, key) == 1;
    if (ok && ca) {
        X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
                                                 "critical,CA:TRUE");
        X509_EXTENSION *ku = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
                                                 "critical,keyCertSign,cRLSign");
        ok = bc && ku && X509_add_ext(x, bc, -1) == 1 && X509_add_ext(x, ku, -1) == 1;
        X509_EXTENSION_free(bc);
        X509_EXTENSION_free(ku);
    }
    if (ok && sgx_ext != NULL) {
        ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        ok = obj && os && ASN1_OCTET_STRING_set(os, sgx_ext, (int)sgx_len) == 1;
        X509_EXTENSION *e = ok ? X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os) : NULL;
        ok = e && X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(obj);
    }
    ok = ok && X509_sign(x, ikey, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* tiny DER writer: tag, short/long length, content */
static size_t tlv(uint8_t *out, uint8_t tag, const uint8_t *c, size_t n)
{
    size_t o = 0;
    out[o++] = tag;
    if (n < 128) {
        out[o++] = (uint8_t)n;
    } else if (n < 256) {
        out[o++] = 0x81;
        out[o++] = (uint8_t)n;
    } else {
        out[o++] = 0x82;
        out[o++] = (uint8_t)(n >> 8);
        out[o++] = (uint8_t)n;
    }
    memmove(out + o, c, n);
    return o + n;
}

static size_t oid(uint8_t *out, const char *txt)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(txt, 1);
    unsigned char *der = NULL;
    int n = i2d_ASN1_OBJECT(obj, &der);
    memcpy(out, der, (size_t)n);
    OPENSSL_free(der);
    ASN1_OBJECT_free(obj);
    return (size_t)n;
}

/* kv: SEQUENCE { OID, value-TLV } */
static size_t kv(uint8_t *out, const char *o, const uint8_t *val, size_t vlen)
{
    uint8_t tmp[1024];
    size_t n = oid(tmp, o);
    memcpy(tmp + n, val, vlen);
    return tlv(out, 0x30, tmp, n + vlen);
}

static size_t sgx_extension(uint8_t *out, const uint8_t fmspc[6], const uint8_t comp[16],
                            int pcesvn)
{
    uint8_t tcb[2048], items[4096], v[64], one[2048];
    size_t tn = 0, in = 0, vn;
    char name[64];
    for (int i = 1; i <= 16; i++) {
        uint8_t c = comp[i - 1];
        uint8_t ib[2] = {0, c};
        vn = c >= 0x80 ? tlv(v, 0x02, ib, 2) : tlv(v, 0x02, &c, 1);
        snprintf(name, sizeof(name), "1.2.840.113741.1.13.1.2.%d", i);
        tn += kv(tcb + tn, name, v, vn);
    }
    uint8_t pb[3] = {0, (uint8_t)(pcesvn >> 8), (uint8_t)pcesvn};
    size_t skip = pcesvn >= 0x8000 ? 0 : pcesvn >= 0x80 ? 1 : 2; /* minimal DER INTEGER */
    vn = tlv(v, 0x02, pb + skip, 3 - skip);
    tn += kv(tcb + tn, "1.2.840.113741.1.13.1.2.17", v, vn);
    vn = tlv(v, 0x04, comp, 16);
    tn += kv(tcb + tn, "1.2.840.113741.1.13.1.2.18", v, vn);
    static const uint8_t ppid[16] = {1, 2, 3};
    vn = tlv(v, 0x04, ppid, 16);
    in += kv(items + in, "1.2.840.113741.1.13.1.1", v, vn);
    size_t sn = tlv(one, 0x30, tcb, tn);
    in += kv(items + in, "1.2.840.113741.1.13.1.2", one, sn);
    static const uint8_t pceid[2] = {0, 0};
    vn = tlv(v, 0x04, pceid, 2);
    in += kv(items + in, "1.2.840.113741.1.13.1.3", v, vn);
    vn = tlv(v, 0x04, fmspc, 6);
    in += kv(items + in, "1.2.840.113741.1.13.1.4", v, vn);
    return tlv(out, 0x30, items, in);
}

int tg_tdx_pki_new(tg_tdx_pki *p, const uint8_t fmspc[6], const uint8_t comp[16], int pcesvn)
{
    uint8_t ext[4096];
    memset(p, 0, sizeof(*p));
    p->root_key = p256();
    p->ca_key = p256();
    p->pck_key = p256();
    p->tcb_key = p256();
    p->ak = p256();
    if (!p->root_key || !p->ca_key || !p->pck_key || !p->tcb_key || !p->ak) {
        return 0;
    }
    size_t n = sgx_extension(ext, fmspc, comp, pcesvn);
    p->root = cert(p->root_key, "Test SGX Root CA", NULL, p->root_key, 1, NULL, 0);
    p->ca = p->root ? cert(p->ca_key, "Test SGX PCK Platform CA", p->root, p->root_key, 1, NULL, 0)
                    : NULL;
    p->pck = p->ca ? cert(p->pck_key, "Test SGX PCK Certificate", p->ca, p->ca_key, 0, ext, n) : NULL;
    p->tcb = p->root ? cert(p->tcb_key, "Intel SGX TCB Signing", p->root, p->root_key, 0, NULL, 0)
                     : NULL;
    return p->pck != NULL && p->tcb != NULL;
}

void tg_tdx_pki_free(tg_tdx_pki *p)
{
    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->pck_key);
    EVP_PKEY_free(p->tcb_key);
    EVP_PKEY_free(p->ak);
    X509_free(p->root);
    X509_free(p->ca);
    X509_free(p->pck);
    X509_free(p->tcb);
    memset(p, 0, sizeof(*p));
}

void tg_tdx_defaults(tg_tdx_fields *f)
{
    memset(f, 0, sizeof(*f));
    f->version = 4;
    f->body_type = 2;
    f->tee_type = 0x81;
    f->tee_tcb_svn[0] = 3;
    f->tee_tcb_svn[2] = 5;
    f->td_attributes[3] = 0x10; /* SEPT_VE_DISABLE (bit 28), as every production TD sets */
    for (size_t i = 0; i < 48; i++) {
        f->mrtd[i] = (uint8_t)(0xc0 + i);
    }
    f->qe_isvsvn = 8;
    f->qe_attributes0 = 0x11;
    f->qe_mrsigner = 0xdc;
    f->qe_isvprodid = 2;
    for (size_t i = 0; i < 16; i++) {
        f->tee_tcb_svn2[i] = (uint8_t)(0x48 + i); /* the former fixed pattern */
    }
}

/* sign_raw: ECDSA-SHA256 over |msg| as r||s (32+32). */
static int sign_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t out[64])
{
    unsigned char der[80];
    size_t dl = sizeof(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, der, &dl, msg, len) == 1;
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *s = ok ? d2i_ECDSA_SIG(NULL, &p, (long)dl) : NULL;
    ok = s && BN_bn2binpad(ECDSA_SIG_get0_r(s), out, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(s), out + 32, 32) == 32;
    ECDSA_SIG_free(s);
    return ok;
}

static int pem_of(X509 *const *certs, size_t n, uint8_t **out, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    int ok = b != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = PEM_write_bio_X509(b, certs[i]) == 1;
    }
    char *data = NULL;
    long l = ok ? BIO_get_mem_data(b, &data) : 0;
    if (ok && l > 0) {
        *out = malloc((size_t)l + 1);
        memcpy(*out, data, (size_t)l);
        (*out)[l] = 0; /* like real quotes: the chain ends with a NUL */
        *len = (size_t)l + 1;
    }
    BIO_free(b);
    return ok && l > 0;
}

uint8_t *tg_tdx_quote(const tg_tdx_pki *p, const tg_tdx_fields *f, size_t *len, size_t *chain_off)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    uint8_t pat[64], ak_xy[65], qe[384], sig[64], qsig[64], auth[32];
    size_t xy_len = sizeof(ak_xy);
    for (size_t i = 0; i < 64; i++) {
        pat[i] = (uint8_t)(0x40 + i);
    }
    for (size_t i = 0; i < 32; i++) {
        auth[i] = (uint8_t)i;
    }
    if (EVP_PKEY_get_octet_string_param(p->ak, "encoded-pub-key", ak_xy, sizeof(ak_xy), &xy_len) != 1 ||
        xy_len != 65) {
        return NULL;
    }
    static const uint8_t intel_qe[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                         0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
    int body3 = f->version == 5 && f->body_type == 3;
    bool ok = atls_writer_add_u16_le(&w, f->version) && atls_writer_add_u16_le(&w, 2) &&
              atls_writer_add_u32_le(&w, f->tee_type) && atls_writer_add_zeros(&w, 4) &&
              atls_writer_add_bytes(&w, intel_qe, 16) && atls_writer_add_bytes(&w, pat, 20);
    if (f->version == 5) {
        ok = ok && atls_writer_add_u16_le(&w, f->body_type) &&
             atls_writer_add_u32_le(&w, body3 ? 648 : 584);
    }
    ok = ok && atls_writer_add_bytes(&w, f->tee_tcb_svn, 16) &&
         atls_writer_add_bytes(&w, pat, 48) &&      /* mrseam */
         atls_writer_add_zeros(&w, 48) &&           /* mrsignerseam (Intel: zero) */
         atls_writer_add_zeros(&w, 8) &&            /* seam_attributes */
         atls_writer_add_bytes(&w, f->td_attributes, 8) &&
         atls_writer_add_u64_le(&w, 0xe7) &&        /* xfam */
         atls_writer_add_bytes(&w, f->mrtd, 48) && atls_writer_add_bytes(&w, pat + 1, 48) &&
         atls_writer_add_bytes(&w, pat + 2, 48) && atls_writer_add_bytes(&w, pat + 3, 48) &&
         atls_writer_add_bytes(&w, f->have_rtmr ? f->rtmr[0] : pat + 4, 48) &&
         atls_writer_add_bytes(&w, f->have_rtmr ? f->rtmr[1] : pat + 5, 48) &&
         atls_writer_add_bytes(&w, f->have_rtmr ? f->rtmr[2] : pat + 6, 48) &&
         atls_writer_add_bytes(&w, f->have_rtmr ? f->rtmr[3] : pat + 7, 48) &&
         atls_writer_add_bytes(&w, f->report_data, 64);
    if (body3) {
        ok = ok && atls_writer_add_bytes(&w, f->tee_tcb_svn2, 16) &&
             atls_writer_add_bytes(&w, f->mrservicetd, 48);
    }
    if (!ok || !sign_raw(p->ak, atls_writer_data(&w), atls_writer_len(&w), sig)) {
        atls_writer_cleanup(&w);
        return NULL;
    }
    /* QE report: report_data = SHA-256(ak || auth) || 0^32, signed by the PCK key */
    memset(qe, 0, sizeof(qe));
    qe[48] = f->qe_attributes0;           /* attributes */
    memset(qe + 128, f->qe_mrsigner, 32); /* mrsigner */
    qe[256] = (uint8_t)f->qe_isvprodid;   /* isvprodid */
    qe[257] = (uint8_t)(f->qe_isvprodid >> 8);
    qe[258] = (uint8_t)f->qe_isvsvn;
    qe[259] = (uint8_t)(f->qe_isvsvn >> 8);
    uint8_t h[32 + 64];
    memcpy(h, ak_xy + 1, 64);
    memcpy(h + 64, auth, 32);
    EVP_Digest(h, sizeof(h), qe + 320, NULL, EVP_sha256(), NULL);
    uint8_t *chain = NULL;
    size_t chain_len = 0;
    X509 *certs[3] = {p->pck, p->ca, p->root};
    ok = sign_raw(p->pck_key, qe, sizeof(qe), qsig) && pem_of(certs, 3, &chain, &chain_len);
    size_t cert_data = 384 + 64 + 2 + 32 + 2 + 4 + chain_len;
    ok = ok && atls_writer_add_u32_le(&w, (uint32_t)(64 + 64 + 2 + 4 + cert_data)) &&
         atls_writer_add_bytes(&w, sig, 64) && atls_writer_add_bytes(&w, ak_xy + 1, 64) &&
         atls_writer_add_u16_le(&w, 6) && atls_writer_add_u32_le(&w, (uint32_t)cert_data) &&
         atls_writer_add_bytes(&w, qe, 384) && atls_writer_add_bytes(&w, qsig, 64) &&
         atls_writer_add_u16_le(&w, 32) && atls_writer_add_bytes(&w, auth, 32) &&
         atls_writer_add_u16_le(&w, 5) && atls_writer_add_u32_le(&w, (uint32_t)chain_len);
    *chain_off = atls_writer_len(&w);
    ok = ok && atls_writer_add_bytes(&w, chain, chain_len);
    free(chain);
    uint8_t *out = NULL;
    if (!ok || atls_writer_finish(&w, &out, len) != ATLS_OK) {
        atls_writer_cleanup(&w);
        return NULL;
    }
    atls_writer_cleanup(&w);
    return out;
}

int tg_tdx_write_signed(const tg_tdx_pki *p, const char *path, const char *member,
                        const char *body)
{
    return tg_tdx_write_signed_by(p->tcb_key, path, member, body);
}

X509 *tg_tdx_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int ca)
{
    return cert(key, cn, issuer, issuer_key, ca, NULL, 0);
}

int tg_tdx_write_certs(const char *path, X509 *const *certs, size_t n)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        return 0;
    }
    int ok = 1;
    for (size_t i = 0; ok && i < n; i++) {
        ok = PEM_write_X509(fp, certs[i]) == 1;
    }
    return fclose(fp) == 0 && ok;
}

int tg_tdx_write_signed_by(EVP_PKEY *key, const char *path, const char *member,
                           const char *body)
{
    uint8_t sig[64];
    if (!sign_raw(key, (const uint8_t *)body, strlen(body), sig)) {
        return 0;
    }
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        return 0;
    }
    fprintf(fp, "{\"%s\":%s,\"signature\":\"", member, body);
    for (size_t i = 0; i < 64; i++) {
        fprintf(fp, "%02x", sig[i]);
    }
    fprintf(fp, "\"}\n");
    return fclose(fp) == 0;
}

int tg_tdx_write_chain(const tg_tdx_pki *p, const char *path)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        return 0;
    }
    int ok = PEM_write_X509(fp, p->tcb) == 1 && PEM_write_X509(fp, p->root) == 1;
    return fclose(fp) == 0 && ok;
}

void tg_iso(time_t t, char out[21])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

STACK_OF(X509_CRL) *tg_tdx_crls(const tg_tdx_pki *p, time_t this_update, time_t next_update,
                                int revoke_pck)
{
    X509 *revoked[2] = {revoke_pck ? p->pck : NULL, NULL};
    X509_CRL *root_crl = testcrl_new(p->root, p->root_key, 0, this_update, next_update, NULL);
    X509_CRL *pck_crl = testcrl_new(p->ca, p->ca_key, 0, this_update, next_update, revoked);
    STACK_OF(X509_CRL) *s = sk_X509_CRL_new_null();
    if (root_crl == NULL || pck_crl == NULL || s == NULL || sk_X509_CRL_push(s, root_crl) <= 0) {
        X509_CRL_free(root_crl);
        X509_CRL_free(pck_crl);
        sk_X509_CRL_free(s);
        return NULL;
    }
    if (sk_X509_CRL_push(s, pck_crl) <= 0) {
        X509_CRL_free(pck_crl);
        sk_X509_CRL_pop_free(s, X509_CRL_free);
        return NULL;
    }
    return s;
}

static const char *const SGX_LEVEL = "{\"svn\":5},{\"svn\":5},{\"svn\":2},{\"svn\":2},{\"svn\":3},"
                                     "{\"svn\":1},{\"svn\":0},{\"svn\":3},{\"svn\":0},{\"svn\":0},"
                                     "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                                     "{\"svn\":0}";
static const char *const ZEROS13 = "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                                   "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                                   "{\"svn\":0},{\"svn\":0},{\"svn\":0}";

void tg_tdx_level(char *out, size_t n, int t0, int t1, int t2, const char *status)
{
    snprintf(out, n,
             "{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":11,\"tdxtcbcomponents\":"
             "[{\"svn\":%d},{\"svn\":%d},{\"svn\":%d},%s]},\"tcbDate\":\"2024-01-01T00:00:00Z\","
             "\"tcbStatus\":\"%s\"}",
             SGX_LEVEL, t0, t1, t2, ZEROS13, status);
}

int tg_tdx_write_tcb_info(EVP_PKEY *key, const char *path, time_t issue, time_t next,
                          const char *levels, const char *module_ids)
{
    char a[21], b[21], body[16384];
    tg_iso(issue, a);
    tg_iso(next, b);
    snprintf(body, sizeof(body),
             "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"fmspc\":\"00112233AABB\",\"pceId\":\"0000\",\"tcbType\":0,"
             "\"tcbEvaluationDataNumber\":1,\"tdxModule\":{\"mrsigner\":\"%096d\","
             "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\"}%s,"
             "\"tcbLevels\":[%s]}",
             a, b, 0, module_ids != NULL ? module_ids : "", levels);
    return tg_tdx_write_signed_by(key, path, "tcbInfo", body);
}

int tg_tdx_write_qe_identity(EVP_PKEY *key, const char *path, time_t issue, time_t next,
                             const char *latest)
{
    char a[21], b[21], body[4096];
    tg_iso(issue, a);
    tg_iso(next, b);
    snprintf(body, sizeof(body),
             "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"tcbEvaluationDataNumber\":1,\"miscselect\":\"00000000\",\"miscselectMask\":"
             "\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\","
             "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
             "\"DCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDC\","
             "\"isvprodid\":2,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":"
             "\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"%s\"},{\"tcb\":{\"isvsvn\":0},"
             "\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}]}",
             a, b, latest);
    return tg_tdx_write_signed_by(key, path, "enclaveIdentity", body);
}
