/*
 * cca/cca.h: Arm CCA attestation tokens (RMM specification DEN0137, section A7 "Realm
 * attestation"; draft-ffm-rats-cca-token; evidence-formats.md section 4) and the "cca" verifier
 * plug-in.
 *
 *   399({ 44234: bstr .cbor COSE_Sign1_Tagged  (platform token, signed by the CPAK / IAK),
 *         44241: bstr .cbor COSE_Sign1_Tagged  (realm token, signed by the RAK) })
 *
 * Media type: ATLS_CCA_MEDIA_TYPE (Veraison's name for this collection); the CMW record value is
 * the tag-399 token exactly (no trailing bytes). The platform key comes from
 * atls_verify_input.trusted_keys (or the public keys of atls_verify_input.trust_anchors): CCA
 * carries no certificate chain.
 */
#ifndef ATLS_CCA_CCA_H
#define ATLS_CCA_CCA_H

#include "base/cursor.h"
#include "codec/cose/cose.h"
#include "evidence/core/plugin.h"

#include <atls/error.h>

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATLS_CCA_MEDIA_TYPE "application/eat-collection; profile=\"http://arm.com/CCA-SSD/1.0.0\""

/* CBOR tag of the collection and its two members (RMM A7.2.3.1). */
#define ATLS_CCA_TAG 399
#define ATLS_CCA_KEY_PLATFORM 44234
#define ATLS_CCA_KEY_REALM 44241

/* Realm claims (RMM A7.2.3.2). */
#define ATLS_CCA_REALM_CHALLENGE 10
#define ATLS_CCA_REALM_PROFILE 265
#define ATLS_CCA_REALM_PERSONALIZATION 44235
#define ATLS_CCA_REALM_HASH_ALGO 44236
#define ATLS_CCA_REALM_PUBLIC_KEY 44237
#define ATLS_CCA_REALM_RIM 44238
#define ATLS_CCA_REALM_REM 44239
#define ATLS_CCA_REALM_PUBKEY_HASH_ALGO 44240

/* Platform claims (RMM A7.2.3.3; PSA attestation token claim keys). */
#define ATLS_CCA_PLAT_PROFILE 265
#define ATLS_CCA_PLAT_CHALLENGE 10
#define ATLS_CCA_PLAT_INSTANCE_ID 256
#define ATLS_CCA_PLAT_LIFECYCLE 2395
#define ATLS_CCA_PLAT_IMPLEMENTATION_ID 2396
#define ATLS_CCA_PLAT_SW_COMPONENTS 2399
#define ATLS_CCA_PLAT_VERIFICATION_SERVICE 2400
#define ATLS_CCA_PLAT_CONFIG 2401
#define ATLS_CCA_PLAT_HASH_ALGO 2402

/* Software component map keys. */
#define ATLS_CCA_SW_TYPE 1
#define ATLS_CCA_SW_MEASUREMENT 2
#define ATLS_CCA_SW_VERSION 4
#define ATLS_CCA_SW_SIGNER_ID 5
#define ATLS_CCA_SW_HASH_ALGO 6

/* Profiles. The realm token of the legacy profile has no profile claim and carries the RAK as
 * a raw SEC1 point; the 2023 realm profile carries it as a COSE_Key inside the bstr. */
#define ATLS_CCA_PROFILE_LEGACY "http://arm.com/CCA-SSD/1.0.0"
#define ATLS_CCA_PROFILE_PLATFORM_2023 "tag:arm.com,2023:cca_platform#1.0.0"
#define ATLS_CCA_PROFILE_REALM_2023 "tag:arm.com,2023:realm#1.0.0"

#define ATLS_CCA_MAX_TOKEN (64u * 1024u)
#define ATLS_CCA_MAX_SW_COMPONENTS 32
#define ATLS_CCA_MAX_TEXT 256       /* hash algorithm names, versions, types, service URL */
#define ATLS_CCA_MAX_CONFIG 1024    /* platform config claim */
#define ATLS_CCA_REALM_CHALLENGE_LEN 64
#define ATLS_CCA_PERSONALIZATION_LEN 64

/* One software component; views borrow the token. */
typedef struct atls_cca_sw_component {
    bool has_type, has_version, has_hash_algo;
    atls_cursor type, measurement, version, signer_id, hash_algo;
} atls_cca_sw_component;

/* A parsed token: the two COSE_Sign1 messages and every claim, as views into the input. */
typedef struct atls_cca_token {
    atls_cursor platform_cose, realm_cose;  /* the tagged COSE_Sign1 bytes */
    atls_cose_sign1 platform_msg, realm_msg;
    /* realm */
    bool realm_has_profile;
    atls_cursor realm_profile, realm_challenge, personalization, realm_hash_algo;
    atls_cursor rak, rak_hash_algo, rim, rem[4];
    bool rak_is_cose_key;
    /* platform */
    atls_cursor platform_profile, platform_challenge, implementation_id, instance_id;
    atls_cursor config, platform_hash_algo;
    bool has_verification_service;
    atls_cursor verification_service;
    uint64_t lifecycle;
    size_t num_sw;
    atls_cca_sw_component sw[ATLS_CCA_MAX_SW_COMPONENTS];
} atls_cca_token;

/* atls_cca_token_parse decodes a whole tag-399 token of |len| bytes (no trailing bytes) and
 * both claim sets, without checking any signature. |out| (caller storage, about 2 KiB) borrows
 * |data|. Shape errors: ATLS_ERR_DECODE_*; a wrong tag, profile or claim value:
 * ATLS_ERR_EVIDENCE_FORMAT naming the claim. */
ATLS_MUST_CHECK atls_error atls_cca_token_parse(const uint8_t *data, size_t len,
                                                atls_cca_token *out);

/* atls_cca_hash_by_name maps a hash algorithm name of the IANA "Named Information Hash
 * Algorithm" registry ("sha-256", "sha-384", "sha-512") to an OpenSSL digest (static), or NULL. */
const EVP_MD *atls_cca_hash_by_name(const atls_cursor *name);

/* The "cca" verifier plug-in (media type ATLS_CCA_MEDIA_TYPE, policy section "cca"). */
extern const atls_verifier_ops atls_cca_verifier_ops;

#endif /* ATLS_CCA_CCA_H */
