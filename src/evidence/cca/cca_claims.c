/* cca_claims.c: the claims object of a verified CCA token (docs/EVIDENCE.md, "cca"). */
#include "evidence/cca/cca_internal.h"

#include "base/result.h"
#include "evidence/core/claims.h"

#include <stdio.h>
#include <string.h>

const char *atls_cca_lifecycle_state(uint64_t v)
{
    /* PSA security lifecycle (RFC 9783, the PSA attestation token, "Security Lifecycle"): the
     * upper byte is the state, the lower byte implementation defined. */
    static const char *const names[] = {"unknown", "assembly_and_test", "psa_rot_provisioning",
                                        "secured", "non_psa_rot_debug",
                                        "recoverable_psa_rot_debug", "decommissioned"};
    uint64_t major = v >> 8;
    if ((major & 0x0f) != 0 || (major >> 4) > 6) {
        return "invalid";
    }
    return names[major >> 4];
}

ATLS_MUST_CHECK static atls_error set_hex(json_t *o, const char *k, const atls_cursor *c)
{
    return atls_claims_set_hex(o, k, atls_cursor_data(c), atls_cursor_remaining(c));
}

/* set_text copies a text view (checked by the parser: at most ATLS_CCA_MAX_TEXT bytes, no NUL). */
ATLS_MUST_CHECK static atls_error set_text(json_t *o, const char *k, const atls_cursor *c)
{
    char buf[ATLS_CCA_MAX_TEXT + 1];
    size_t n = atls_cursor_remaining(c);
    ATLS_ENSURE(n <= ATLS_CCA_MAX_TEXT, ATLS_ERR_INTERNAL, "CCA: text claim too long");
    memcpy(buf, atls_cursor_data(c), n);
    buf[n] = '\0';
    return atls_claims_set_str(o, k, buf);
}

ATLS_MUST_CHECK static atls_error add_new(json_t *o, const char *k, json_t *v)
{
    if (v == NULL || json_object_set_new(o, k, v) != 0) {
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    return ATLS_OK;
}

ATLS_MUST_CHECK static atls_error realm_claims(const atls_cca_token *t, json_t *r)
{
    ATLS_GUARD(atls_claims_set_str(r, "profile", t->realm_has_profile ? ATLS_CCA_PROFILE_REALM_2023
                                                                      : ATLS_CCA_PROFILE_LEGACY));
    ATLS_GUARD(set_hex(r, "challenge", &t->realm_challenge));
    ATLS_GUARD(set_hex(r, "personalization_value", &t->personalization));
    ATLS_GUARD(set_text(r, "hash_algo", &t->realm_hash_algo));
    ATLS_GUARD(set_hex(r, "public_key", &t->rak));
    ATLS_GUARD(atls_claims_set_str(r, "public_key_form",
                                   t->rak_is_cose_key ? "cose_key" : "sec1_point"));
    ATLS_GUARD(set_text(r, "public_key_hash_algo", &t->rak_hash_algo));
    ATLS_GUARD(set_hex(r, "initial_measurement", &t->rim));
    json_t *rems = json_array();
    ATLS_GUARD(add_new(r, "extensible_measurements", rems));
    for (size_t i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof(name), "rem%zu", i);
        ATLS_GUARD(set_hex(r, name, &t->rem[i]));
        ATLS_ENSURE(json_array_append(rems, json_object_get(r, name)) == 0,
                    ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    return ATLS_OK;
}

ATLS_MUST_CHECK static atls_error sw_claims(const atls_cca_sw_component *sw, json_t *o)
{
    if (sw->has_type) {
        ATLS_GUARD(set_text(o, "type", &sw->type));
    }
    ATLS_GUARD(set_hex(o, "measurement", &sw->measurement));
    if (sw->has_version) {
        ATLS_GUARD(set_text(o, "version", &sw->version));
    }
    ATLS_GUARD(set_hex(o, "signer_id", &sw->signer_id));
    if (sw->has_hash_algo) {
        ATLS_GUARD(set_text(o, "hash_algo", &sw->hash_algo));
    }
    return ATLS_OK;
}

ATLS_MUST_CHECK static atls_error platform_claims(const atls_cca_token *t, json_t *p)
{
    ATLS_GUARD(set_text(p, "profile", &t->platform_profile));
    ATLS_GUARD(set_hex(p, "challenge", &t->platform_challenge));
    ATLS_GUARD(set_hex(p, "implementation_id", &t->implementation_id));
    ATLS_GUARD(set_hex(p, "instance_id", &t->instance_id));
    ATLS_GUARD(set_hex(p, "config", &t->config));
    ATLS_GUARD(atls_claims_set_int(p, "lifecycle", (int64_t)t->lifecycle));
    ATLS_GUARD(atls_claims_set_str(p, "lifecycle_state", atls_cca_lifecycle_state(t->lifecycle)));
    if (t->has_verification_service) {
        ATLS_GUARD(set_text(p, "verification_service", &t->verification_service));
    }
    ATLS_GUARD(set_text(p, "hash_algo", &t->platform_hash_algo));
    json_t *arr = json_array();
    ATLS_GUARD(add_new(p, "sw_components", arr));
    for (size_t i = 0; i < t->num_sw; i++) {
        json_t *o = json_object();
        ATLS_ENSURE(o != NULL && json_array_append_new(arr, o) == 0, ATLS_ERR_INTERNAL_ALLOC,
                    "out of memory");
        ATLS_GUARD(sw_claims(&t->sw[i], o));
    }
    return ATLS_OK;
}

atls_error atls_cca_claims(const atls_cca_token *t, const char *key_id, json_t **out)
{
    json_t *c = json_object();
    json_t *p = json_object();
    json_t *r = json_object();
    atls_error rc = ATLS_ERR_INTERNAL_ALLOC;
    if (c == NULL || p == NULL || r == NULL) {
        json_decref(p), json_decref(r);
        goto fail;
    }
    if ((rc = add_new(c, "platform", p)) != ATLS_OK) {
        json_decref(r);
        goto fail;
    }
    if ((rc = add_new(c, "realm", r)) != ATLS_OK || (rc = platform_claims(t, p)) != ATLS_OK ||
        (rc = realm_claims(t, r)) != ATLS_OK ||
        (rc = atls_claims_set_str(c, "key_id", key_id)) != ATLS_OK) {
        goto fail;
    }
    *out = c;
    return ATLS_OK;
fail:
    json_decref(c);
    if (rc == ATLS_ERR_INTERNAL_ALLOC) {
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    return rc;
}
