/*
 * testcrl.h: throwaway X.509 CRLs for tests (revocation checks of the TDX, SNP and TPM
 * verifiers), made in memory by the issuing test CA. Not thread-safe; nothing here is Intel's
 * or AMD's.
 */
#ifndef ATLS_TESTS_TESTCRL_H
#define ATLS_TESTS_TESTCRL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <time.h>

/* testcrl_new: a v2 CRL issued by |issuer| and signed with |key| (ECDSA/SHA-256, or RSASSA-PSS
 * SHA-384 / MGF1-SHA-384 / salt 48 as AMD signs when |pss|), thisUpdate |this_update|,
 * nextUpdate |next_update|, listing the serial numbers of the certificates in the
 * NULL-terminated |revoked| (may be NULL: an empty CRL). Caller frees (X509_CRL_free); NULL on
 * failure. */
X509_CRL *testcrl_new(X509 *issuer, EVP_PKEY *key, int pss, time_t this_update,
                      time_t next_update, X509 *const *revoked);

/* testcrl_write_pem writes |crl| as PEM to |path|; 1 on success. */
int testcrl_write_pem(X509_CRL *crl, const char *path);

#endif /* ATLS_TESTS_TESTCRL_H */
