/* fuzz_key.h: a fixed P-256 key shared by the fuzz targets and fuzz/make_seeds.c, so seeds
 * signed with it verify inside the targets (mutations that keep the signed bytes keep a valid
 * signature, letting the fuzzer reach the code after the signature check without any bypass).
 * A throwaway key generated for this purpose; it protects nothing. */
#ifndef ATLS_FUZZ_KEY_H
#define ATLS_FUZZ_KEY_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static const char fuzz_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFrgyDbPtMCNCB9vS\n"
    "XyL9tZjVDTPp6lIPxyQIct3UnmqhRANCAAQr47t8W73L/a+2Mt62z/QfQ3HQNVmA\n"
    "cjJ6hNRcW5lsRnboGtpPGBgBdkt4LQDrgddZpQ8JveRDozQ6fZ1NExBR\n"
    "-----END PRIVATE KEY-----\n";

/* fuzz_key_load returns a new reference to the fixed key (caller frees), NULL on failure. */
static inline EVP_PKEY *fuzz_key_load(void)
{
    BIO *b = BIO_new_mem_buf(fuzz_key_pem, -1);
    EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

#endif /* ATLS_FUZZ_KEY_H */
