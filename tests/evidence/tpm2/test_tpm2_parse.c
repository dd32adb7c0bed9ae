/* test_tpm2_parse: TPM 2.0 parsers and the quote verifier, without a TPM: the shared samples
 * (argument "shared": test_tpm2_parse_shared), software-signed quotes that break one check at a time,
 * bit flips and truncations. */
#include "evidence/tpm2/tpm2.h"

#include "base/file.h"
#include "base/hex.h"
#include "check.h"
#include "vectors.h"
#include "evidence/core/claims.h"
#include "tpm2_fake.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define CAT(e) ((int)(e) / 100)

static int is_decode(atls_error e)
{
    return CAT(e) == 2;
}

static const char *vec_dir; /* the shared vectors (test_tpm2_parse_shared) */

static int read_vec(const char *name, atls_buf *out)
{
    const char *dir = vec_dir;
    char path[512];
    if (dir == NULL) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/tpm/%s", dir, name);
    uint8_t *d = NULL;
    size_t n = 0;
    if (atls_file_read(path, 1 << 20, &d, &n) != ATLS_OK) {
        return -1;
    }
    atls_buf_cleanup(out);
    out->data = d;
    out->len = n;
    return 0;
}

static void set_pcrs_zero_plus23(atls_tpm2_quote *q, const char *pcr23_hex)
{
    q->pcrs = calloc(9, sizeof(*q->pcrs));
    q->num_pcrs = 9;
    for (int i = 0; i < 9; i++) {
        q->pcrs[i].alg = ATLS_TPM2_ALG_SHA256;
        q->pcrs[i].index = (uint8_t)(i < 8 ? i : 23);
        q->pcrs[i].digest_len = 32;
    }
    CHECK_OK(atls_hex_decode_fixed(pcr23_hex, q->pcrs[8].digest, 32));
}

/* Every bit of |b| flipped in turn must make verification fail. */
static void flip_all(atls_tpm2_quote *q, atls_buf *b, const atls_tpm2_verify_opts *o,
                     const char *what)
{
    size_t bad = 0;
    for (size_t i = 0; i < b->len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b->data[i] ^= (uint8_t)(1u << bit);
            if (atls_tpm2_verify_quote(q, o, NULL) == ATLS_OK) {
                bad++;
                fprintf(stderr, "%s: flip at byte %zu bit %d still verifies\n", what, i, bit);
            }
            b->data[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK(bad == 0);
    CHECK_OK(atls_tpm2_verify_quote(q, o, NULL));
}

/* Every proper prefix of |b| must be a decode error; one extra byte must be trailing. */
static void truncate_all(atls_tpm2_quote *q, atls_buf *b, const atls_tpm2_verify_opts *o)
{
    size_t full = b->len, bad = 0;
    for (size_t n = 0; n < full; n++) {
        b->len = n;
        atls_error e = atls_tpm2_verify_quote(q, o, NULL);
        if (!is_decode(e)) {
            bad++;
            fprintf(stderr, "truncated to %zu/%zu: got %d %s\n", n, full, e, atls_error_detail());
        }
    }
    b->len = full;
    CHECK(bad == 0);
    uint8_t *longer = malloc(full + 1);
    memcpy(longer, b->data, full);
    longer[full] = 0;
    uint8_t *orig = b->data;
    b->data = longer;
    b->len = full + 1;
    CHECK_ERR(atls_tpm2_verify_quote(q, o, NULL), ATLS_ERR_DECODE_TRAILING);
    b->data = orig;
    b->len = full;
    free(longer);
}

static void test_shared_tpm2_quote(void)
{
    atls_tpm2_quote q = {0};
    atls_buf nonce = {0}, name = {0};
    CHECK(read_vec("quote_attest.bin", &q.attest) == 0);
    CHECK(read_vec("quote_sig_tpmt_signature.bin", &q.sig) == 0);
    CHECK(read_vec("ak_tpm2b_public.bin", &q.ak_public) == 0);
    CHECK(read_vec("quote_nonce.bin", &nonce) == 0);
    CHECK(read_vec("ak_name.bin", &name) == 0);
    set_pcrs_zero_plus23(&q, "37199FCA7FDA5C8850EBA8099E6E59970D0AC7769FCABC045F8B52BAB909A18C");

    atls_tpm2_public pub;
    CHECK_OK(atls_tpm2_public_parse(q.ak_public.data, q.ak_public.len, &pub));
    CHECK(pub.name_len == name.len && memcmp(pub.name, name.data, name.len) == 0);
    CHECK(pub.curve == ATLS_TPM2_ECC_NIST_P256 && pub.scheme == ATLS_TPM2_ALG_ECDSA);
    CHECK_OK(atls_tpm2_public_check_ak(&pub));
    atls_tpm2_public_cleanup(&pub);

    atls_tpm2_attest att;
    CHECK_OK(atls_tpm2_attest_parse(q.attest.data, q.attest.len, &att));
    CHECK(att.extra_data_len == 32 && att.pcr_select.count == 1);
    CHECK(att.pcr_select.banks[0].select[0] == 0xff && att.pcr_select.banks[0].select[2] == 0x80);
    CHECK(att.firmware_version == 0x2019102300163636ull);

    atls_tpm2_verify_opts o = {.challenge = nonce.data, .challenge_len = nonce.len};
    atls_tpm2_verified v;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, &v));
    CHECK(v.challenge_checked == 1);
    /* This AK was made under the EK: its qualified name is not computable from the quote. */
    CHECK(strcmp(v.ak_hierarchy, "unknown") == 0);
    atls_tpm2_verified_cleanup(&v);

    nonce.data[0] ^= 1;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_NONCE);
    nonce.data[0] ^= 1;
    o.qualified_signer = name.data; /* the plain name is not the qualified name */
    o.qualified_signer_len = name.len;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    o.qualified_signer = q.attest.data + 8; /* the real qualifiedSigner */
    o.qualified_signer_len = 34;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));
    o.qualified_signer = NULL;

    q.pcrs[8].digest[31] ^= 1;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.pcrs[8].digest[31] ^= 1;

    flip_all(&q, &q.attest, &o, "attest");
    flip_all(&q, &q.sig, &o, "sig");
    truncate_all(&q, &q.attest, &o);
    truncate_all(&q, &q.sig, &o);
    truncate_all(&q, &q.ak_public, &o);

    atls_buf_cleanup(&nonce);
    atls_buf_cleanup(&name);
    atls_tpm2_quote_cleanup(&q);
}

/* The ESAPI sample: AK is an endorsement primary, given as raw X||Y; rebuild its TPM2B_PUBLIC
 * from the template of evidence-formats.md 1.6. */
static void test_shared_esys_quote(void)
{
    atls_tpm2_quote q = {0};
    atls_buf xy = {0};
    CHECK(read_vec("esys_quote_attest.bin", &q.attest) == 0);
    CHECK(read_vec("esys_quote_sig_tpmt_signature.bin", &q.sig) == 0);
    CHECK(read_vec("esys_ak_pub_xy.bin", &xy) == 0 && xy.len == 64);
    uint8_t pub[2 + 88];
    static const uint8_t head[] = {0x00, 0x58, 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72,
                                   0x00, 0x00, 0x00, 0x10, 0x00, 0x18, 0x00, 0x0b, 0x00, 0x03,
                                   0x00, 0x10, 0x00, 0x20};
    memcpy(pub, head, sizeof(head));
    memcpy(pub + 24, xy.data, 32);
    pub[56] = 0x00;
    pub[57] = 0x20;
    memcpy(pub + 58, xy.data + 32, 32);
    CHECK_OK(atls_buf_set(&q.ak_public, pub, sizeof(pub)));
    set_pcrs_zero_plus23(&q, "89B7C8F908DDAAEF62F230B73A0B4B46F5292EDCCD3687BD6B82BBE043043A50");
    uint8_t nonce[32];
    for (int i = 0; i < 32; i++) {
        nonce[i] = (uint8_t)i;
    }
    atls_tpm2_verify_opts o = {.challenge = nonce, .challenge_len = 32};
    atls_tpm2_verified v;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, &v));
    CHECK(v.ak_hierarchy != NULL && strcmp(v.ak_hierarchy, "endorsement") == 0);
    atls_tpm2_verified_cleanup(&v);
    atls_buf_cleanup(&xy);
    atls_tpm2_quote_cleanup(&q);
}

static atls_error fake_verify(EVP_PKEY *key, const fake_opts *fo, const atls_tpm2_verify_opts *o)
{
    atls_tpm2_quote q;
    if (fake_quote(key, fo, &q) != 0) {
        atls_tpm2_quote_cleanup(&q);
        return ATLS_ERR_INTERNAL;
    }
    atls_error e = atls_tpm2_verify_quote(&q, o, NULL);
    atls_tpm2_quote_cleanup(&q);
    return e;
}

static void test_fake_checks(void)
{
    EVP_PKEY *key = fake_key(), *other = fake_key();
    uint8_t ch[64];
    memset(ch, 0xa5, sizeof(ch));
    atls_tpm2_verify_opts o = {.challenge = ch, .challenge_len = 64};
    fake_opts fo = {.extra = ch, .extra_len = 64};
    CHECK_OK(fake_verify(key, &fo, &o));

    fake_opts f = fo;
    f.magic = 0xff544348;
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE);
    f = fo;
    f.type = 0x8014; /* CERTIFY */
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_DECODE_TYPE);
    f = fo;
    f.attrs = 0x00040072; /* not restricted */
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE);
    f.attrs = 0x00070072; /* restricted + decrypt + sign */
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE);
    f.attrs = 0x00050070; /* not fixedTPM */
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE);
    f = fo;
    f.corrupt_digest = 1;
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE);
    f = fo;
    f.extra_len = 32;
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE_NONCE);
    f = fo;
    uint8_t ch65[65] = {0};
    f.extra = ch65;
    f.extra_len = 65;
    CHECK_ERR(fake_verify(key, &f, NULL), ATLS_ERR_DECODE_LENGTH);
    f = fo;
    f.sig_hash = ATLS_TPM2_ALG_SHA384; /* AK scheme says SHA-256 */
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE_SIGNATURE);

    /* qualifiedSigner: a wrong value under the right algorithm is caught when the expected
     * value is known; a wrong algorithm or size always. */
    uint8_t bad_signer[34] = {0x00, 0x0b, 1, 2, 3};
    f = fo;
    f.signer = bad_signer;
    f.signer_len = sizeof(bad_signer);
    CHECK_OK(fake_verify(key, &f, &o));
    atls_tpm2_verify_opts o2 = o;
    o2.qualified_signer = bad_signer + 1;
    o2.qualified_signer_len = 33;
    CHECK_ERR(fake_verify(key, &f, &o2), ATLS_ERR_EVIDENCE);
    bad_signer[1] = 0x0c;
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE);
    f.signer_len = 20;
    bad_signer[1] = 0x0b;
    CHECK_ERR(fake_verify(key, &f, &o), ATLS_ERR_EVIDENCE);

    /* Wrong AK: the quote's signature does not verify under another key. */
    atls_tpm2_quote q;
    CHECK(fake_quote(key, &fo, &q) == 0);
    atls_tpm2_verified v;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, &v));
    CHECK(strcmp(v.ak_hierarchy, "endorsement") == 0);
    atls_tpm2_verified_cleanup(&v);
    CHECK(fake_public(other, 0x00050072, &q.ak_public) == 0);
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_SIGNATURE);
    atls_tpm2_quote_cleanup(&q);

    /* PCR lists: value changed, missing, extra, wrong size, wrong bank. */
    CHECK(fake_quote(key, &fo, &q) == 0);
    q.pcrs[3].digest[0] ^= 0x80;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.pcrs[3].digest[0] ^= 0x80;
    q.num_pcrs--;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.num_pcrs++;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));
    atls_tpm2_pcr_value *more = realloc(q.pcrs, (q.num_pcrs + 1) * sizeof(*more));
    q.pcrs = more;
    q.pcrs[q.num_pcrs] = q.pcrs[0];
    q.pcrs[q.num_pcrs].index = 9;
    q.num_pcrs++;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.num_pcrs--;
    q.pcrs[8].index = 22; /* PCR 23 replaced by an unselected PCR 22 */
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.pcrs[8].index = 23;
    q.pcrs[8].digest_len = 20;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.pcrs[8].digest_len = 32;
    q.pcrs[8].alg = ATLS_TPM2_ALG_SHA1;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.pcrs[8].alg = ATLS_TPM2_ALG_SHA256;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));
    /* reordered values are fine: they are looked up by (bank, index) */
    atls_tpm2_pcr_value tmp = q.pcrs[0];
    q.pcrs[0] = q.pcrs[8];
    q.pcrs[8] = tmp;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));
    flip_all(&q, &q.attest, &o, "fake attest");
    truncate_all(&q, &q.attest, &o);
    atls_tpm2_quote_cleanup(&q);

    /* Two banks, the digest covers both in bank order. */
    f = fo;
    f.pcr_spec = "sha1:0,1+sha256:16";
    CHECK(fake_quote(key, &f, &q) == 0);
    CHECK(q.num_pcrs == 3);
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));
    atls_tpm2_quote_cleanup(&q);

    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

/* Hand-made TPMS_ATTEST bodies for ceilings the fake builder cannot express. */
static void test_attest_limits(void)
{
    atls_tpm2_attest att;
    /* magic, type, signer(0), extra(0), clock 17 bytes, fw 8, count, ... */
    uint8_t a[64] = {0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0, 0, 0, 0};
    size_t off = 10 + 17 + 8;
    a[off + 3] = 17; /* 17 banks */
    CHECK_ERR(atls_tpm2_attest_parse(a, off + 4, &att), ATLS_ERR_DECODE_LENGTH);
    a[off + 3] = 1;
    a[off + 4] = 0x00;
    a[off + 5] = 0x0b;
    a[off + 6] = 5; /* sizeofSelect 5 */
    CHECK_ERR(atls_tpm2_attest_parse(a, off + 12, &att), ATLS_ERR_DECODE_LENGTH);
    a[off + 6] = 0; /* empty selection, empty digest */
    CHECK_OK(atls_tpm2_attest_parse(a, off + 9, &att));
    a[off + 3] = 2; /* the same bank twice */
    a[off + 7] = 0x00;
    a[off + 8] = 0x0b;
    a[off + 9] = 0;
    CHECK_ERR(atls_tpm2_attest_parse(a, off + 12, &att), ATLS_ERR_DECODE_VALUE);
    a[26] = 2; /* clockInfo.safe must be 0 or 1 */
    CHECK_ERR(atls_tpm2_attest_parse(a, off + 12, &att), ATLS_ERR_DECODE_VALUE);

    atls_tpm2_signature sig;
    uint8_t s[8] = {0x00, 0x17, 0x00, 0x0b}; /* ECDAA: not supported */
    CHECK_ERR(atls_tpm2_signature_parse(s, 4, &sig), ATLS_ERR_DECODE_VALUE);
    uint8_t s2[] = {0x00, 0x18, 0x00, 0x04, 0x00, 0x01, 0x01, 0x00, 0x01, 0x01}; /* SHA-1 */
    CHECK_ERR(atls_tpm2_signature_parse(s2, sizeof(s2), &sig), ATLS_ERR_DECODE_VALUE);
    s2[3] = 0x0b;
    CHECK_OK(atls_tpm2_signature_parse(s2, sizeof(s2), &sig));
    s2[5] = 0; /* zero-length r */
    CHECK_ERR(atls_tpm2_signature_parse(s2, sizeof(s2) - 1, &sig), ATLS_ERR_DECODE_LENGTH);
}

static void test_public_limits(void)
{
    EVP_PKEY *key = fake_key();
    atls_buf pub = {0};
    CHECK(fake_public(key, 0x00050072, &pub) == 0);
    atls_tpm2_public p;
    CHECK_OK(atls_tpm2_public_parse(pub.data, pub.len, &p));
    atls_tpm2_public_cleanup(&p);
    pub.data[3] = 0x01; /* type RSA */
    CHECK_ERR(atls_tpm2_public_parse(pub.data, pub.len, &p), ATLS_ERR_DECODE_VALUE);
    atls_tpm2_public_cleanup(&p);
    pub.data[3] = 0x23;
    pub.data[13] = 0x06; /* symmetric AES on a signing key */
    CHECK_ERR(atls_tpm2_public_parse(pub.data, pub.len, &p), ATLS_ERR_DECODE_VALUE);
    atls_tpm2_public_cleanup(&p);
    pub.data[13] = 0x10;
    pub.data[19] = 0x05; /* P-521: not supported */
    CHECK_ERR(atls_tpm2_public_parse(pub.data, pub.len, &p), ATLS_ERR_DECODE_VALUE);
    atls_tpm2_public_cleanup(&p);
    pub.data[19] = 0x03;
    pub.data[40] ^= 0x01; /* point off the curve */
    CHECK_ERR(atls_tpm2_public_parse(pub.data, pub.len, &p), ATLS_ERR_CRYPTO_KEY);
    atls_tpm2_public_cleanup(&p);
    pub.data[40] ^= 0x01;
    for (size_t n = 0; n < pub.len; n++) {
        atls_error e = atls_tpm2_public_parse(pub.data, n, &p);
        atls_tpm2_public_cleanup(&p);
        if (!is_decode(e)) {
            CHECK(is_decode(e));
        }
    }
    atls_buf_cleanup(&pub);
    EVP_PKEY_free(key);
}

static X509 *make_cert(EVP_PKEY *subject, EVP_PKEY *issuer_key, X509 *issuer, const char *cn,
                       int ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_set_pubkey(x, subject);
    if (ca) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                                "critical,CA:TRUE");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, issuer_key, EVP_sha256());
    return x;
}

static void set_cert(atls_tpm2_quote *q, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    CHECK(n > 0);
    CHECK_OK(atls_buf_set(&q->ak_cert, der, (size_t)n));
    OPENSSL_free(der);
}

static void test_ak_cert(void)
{
    EVP_PKEY *ak = fake_key(), *ca_key = fake_key(), *other_ca_key = fake_key();
    X509 *ca = make_cert(ca_key, ca_key, NULL, "AK CA", 1);
    X509 *other_ca = make_cert(other_ca_key, other_ca_key, NULL, "Other CA", 1);
    X509 *ak_cert = make_cert(ak, ca_key, ca, "AK", 0);
    X509 *wrong_key_cert = make_cert(other_ca_key, ca_key, ca, "not the AK", 0);
    STACK_OF(X509) *anchors = sk_X509_new_null(), *other = sk_X509_new_null();
    sk_X509_push(anchors, ca);
    sk_X509_push(other, other_ca);

    atls_tpm2_quote q;
    fake_opts fo = {0};
    CHECK(fake_quote(ak, &fo, &q) == 0);
    set_cert(&q, ak_cert);
    atls_tpm2_verify_opts o = {.trust_anchors = anchors};
    atls_tpm2_verified v;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, &v));
    CHECK(v.ak_cert_verified == 1 && v.challenge_checked == 0);
    atls_tpm2_verified_cleanup(&v);
    o.trust_anchors = other;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    o.trust_anchors = anchors;
    o.at = time(NULL) + 7200; /* expired by then */
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    o.at = 0;
    set_cert(&q, wrong_key_cert);
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    q.ak_cert.len = 10; /* not DER */
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    /* anchors configured and no AK certificate: refused, not left unchecked (issue 10) */
    q.ak_cert.len = 0;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK(strstr(atls_error_detail(), "no AK certificate") != NULL);
    /* without anchors the certificate is carried but not relied on */
    o.trust_anchors = NULL;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, &v));
    CHECK(v.ak_cert_verified == 0);
    atls_tpm2_verified_cleanup(&v);
    atls_tpm2_quote_cleanup(&q);

    sk_X509_pop_free(anchors, X509_free);
    sk_X509_pop_free(other, X509_free);
    X509_free(ak_cert);
    X509_free(wrong_key_cert);
    EVP_PKEY_free(ak);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_ca_key);
}

static void test_selection_parse(void)
{
    atls_tpm2_pcr_selection s;
    CHECK_OK(atls_tpm2_pcr_selection_parse("sha256:0-7,23", &s));
    CHECK(s.count == 1 && s.banks[0].size_of_select == 3 && s.banks[0].select[0] == 0xff &&
          s.banks[0].select[1] == 0 && s.banks[0].select[2] == 0x80);
    CHECK(atls_tpm2_pcr_selection_count(&s) == 9);
    CHECK_OK(atls_tpm2_pcr_selection_parse("sha1:1+sha384:2,31", &s));
    CHECK(s.count == 2 && s.banks[1].size_of_select == 4 && s.banks[1].select[3] == 0x80);
    const char *bad[] = {"", "sha256", "sha256:", "sha256:0,", "md5:1", "sha256:32",
                         "sha256:5-3", "sha256:1+sha256:2", "sha256:x", "sha256:-1", NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        CHECK_ERR(atls_tpm2_pcr_selection_parse(bad[i], &s), ATLS_ERR_USAGE_CONFIG);
    }
}

static void test_cbor_and_ops(void)
{
    EVP_PKEY *key = fake_key();
    uint8_t ch[64];
    memset(ch, 0x3c, sizeof(ch));
    fake_opts fo = {.extra = ch, .extra_len = 64};
    atls_tpm2_quote q, back;
    CHECK(fake_quote(key, &fo, &q) == 0);
    uint8_t *enc = NULL;
    size_t len = 0;
    CHECK_OK(atls_tpm2_quote_encode(&q, &enc, &len));
    CHECK_OK(atls_tpm2_quote_decode(enc, len, &back));
    CHECK(back.attest.len == q.attest.len && back.num_pcrs == q.num_pcrs &&
          back.ak_cert.len == 0 && memcmp(back.sig.data, q.sig.data, q.sig.len) == 0 &&
          memcmp(back.pcrs, q.pcrs, q.num_pcrs * sizeof(*q.pcrs)) == 0);
    atls_tpm2_quote_cleanup(&back);
    size_t not_decode = 0;
    for (size_t n = 0; n < len; n++) {
        atls_error e = atls_tpm2_quote_decode(enc, n, &back);
        atls_tpm2_quote_cleanup(&back);
        not_decode += !is_decode(e);
    }
    CHECK(not_decode == 0);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, enc, len);
    longer[len] = 0xf6;
    CHECK_ERR(atls_tpm2_quote_decode(longer, len + 1, &back), ATLS_ERR_DECODE_TRAILING);
    atls_tpm2_quote_cleanup(&back);
    free(longer);
    static const uint8_t unknown[] = {0xa1, 0x61, 'x', 0x40};
    CHECK_ERR(atls_tpm2_quote_decode(unknown, sizeof(unknown), &back), ATLS_ERR_DECODE_VALUE);
    atls_tpm2_quote_cleanup(&back);
    static const uint8_t missing[] = {0xa1, 0x62, 'a', 'k', 0x41, 0x00};
    CHECK_ERR(atls_tpm2_quote_decode(missing, sizeof(missing), &back), ATLS_ERR_DECODE_VALUE);
    atls_tpm2_quote_cleanup(&back);
    static const uint8_t dup[] = {0xa2, 0x62, 'a', 'k', 0x41, 0x00, 0x62, 'a', 'k', 0x41, 0x00};
    CHECK_ERR(atls_tpm2_quote_decode(dup, sizeof(dup), &back), ATLS_ERR_DECODE_VALUE);
    atls_tpm2_quote_cleanup(&back);

    /* the verifier plug-in */
    const atls_verifier_ops *ops = &atls_tpm2_verifier_ops;
    CHECK(strcmp(ops->media_type, "application/vnd.atls.tpm2-quote+cbor") == 0);
    atls_verify_input in = {.challenge = ch};
    atls_evidence_result res;
    CHECK_OK(ops->verify(enc, len, &in, &res));
    CHECK(res.challenge_checked == 1 && strcmp(res.type, "tpm2") == 0 && strlen(res.key_id) == 64);
    char want_id[65];
    CHECK_OK(atls_key_id(key, want_id));
    CHECK(strcmp(res.key_id, want_id) == 0);
    const char *p23 = json_string_value(
        json_object_get(json_object_get(json_object_get(res.claims, "pcrs"), "sha256"), "23"));
    CHECK(p23 != NULL && strlen(p23) == 64 && strncmp(p23, "1717", 4) == 0); /* fill 0 + 23 */
    CHECK(json_integer_value(json_object_get(res.claims, "clock")) == 12345);
    CHECK(json_integer_value(json_object_get(res.claims, "restart_count")) == 2);
    CHECK(strcmp(json_string_value(json_object_get(res.claims, "firmware_version")),
                 "2019102300163636") == 0);
    CHECK(strcmp(json_string_value(json_object_get(res.claims, "ak_hierarchy")), "endorsement") ==
          0);
    atls_evidence_result bad;
    ch[0] ^= 1;
    CHECK_ERR(ops->verify(enc, len, &in, &bad), ATLS_ERR_EVIDENCE_NONCE);
    CHECK(bad.claims == NULL);
    ch[0] ^= 1;
    CHECK_ERR(ops->verify(enc, len - 1, &in, &bad), ATLS_ERR_DECODE_TRUNCATED);

    /* appraisal */
    json_t *pol = NULL;
    CHECK_OK(ops->policy_from_result(&res, &pol));
    CHECK_OK(ops->check_policy(pol));
    atls_trust_vector tv = {0};
    CHECK_OK(ops->appraise(pol, &res, &tv));
    CHECK(tv.instance_identity == 2 && tv.executables == 2 && tv.configuration == 2);
    json_t *allowed23 = json_object_get(json_object_get(json_object_get(pol, "pcrs"), "sha256"),
                                        "23");
    json_array_set_new(allowed23, 0, json_string("00000000000000000000000000000000000000000000"
                                                 "00000000000000000000"));
    memset(&tv, 0, sizeof(tv));
    CHECK_ERR(ops->appraise(pol, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
    CHECK(strstr(atls_error_message(), "sha256:23") != NULL);
    CHECK(tv.executables == 96);
    json_array_append_new(allowed23, json_string(p23)); /* a second allowed value */
    CHECK_OK(ops->appraise(pol, &res, &tv));
    json_array_set_new(json_object_get(pol, "ak_keys"), 0,
                       json_string("00000000000000000000000000000000000000000000"
                                   "00000000000000000000"));
    memset(&tv, 0, sizeof(tv));
    CHECK_ERR(ops->appraise(pol, &res, &tv), ATLS_ERR_POLICY_UNTRUSTED_KEY);
    CHECK(tv.instance_identity == 97);
    json_object_set_new(pol, "ak_any", json_true());
    CHECK_OK(ops->appraise(pol, &res, &tv));
    json_object_set_new(pol, "require_challenge", json_true());
    CHECK_OK(ops->appraise(pol, &res, &tv));
    res.challenge_checked = 0;
    CHECK_ERR(ops->appraise(pol, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
    json_decref(pol);

    const char *bad_policies[] = {
        "{\"ak_any\": true, \"extra\": 1}",
        "{\"pcrs\": {}}",
        "{\"ak_any\": 1}",
        "{\"ak_keys\": [\"zz\"]}",
        "{\"ak_keys\": [\"00\"]}",
        "{\"ak_any\": true, \"pcrs\": {\"md5\": {}}}",
        "{\"ak_any\": true, \"pcrs\": {\"sha256\": {\"07\": []}}}",
        "{\"ak_any\": true, \"pcrs\": {\"sha256\": {\"32\": []}}}",
        "{\"ak_any\": true, \"pcrs\": {\"sha256\": {\"1\": [\"00\"]}}}",
        "{\"ak_any\": true, \"pcrs\": {\"sha256\": []}}",
        "{\"ak_any\": true}",
        "{\"ak_any\": true, \"any_pcrs\": true, \"pcrs\": {}}",
        "{\"ak_any\": true, \"any_pcrs\": 1}",
        "[]",
        NULL};
    for (int i = 0; bad_policies[i] != NULL; i++) {
        json_t *bp = json_loads(bad_policies[i], 0, NULL);
        CHECK(bp != NULL);
        CHECK_ERR(ops->check_policy(bp), ATLS_ERR_POLICY_INVALID);
        json_decref(bp);
    }
    json_t *any = json_loads("{\"ak_any\": true, \"any_pcrs\": true}", 0, NULL);
    memset(&tv, 0, sizeof(tv));
    CHECK_OK(ops->appraise(any, &res, &tv));
    CHECK(tv.instance_identity == 32); /* ak_any: accepted, a warning, never affirmed */
    CHECK(tv.executables == 33);       /* any_pcrs: software not recognised (warning) */
    json_decref(any);

    atls_evidence_result_cleanup(&res);
    free(enc);
    atls_tpm2_quote_cleanup(&q);
    EVP_PKEY_free(key);
}

/* no argument: software-made quotes and limits; "shared": the shared TPM samples
 * (test_tpm2_parse_shared) */
int main(int argc, char **argv)
{
    if (test_shared_mode(argc, argv)) {
        vec_dir = test_shared_vectors("tpm/quote_attest.bin");
        test_shared_tpm2_quote();
        test_shared_esys_quote();
        return check_summary();
    }
    test_cbor_and_ops();
    test_selection_parse();
    test_attest_limits();
    test_public_limits();
    test_fake_checks();
    test_ak_cert();
    return check_summary();
}
