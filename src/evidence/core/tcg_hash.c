/* tcg_hash.c: the TCG hash algorithm table (tcg_hash.h). */
#include "evidence/core/tcg_hash.h"

#include <string.h>

static const struct {
    uint16_t alg;
    const char *name;
    size_t size;
} hashes[] = {
    {ATLS_TCG_ALG_SHA1, "sha1", 20},
    {ATLS_TCG_ALG_SHA256, "sha256", 32},
    {ATLS_TCG_ALG_SHA384, "sha384", 48},
    {ATLS_TCG_ALG_SHA512, "sha512", 64},
};

#define NUM_HASHES (sizeof(hashes) / sizeof(hashes[0]))

size_t atls_tcg_hash_size(uint16_t alg)
{
    for (size_t i = 0; i < NUM_HASHES; i++) {
        if (hashes[i].alg == alg) {
            return hashes[i].size;
        }
    }
    return 0;
}

const char *atls_tcg_hash_name(uint16_t alg)
{
    for (size_t i = 0; i < NUM_HASHES; i++) {
        if (hashes[i].alg == alg) {
            return hashes[i].name;
        }
    }
    return NULL;
}

uint16_t atls_tcg_hash_by_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < NUM_HASHES; i++) {
        if (strcmp(hashes[i].name, name) == 0) {
            return hashes[i].alg;
        }
    }
    return 0;
}

const EVP_MD *atls_tcg_hash_md(uint16_t alg)
{
    switch (alg) {
    case ATLS_TCG_ALG_SHA1:
        return EVP_sha1();
    case ATLS_TCG_ALG_SHA256:
        return EVP_sha256();
    case ATLS_TCG_ALG_SHA384:
        return EVP_sha384();
    case ATLS_TCG_ALG_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}
