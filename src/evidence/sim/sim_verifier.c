/* sim_verifier.c: verification and appraisal of sim Evidence (sim.h). */
#include "evidence/sim/sim.h"

#include "base/hex.h"
#include "base/result.h"
#include "codec/cbor/cbor.h"
#include "codec/cose/cose.h"
#include "evidence/core/claims.h"
#include "evidence/core/verify_cache.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_claims {
    atls_cursor nonce, profile, point;
    int64_t iat;
    int have_nonce, have_iat, have_profile, have_point, have_measurements;
    atls_cursor measurements; /* the encoded map, walked again when building JSON */
};

/* Keys built from the EAT's point, by the point (docs/EVIDENCE.md "Caches"): the same for every
 * Evidence of an attester, and building one through the provider key management costs as much
 * as the signature check. Only keys that were built (a valid P-256 point) are stored. */
ATLS_VCACHE_DEFINE(key_cache, 8, &atls_vcache_pkey_ops);

static atls_error signing_key(const atls_cursor *point, EVP_PKEY **out)
{
    uint8_t id[ATLS_VCACHE_KEY_LEN];
    atls_vcache_hash h;
    void *hit = NULL;
    atls_vcache_hash_init(&h, "sim signing key point");
    atls_vcache_hash_bytes(&h, atls_cursor_data(point), atls_cursor_remaining(point));
    int have_id = atls_vcache_hash_final(&h, id);
    if (have_id && atls_vcache_lookup(&key_cache, id, 0, &hit)) {
        *out = hit;
        return ATLS_OK;
    }
    ATLS_GUARD(atls_cose_ec_point_to_pkey(ATLS_COSE_CRV_P256, atls_cursor_data(point),
                                          atls_cursor_remaining(point), out));
    if (have_id) {
        atls_vcache_store(&key_cache, id, NULL, *out);
    }
    return ATLS_OK;
}

static atls_error parse_claims(const atls_cursor *payload, struct sim_claims *out)
{
    atls_cursor c = *payload;
    atls_cbor_map_iter it;
    memset(out, 0, sizeof(*out));
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_int(&k, ATLS_SIM_CLAIM_NONCE)) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &out->nonce));
            out->have_nonce = 1;
        } else if (atls_cbor_key_is_int(&k, ATLS_SIM_CLAIM_IAT)) {
            ATLS_GUARD(atls_cbor_read_int64(&c, &out->iat));
            out->have_iat = 1;
        } else if (atls_cbor_key_is_int(&k, ATLS_SIM_CLAIM_PROFILE)) {
            ATLS_GUARD(atls_cbor_read_tstr(&c, &out->profile));
            out->have_profile = 1;
        } else if (atls_cbor_key_is_int(&k, ATLS_SIM_CLAIM_MEASUREMENTS)) {
            ATLS_GUARD(atls_cbor_get_item_bytes(&c, &out->measurements));
            out->have_measurements = 1;
        } else if (atls_cbor_key_is_int(&k, ATLS_SIM_CLAIM_KEY)) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &out->point));
            out->have_point = 1;
        } else {
            ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "sim: unknown claim in the EAT");
        }
    }
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "sim: bytes after the claims map");
    ATLS_ENSURE(out->have_nonce && out->have_iat && out->have_profile && out->have_point &&
                    out->have_measurements,
                ATLS_ERR_DECODE_VALUE, "sim: a required claim is missing");
    ATLS_ENSURE(atls_cbor_tstr_equals(&out->profile, ATLS_SIM_PROFILE), ATLS_ERR_EVIDENCE_FORMAT,
                "sim: eat_profile is not %s", ATLS_SIM_PROFILE);
    ATLS_ENSURE(atls_cursor_remaining(&out->nonce) == ATLS_CHALLENGE_LEN, ATLS_ERR_DECODE_LENGTH,
                "sim: eat_nonce must be %d bytes", ATLS_CHALLENGE_LEN);
    return ATLS_OK;
}

/* measurements_json walks { tstr => bstr } into a JSON object of hex strings. */
static atls_error measurements_json(const atls_cursor *enc, json_t *obj)
{
    atls_cursor c = *enc;
    atls_cbor_map_iter it;
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    ATLS_ENSURE(it.count <= ATLS_SIM_MAX_MEASUREMENTS, ATLS_ERR_DECODE_TOO_LARGE,
                "sim: more than %d measurements", ATLS_SIM_MAX_MEASUREMENTS);
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        atls_cursor digest;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        ATLS_ENSURE(k.is_text && atls_cursor_remaining(&k.text) > 0 &&
                        atls_cursor_remaining(&k.text) <= ATLS_SIM_MAX_NAME,
                    ATLS_ERR_DECODE_VALUE, "sim: measurement names must be 1..%d byte text",
                    ATLS_SIM_MAX_NAME);
        ATLS_GUARD(atls_cbor_read_bstr(&c, &digest));
        size_t dl = atls_cursor_remaining(&digest);
        ATLS_ENSURE(dl == 32 || dl == 48 || dl == 64, ATLS_ERR_DECODE_LENGTH,
                    "sim: a measurement digest must be 32, 48 or 64 bytes");
        char name[ATLS_SIM_MAX_NAME + 1];
        memcpy(name, atls_cursor_data(&k.text), atls_cursor_remaining(&k.text));
        name[atls_cursor_remaining(&k.text)] = '\0';
        ATLS_ENSURE(strlen(name) == atls_cursor_remaining(&k.text), ATLS_ERR_DECODE_VALUE,
                    "sim: measurement name contains NUL");
        ATLS_GUARD(atls_claims_set_hex(obj, name, atls_cursor_data(&digest), dl));
    }
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "sim: bytes after the measurements");
    return ATLS_OK;
}

static atls_error sim_verify(const uint8_t *evidence, size_t len, const atls_verify_input *in,
                             atls_evidence_result *out)
{
    ATLS_ENSURE(len <= ATLS_SIM_MAX_EVIDENCE, ATLS_ERR_DECODE_TOO_LARGE,
                "sim: Evidence larger than %u bytes", ATLS_SIM_MAX_EVIDENCE);
    atls_cose_sign1 msg;
    ATLS_GUARD(atls_cose_sign1_parse(evidence, len, 0, &msg));
    ATLS_ENSURE(msg.alg == ATLS_COSE_ALG_ES256, ATLS_ERR_EVIDENCE_FORMAT,
                "sim: the EAT must be signed with ES256");
    struct sim_claims cl;
    ATLS_GUARD(parse_claims(&msg.payload, &cl));

    EVP_PKEY *key = NULL;
    ATLS_GUARD(signing_key(&cl.point, &key));
    atls_error rc = atls_cose_sign1_verify(&msg, key, NULL, 0);
    if (rc != ATLS_OK) {
        EVP_PKEY_free(key);
        ATLS_RAISE(ATLS_ERR_EVIDENCE_SIGNATURE, "sim: the EAT signature does not verify");
    }
    memset(out, 0, sizeof(*out));
    rc = atls_key_id(key, out->key_id);
    EVP_PKEY_free(key);
    ATLS_GUARD(rc);

    if (in != NULL && in->challenge != NULL) {
        ATLS_ENSURE(CRYPTO_memcmp(atls_cursor_data(&cl.nonce), in->challenge,
                                  ATLS_CHALLENGE_LEN) == 0,
                    ATLS_ERR_EVIDENCE_NONCE,
                    "sim: eat_nonce is not the challenge of this connection and request");
        out->challenge_checked = 1;
    }
    out->type = "sim";
    out->is_sim = 1;
    json_t *claims = json_object();
    json_t *meas = json_object();
    ATLS_ENSURE(claims != NULL && meas != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    out->claims = claims;
    rc = measurements_json(&cl.measurements, meas);
    if (rc != ATLS_OK || json_object_set_new(claims, "measurements", meas) != 0) {
        json_decref(meas);
        atls_evidence_result_cleanup(out);
        return rc != ATLS_OK ? rc : ATLS_ERR_INTERNAL_ALLOC;
    }
    if ((rc = atls_claims_set_bool(claims, "sim", 1)) != ATLS_OK ||
        (rc = atls_claims_set_str(claims, "eat_profile", ATLS_SIM_PROFILE)) != ATLS_OK ||
        (rc = atls_claims_set_int(claims, "iat", cl.iat)) != ATLS_OK ||
        (rc = atls_claims_set_hex(claims, "eat_nonce", atls_cursor_data(&cl.nonce),
                                  ATLS_CHALLENGE_LEN)) != ATLS_OK ||
        (rc = atls_claims_set_str(claims, "key_id", out->key_id)) != ATLS_OK) {
        atls_evidence_result_cleanup(out);
        return rc;
    }
    return ATLS_OK;
}

static const char *const sim_policy_keys[] = {"keys", "measurements", "any_measurements", NULL};

static atls_error sim_check_policy(const json_t *policy)
{
    ATLS_GUARD(atls_policy_check_keys(policy, sim_policy_keys));
    const json_t *keys = json_object_get(policy, "keys");
    ATLS_ENSURE(keys != NULL, ATLS_ERR_POLICY_INVALID,
                "\"keys\" is required: sim Evidence is trusted only for named signing keys");
    ATLS_GUARD(atls_policy_check_hex_list(keys, 32, "keys"));
    ATLS_ENSURE(json_array_size(keys) > 0, ATLS_ERR_POLICY_INVALID, "\"keys\" is empty");
    ATLS_GUARD(atls_policy_check_bool(policy, "any_measurements"));
    const json_t *m = json_object_get(policy, "measurements");
    int any = atls_policy_get_bool(policy, "any_measurements", 0);
    ATLS_ENSURE((m != NULL) != any, ATLS_ERR_POLICY_INVALID,
                "give either \"measurements\" or \"any_measurements\": true");
    if (m != NULL) {
        ATLS_ENSURE(json_is_object(m), ATLS_ERR_POLICY_INVALID,
                    "\"measurements\" must be an object {name: [hex, ...]}");
        const char *name;
        json_t *list;
        json_object_foreach((json_t *)m, name, list) {
            ATLS_GUARD(atls_policy_check_hex_list(list, 0, name));
        }
    }
    return ATLS_OK;
}

static atls_error sim_appraise(const json_t *policy, const atls_evidence_result *res,
                               atls_trust_vector *tv)
{
    if (!atls_policy_hex_in_list(json_object_get(policy, "keys"), res->key_id)) {
        tv->instance_identity = 97; /* AR4SI: unrecognized instance */
        ATLS_RAISE(ATLS_ERR_POLICY_UNTRUSTED_KEY, "sim: signing key %s is not in the policy",
                   res->key_id);
    }
    tv->instance_identity = 2;
    if (atls_policy_get_bool(policy, "any_measurements", 0)) {
        tv->executables = 0; /* explicitly not appraised */
        return ATLS_OK;
    }
    const json_t *allowed = json_object_get(policy, "measurements");
    const json_t *seen = json_object_get(res->claims, "measurements");
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)seen, name, value) {
        const json_t *list = json_object_get(allowed, name);
        if (list == NULL || !atls_policy_hex_in_list(list, json_string_value(value))) {
            tv->executables = 96;
            ATLS_RAISE(ATLS_ERR_POLICY_MISMATCH, "sim: measurement \"%s\" = %s is not allowed",
                       name, json_string_value(value));
        }
    }
    json_object_foreach((json_t *)allowed, name, value) {
        if (json_object_get(seen, name) == NULL) {
            tv->executables = 96;
            ATLS_RAISE(ATLS_ERR_POLICY_MISMATCH, "sim: measurement \"%s\" is missing", name);
        }
    }
    tv->executables = 2;
    return ATLS_OK;
}

static atls_error sim_policy_from_result(const atls_evidence_result *res, json_t **out)
{
    json_t *section = json_object();
    json_t *keys = json_array();
    json_t *meas = json_object();
    if (section == NULL || keys == NULL || meas == NULL) {
        json_decref(section), json_decref(keys), json_decref(meas);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    json_array_append_new(keys, json_string(res->key_id));
    const char *name;
    json_t *value;
    json_object_foreach(json_object_get(res->claims, "measurements"), name, value) {
        json_t *list = json_array();
        json_array_append(list, value);
        json_object_set_new(meas, name, list);
    }
    json_object_set_new(section, "keys", keys);
    json_object_set_new(section, "measurements", meas);
    *out = section;
    return ATLS_OK;
}

const atls_verifier_ops atls_sim_verifier_ops = {
    .name = "sim",
    .media_type = ATLS_SIM_MEDIA_TYPE,
    .verify = sim_verify,
    .appraise = sim_appraise,
    .check_policy = sim_check_policy,
    .policy_from_result = sim_policy_from_result,
};
