/* challenge.c: domain-separated challenges (atls/challenge.h). */
#include <atls/challenge.h>

#include "base/mem.h"
#include "base/result.h"
#include "evidence/core/plugin.h"

#include <openssl/evp.h>
#include <string.h>

static const char *label_of(atls_challenge_domain d)
{
    switch (d) {
    case ATLS_CHALLENGE_SERVER_EVIDENCE:
        return ATLS_CHALLENGE_LABEL_SERVER;
    case ATLS_CHALLENGE_CLIENT_EVIDENCE:
        return ATLS_CHALLENGE_LABEL_CLIENT;
    case ATLS_CHALLENGE_DETACHED:
        return ATLS_CHALLENGE_LABEL_DETACHED;
    case ATLS_CHALLENGE_BATCH:
        return ATLS_CHALLENGE_LABEL_BATCH;
    }
    return NULL;
}

atls_error atls_challenge_derive(atls_challenge_domain domain, const uint8_t *a, size_t a_len,
                                 const uint8_t *b, size_t b_len, uint8_t out[ATLS_CHALLENGE_LEN])
{
    const char *label = label_of(domain);
    ATLS_ENSURE(label != NULL, ATLS_ERR_USAGE, "challenge: unknown domain %d", (int)domain);
    ATLS_ENSURE((a != NULL || a_len == 0) && (b != NULL || b_len == 0) && out != NULL,
                ATLS_ERR_USAGE, "challenge: NULL input");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    /* the label with its terminating 0x00: no label is a prefix of another input */
    int ok = EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, label, strlen(label) + 1) == 1 &&
             (a_len == 0 || EVP_DigestUpdate(ctx, a, a_len) == 1) &&
             (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len) == 1) &&
             EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    ATLS_ENSURE(ok, ATLS_ERR_CRYPTO, "challenge: SHA-512 failed");
    return ATLS_OK;
}

atls_error atls_challenge_detached(const uint8_t *in, size_t len, uint8_t out[ATLS_CHALLENGE_LEN])
{
    ATLS_ENSURE(in != NULL && len > 0 && len <= ATLS_CHALLENGE_DETACHED_MAX, ATLS_ERR_USAGE,
                "challenge: a detached challenge is 1..%d bytes (got %zu)",
                ATLS_CHALLENGE_DETACHED_MAX, len);
    return atls_challenge_derive(ATLS_CHALLENGE_DETACHED, in, len, NULL, 0, out);
}

atls_error atls_attester_produce_detached(const atls_attester_ops *ops, void *state,
                                          const uint8_t *in, size_t len, uint8_t **out,
                                          size_t *out_len)
{
    ATLS_ENSURE(ops != NULL && out != NULL && out_len != NULL, ATLS_ERR_USAGE,
                "atls_attester_produce_detached: NULL argument");
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    ATLS_GUARD(atls_challenge_detached(in, len, challenge));
    atls_error rc = ops->produce(state, challenge, out, out_len);
    atls_wipe(challenge, sizeof(challenge));
    return rc;
}
