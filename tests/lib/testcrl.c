/* testcrl.c: see testcrl.h. Test-only. */
#include "testcrl.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>

X509_CRL *testcrl_new(X509 *issuer, EVP_PKEY *key, int pss, time_t this_update,
                      time_t next_update, X509 *const *revoked)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t1 = ASN1_TIME_set(NULL, this_update), *t2 = ASN1_TIME_set(NULL, next_update);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = crl != NULL && t1 != NULL && t2 != NULL && md != NULL &&
             X509_CRL_set_version(crl, 1) == 1 &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1 &&
             X509_CRL_set1_lastUpdate(crl, t1) == 1 && X509_CRL_set1_nextUpdate(crl, t2) == 1;
    for (size_t i = 0; ok && revoked != NULL && revoked[i] != NULL; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ok = r != NULL &&
             X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)X509_get0_serialNumber(revoked[i])) ==
                 1 &&
             X509_REVOKED_set_revocationDate(r, t1) == 1 && X509_CRL_add0_revoked(crl, r) == 1;
        if (!ok) {
            X509_REVOKED_free(r);
        }
    }
    ok = ok && X509_CRL_sort(crl) == 1 &&
         EVP_DigestSignInit(md, &pctx, pss ? EVP_sha384() : EVP_sha256(), NULL, key) == 1;
    if (ok && pss) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1;
    }
    ok = ok && X509_CRL_sign_ctx(crl, md) > 0;
    EVP_MD_CTX_free(md);
    ASN1_TIME_free(t1);
    ASN1_TIME_free(t2);
    if (!ok) {
        X509_CRL_free(crl);
        return NULL;
    }
    return crl;
}

int testcrl_write_pem(X509_CRL *crl, const char *path)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        return 0;
    }
    int ok = PEM_write_X509_CRL(fp, crl) == 1;
    return fclose(fp) == 0 && ok;
}
