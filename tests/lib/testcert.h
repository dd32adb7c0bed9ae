/*
 * testcert.h: throwaway X.509 material for tests, made in memory: a P-256 test CA, leaf
 * certificates for each key type atls signs with (ECDSA P-256, P-384, RSA-2048 for RSA-PSS,
 * Ed25519) carrying a DNS subject alt name, an X509_STORE trusting the CA, and PEM files.
 * Certificates are valid from one hour ago for 30 days. Not thread-safe (RSA keys are cached
 * per process to keep tests fast).
 */
#ifndef ATLS_TESTS_TESTCERT_H
#define ATLS_TESTS_TESTCERT_H

#include <atls/error.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef enum testcert_keytype {
    TESTCERT_P256,
    TESTCERT_P384,
    TESTCERT_RSA2048,
    TESTCERT_ED25519,
} testcert_keytype;

#define TESTCERT_NUM_KEYTYPES 4

/* A certificate and its private key, both owned (testcert_free). */
typedef struct testcert {
    X509 *cert;
    EVP_PKEY *key;
} testcert;

/* testcert_keytype_name: "P-256", "P-384", "RSA-2048", "Ed25519" (static). */
const char *testcert_keytype_name(testcert_keytype type);

/* testcert_key_new: a fresh key of |type| (RSA: a new reference to a per-process cached key).
 * Caller frees with EVP_PKEY_free. */
ATLS_MUST_CHECK atls_error testcert_key_new(testcert_keytype type, EVP_PKEY **out);

/* testcert_ca_new: a self-signed P-256 CA named |cn|. Caller frees with testcert_free. */
ATLS_MUST_CHECK atls_error testcert_ca_new(const char *cn, testcert **out);

/* testcert_leaf_new: a leaf of key |type| signed by |ca| (borrowed), subject CN and SAN
 * dNSName = |dns_name|, EKU serverAuth+clientAuth. Caller frees with testcert_free. */
ATLS_MUST_CHECK atls_error testcert_leaf_new(const testcert *ca, testcert_keytype type,
                                             const char *dns_name, testcert **out);

/* testcert_leaf_new_ext: a leaf with subject CN |cn|, subjectAltName |san| (OpenSSL config
 * syntax, e.g. "DNS:a.test" or "IP:127.0.0.1") and extendedKeyUsage |eku| (e.g.
 * "codeSigning"). Caller frees with testcert_free. */
ATLS_MUST_CHECK atls_error testcert_leaf_new_ext(const testcert *ca, testcert_keytype type,
                                                 const char *cn, const char *san,
                                                 const char *eku, testcert **out);

/* testcert_leaf_for_key: like testcert_leaf_new_ext for an existing |key| (a new reference is
 * taken): another certificate for the same key. */
ATLS_MUST_CHECK atls_error testcert_leaf_for_key(const testcert *ca, EVP_PKEY *key,
                                                 const char *cn, const char *san,
                                                 const char *eku, testcert **out);

void testcert_free(testcert *tc);

/* testcert_store_new: an X509_STORE trusting |ca| only. Caller frees (X509_STORE_free). */
ATLS_MUST_CHECK atls_error testcert_store_new(const testcert *ca, X509_STORE **out);

/* testcert_write_pem writes |dir|/|name|.crt and |dir|/|name|.key (PKCS#8, mode 0600). */
ATLS_MUST_CHECK atls_error testcert_write_pem(const testcert *tc, const char *dir,
                                              const char *name);

#endif /* ATLS_TESTS_TESTCERT_H */
