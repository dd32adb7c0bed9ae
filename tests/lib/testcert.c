/* testcert.c: in-memory test CA and leaves (testcert.h). */
#include "testcert.h"

#include "base/result.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static EVP_PKEY *rsa_cache;

const char *testcert_keytype_name(testcert_keytype type)
{
    switch (type) {
    case TESTCERT_P256: return "P-256";
    case TESTCERT_P384: return "P-384";
    case TESTCERT_RSA2048: return "RSA-2048";
    case TESTCERT_ED25519: return "Ed25519";
    }
    return "?";
}

atls_error testcert_key_new(testcert_keytype type, EVP_PKEY **out)
{
    EVP_PKEY *k = NULL;
    switch (type) {
    case TESTCERT_P256: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
    case TESTCERT_P384: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"); break;
    case TESTCERT_ED25519: k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
    case TESTCERT_RSA2048:
        if (rsa_cache == NULL) {
            rsa_cache = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        }
        if (rsa_cache != NULL && EVP_PKEY_up_ref(rsa_cache) == 1) {
            k = rsa_cache;
        }
        break;
    }
    ATLS_ENSURE(k != NULL, ATLS_ERR_CRYPTO, "testcert: %s key generation failed",
                testcert_keytype_name(type));
    *out = k;
    return ATLS_OK;
}

void testcert_free(testcert *tc)
{
    if (tc == NULL) {
        return;
    }
    X509_free(tc->cert);
    EVP_PKEY_free(tc->key);
    free(tc);
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL) {
        return 0;
    }
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* make_cert builds a certificate for |key| named |cn|, signed by |issuer_key| (issuer name
 * from |issuer|, or self-signed when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       int is_ca, const char *san, const char *eku)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok = x != NULL && name != NULL && RAND_bytes(serial, sizeof(serial)) == 1;
    serial[0] &= 0x7f;
    ok = ok && X509_set_version(x, 2) == 1 &&
         (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0) == 1 &&
         X509_set_subject_name(x, name) == 1 &&
         X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600) != NULL &&
         X509_set_pubkey(x, key) == 1;
    if (ok && is_ca) {
        ok = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_ext(x, x, NID_subject_key_identifier, "hash");
    } else if (ok) {
        ok = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") &&
             add_ext(x, issuer, NID_ext_key_usage, eku) &&
             add_ext(x, issuer, NID_subject_alt_name, san) &&
             add_ext(x, issuer, NID_authority_key_identifier, "keyid");
    }
    /* Ed25519 signers take no digest */
    const EVP_MD *md = EVP_PKEY_get_id(issuer_key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
    ok = ok && X509_sign(x, issuer_key, md) > 0;
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

atls_error testcert_ca_new(const char *cn, testcert **out)
{
    testcert *tc = calloc(1, sizeof(*tc));
    ATLS_ENSURE(tc != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = testcert_key_new(TESTCERT_P256, &tc->key);
    if (rc == ATLS_OK) {
        tc->cert = make_cert(tc->key, cn, NULL, tc->key, 1, NULL, NULL);
        if (tc->cert == NULL) {
            rc = atls_error_raise_ossl(ATLS_ERR_CRYPTO, __FILE__, __LINE__,
                                       "testcert: CA certificate failed");
        }
    }
    if (rc != ATLS_OK) {
        testcert_free(tc);
        return rc;
    }
    *out = tc;
    return ATLS_OK;
}

atls_error testcert_leaf_new(const testcert *ca, testcert_keytype type, const char *dns_name,
                             testcert **out)
{
    char san[300];
    snprintf(san, sizeof(san), "DNS:%s", dns_name);
    return testcert_leaf_new_ext(ca, type, dns_name, san, "serverAuth,clientAuth", out);
}

atls_error testcert_leaf_new_ext(const testcert *ca, testcert_keytype type, const char *cn,
                                 const char *san, const char *eku, testcert **out)
{
    testcert *tc = calloc(1, sizeof(*tc));
    ATLS_ENSURE(tc != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = testcert_key_new(type, &tc->key);
    if (rc == ATLS_OK) {
        tc->cert = make_cert(tc->key, cn, ca->cert, ca->key, 0, san, eku);
        if (tc->cert == NULL) {
            rc = atls_error_raise_ossl(ATLS_ERR_CRYPTO, __FILE__, __LINE__,
                                       "testcert: leaf certificate failed");
        }
    }
    if (rc != ATLS_OK) {
        testcert_free(tc);
        return rc;
    }
    *out = tc;
    return ATLS_OK;
}

atls_error testcert_leaf_for_key(const testcert *ca, EVP_PKEY *key, const char *cn,
                                 const char *san, const char *eku, testcert **out)
{
    testcert *tc = calloc(1, sizeof(*tc));
    ATLS_ENSURE(tc != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    if (EVP_PKEY_up_ref(key) != 1) {
        free(tc);
        ATLS_RAISE(ATLS_ERR_CRYPTO, "testcert: EVP_PKEY_up_ref failed");
    }
    tc->key = key;
    tc->cert = make_cert(tc->key, cn, ca->cert, ca->key, 0, san, eku);
    if (tc->cert == NULL) {
        testcert_free(tc);
        return atls_error_raise_ossl(ATLS_ERR_CRYPTO, __FILE__, __LINE__,
                                     "testcert: leaf certificate failed");
    }
    *out = tc;
    return ATLS_OK;
}

atls_error testcert_store_new(const testcert *ca, X509_STORE **out)
{
    X509_STORE *st = X509_STORE_new();
    ATLS_ENSURE(st != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    if (X509_STORE_add_cert(st, ca->cert) != 1) {
        X509_STORE_free(st);
        ATLS_RAISE(ATLS_ERR_CRYPTO, "testcert: X509_STORE_add_cert failed");
    }
    *out = st;
    return ATLS_OK;
}

atls_error testcert_write_pem(const testcert *tc, const char *dir, const char *name)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s.crt", dir, name);
    f = fopen(path, "w");
    ATLS_ENSURE(f != NULL, ATLS_ERR_IO_FILE, "testcert: cannot write %s", path);
    int ok = PEM_write_X509(f, tc->cert);
    ok = fclose(f) == 0 && ok;
    ATLS_ENSURE(ok, ATLS_ERR_IO_FILE, "testcert: writing %s failed", path);
    snprintf(path, sizeof(path), "%s/%s.key", dir, name);
    f = fopen(path, "w");
    ATLS_ENSURE(f != NULL, ATLS_ERR_IO_FILE, "testcert: cannot write %s", path);
    (void)chmod(path, 0600);
    ok = PEM_write_PrivateKey(f, tc->key, NULL, NULL, 0, NULL, NULL);
    ok = fclose(f) == 0 && ok;
    ATLS_ENSURE(ok, ATLS_ERR_IO_FILE, "testcert: writing %s failed", path);
    return ATLS_OK;
}
