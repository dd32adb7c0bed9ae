/* intra_identity.c: INSECURE baseline, the RA-only emulation's throw-away TLS identity.
 *
 * -08 section 6.1 carries Evidence *instead of* a certificate (certificate_type "attestation"),
 * which OpenSSL 3.0 cannot negotiate (no RFC 7250 before 3.2, and no new certificate types at
 * all). The emulation wraps the TLS Identity Key in a self-signed certificate that names
 * nothing; the client never checks it, so the Evidence alone authenticates the server, as in
 * the draft. */
#include "tls/intra/intra_internal.h"

#include "base/result.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

atls_error atls_intra_insecure_throwaway_new(EVP_PKEY **key_out, X509 **cert_out)
{
    ATLS_ENSURE(key_out != NULL && cert_out != NULL, ATLS_ERR_USAGE, "intra: no output");
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    unsigned char sn[16];
    BIGNUM *bn = NULL;
    int ok = key != NULL && x != NULL && name != NULL && serial != NULL &&
             RAND_bytes(sn, sizeof(sn)) == 1;
    if (ok) {
        sn[0] &= 0x7f; /* a positive serial */
        bn = BN_bin2bn(sn, sizeof(sn), NULL);
    }
    ok = ok && bn != NULL && BN_to_ASN1_INTEGER(bn, serial) != NULL &&
         X509_set_serialNumber(x, serial) == 1 && X509_set_version(x, 2) == 1 &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)"atls intra INSECURE throw-away", -1,
                                    -1, 0) == 1 &&
         X509_set_subject_name(x, name) == 1 && X509_set_issuer_name(x, name) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(x), 24L * 3600) != NULL &&
         X509_set_pubkey(x, key) == 1 && X509_sign(x, key, EVP_sha256()) > 0;
    BN_free(bn);
    ASN1_INTEGER_free(serial);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        EVP_PKEY_free(key);
        ATLS_RAISE(ATLS_ERR_CRYPTO, "intra: cannot make the throw-away certificate");
    }
    *key_out = key;
    *cert_out = x;
    return ATLS_OK;
}
