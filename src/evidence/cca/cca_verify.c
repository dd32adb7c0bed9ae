/* cca_verify.c: verification of a CCA token (cca.h): realm signature by the RAK, platform
 * signature by a configured CPAK/IAK, the realm-to-platform binding and the challenge, in the
 * order of evidence-formats.md section 4. */
#include "evidence/cca/cca_internal.h"

#include "base/result.h"
#include "codec/cose/cose.h"
#include "evidence/core/claims.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rak_pkey builds the Realm Attestation Key from claim 44237: a COSE_Key (2023 realm profile)
 * or a raw SEC1 uncompressed point (legacy profile; P-384 in the RMM, P-256/P-521 accepted). */
ATLS_MUST_CHECK static atls_error rak_pkey(const atls_cca_token *t, EVP_PKEY **out)
{
    const uint8_t *p = atls_cursor_data(&t->rak);
    size_t n = atls_cursor_remaining(&t->rak);
    atls_error rc;
    if (t->rak_is_cose_key) {
        rc = atls_cose_key_to_pkey(p, n, out);
    } else {
        int64_t crv = n == 65 ? ATLS_COSE_CRV_P256 : n == 97 ? ATLS_COSE_CRV_P384
                                                   : n == 133 ? ATLS_COSE_CRV_P521 : 0;
        ATLS_ENSURE(crv != 0 && p[0] == 0x04, ATLS_ERR_EVIDENCE_FORMAT,
                    "CCA: realm public key (44237) is not an uncompressed P-256/384/521 point");
        rc = atls_cose_ec_point_to_pkey(crv, p, n, out);
    }
    if (rc != ATLS_OK) {
        char inner[200];
        snprintf(inner, sizeof(inner), "%s", atls_error_message());
        ATLS_RAISE(ATLS_ERR_EVIDENCE_FORMAT, "CCA: realm public key (44237) (%s): %s",
                   t->rak_is_cose_key ? "COSE_Key" : "SEC1 point", inner);
    }
    return ATLS_OK;
}

/* try_platform_key: ATLS_OK when |key| verifies the platform token. */
static int platform_key_verifies(const atls_cca_token *t, EVP_PKEY *key)
{
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        return 0;
    }
    atls_error rc = atls_cose_sign1_verify(&t->platform_msg, key, NULL, 0);
    atls_error_clear();
    return rc == ATLS_OK;
}

/* find_cpak returns (borrowed) the configured key that signed the platform token. Keys come
 * from in->trusted_keys and from the certificates in in->trust_anchors. */
ATLS_MUST_CHECK static atls_error find_cpak(const atls_cca_token *t, const atls_verify_input *in,
                                            EVP_PKEY **cpak)
{
    size_t candidates = 0;
    *cpak = NULL;
    for (size_t i = 0; in != NULL && i < in->num_trusted_keys; i++) {
        candidates++;
        if (platform_key_verifies(t, in->trusted_keys[i])) {
            *cpak = in->trusted_keys[i];
            return ATLS_OK;
        }
    }
    int n = in != NULL && in->trust_anchors != NULL ? sk_X509_num(in->trust_anchors) : 0;
    for (int i = 0; i < n; i++) {
        EVP_PKEY *k = X509_get0_pubkey(sk_X509_value(in->trust_anchors, i));
        candidates++;
        if (platform_key_verifies(t, k)) {
            *cpak = k;
            return ATLS_OK;
        }
    }
    ATLS_ENSURE(candidates > 0, ATLS_ERR_EVIDENCE_CHAIN,
                "CCA: no platform attestation key (CPAK/IAK) is configured");
    ATLS_RAISE(ATLS_ERR_EVIDENCE_SIGNATURE,
               "CCA: the platform token signature does not verify with any configured CPAK/IAK");
}

static atls_error cca_verify(const uint8_t *evidence, size_t len, const atls_verify_input *in,
                             atls_evidence_result *out)
{
    memset(out, 0, sizeof(*out));
    atls_cca_token *t = calloc(1, sizeof(*t));
    ATLS_ENSURE(t != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    EVP_PKEY *rak = NULL;
    EVP_PKEY *cpak = NULL;
    atls_error rc;
    ATLS_GUARD_GOTO(rc, done, atls_cca_token_parse(evidence, len, t));

    /* (1) + (2): the realm token is signed by the RAK it carries. */
    ATLS_GUARD_GOTO(rc, done, rak_pkey(t, &rak));
    if (atls_cose_sign1_verify(&t->realm_msg, rak, NULL, 0) != ATLS_OK) {
        char inner[200];
        snprintf(inner, sizeof(inner), "%s", atls_error_message());
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_SIGNATURE,
                       "CCA: the realm token signature does not verify with its RAK (%s)", inner);
    }
    /* (3): the platform token is signed by a configured CPAK/IAK. */
    ATLS_GUARD_GOTO(rc, done, find_cpak(t, in, &cpak));

    /* (4): platform challenge = H(RAK bytes as carried), H from realm claim 44240
     * (RMM A7.2.3.3.2: the binding of the realm token to the platform token). */
    const EVP_MD *md = atls_cca_hash_by_name(&t->rak_hash_algo);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (md == NULL || EVP_Digest(atls_cursor_data(&t->rak), atls_cursor_remaining(&t->rak),
                                 digest, &dlen, md, NULL) != 1) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO, "CCA: hashing the realm public key failed");
    }
    if (atls_cursor_remaining(&t->platform_challenge) != dlen ||
        CRYPTO_memcmp(atls_cursor_data(&t->platform_challenge), digest, dlen) != 0) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_NONCE,
                       "CCA: platform challenge (10) is not the hash of the realm public key");
    }
    /* (5): realm challenge = the attestation challenge (atls/binding.h). */
    if (in != NULL && in->challenge != NULL) {
        if (CRYPTO_memcmp(atls_cursor_data(&t->realm_challenge), in->challenge,
                          ATLS_CHALLENGE_LEN) != 0) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_NONCE,
                           "CCA: realm challenge (10) is not the challenge of this connection "
                           "and request");
        }
        out->challenge_checked = 1;
    }
    ATLS_GUARD_GOTO(rc, done, atls_key_id(cpak, out->key_id));
    out->type = "cca";
    /* The platform key is an endorsement the relying party configured. */
    out->tv.hardware = 2;
    out->tv.instance_identity = 2;
    ATLS_GUARD_GOTO(rc, done, atls_cca_claims(t, out->key_id, &out->claims));
    rc = ATLS_OK;
done:
    EVP_PKEY_free(rak);
    free(t);
    if (rc != ATLS_OK) {
        atls_evidence_result_cleanup(out);
    }
    return rc;
}

const atls_verifier_ops atls_cca_verifier_ops = {
    .name = "cca",
    .media_type = ATLS_CCA_MEDIA_TYPE,
    .verify = cca_verify,
    .appraise = atls_cca_appraise,
    .check_policy = atls_cca_check_policy,
    .policy_from_result = atls_cca_policy_from_result,
};
