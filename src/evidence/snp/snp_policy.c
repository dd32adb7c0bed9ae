/* snp_policy.c: the "snp" policy section: shape check, appraisal of the claims, and a strict
 * policy generated from a result (trust on first use). Keys: docs/EVIDENCE.md. */
#include "evidence/snp/snp_internal.h"

#include "base/result.h"
#include "evidence/core/claims.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#define INVALID ATLS_ERR_POLICY_INVALID
#define MISMATCH ATLS_ERR_POLICY_MISMATCH
#define UNAPPRAISED ATLS_ERR_POLICY_UNAPPRAISED

/* Allowed-value lists of hex digests: policy key, claim name, byte length. */
static const struct {
    const char *key, *claim;
    size_t len;
} hex_lists[] = {
    {"measurements", "measurement", 48},     {"host_data", "host_data", 32},
    {"id_key_digests", "id_key_digest", 48}, {"author_key_digests", "author_key_digest", 48},
    {"family_ids", "family_id", 16},         {"image_ids", "image_id", 16},
};
#define N_HEX_LISTS (sizeof(hex_lists) / sizeof(hex_lists[0]))

/* Instance pinning (opt-in, never written by policy_from_result): the chips this service may
 * run on. One extracted, unrevoked VCEK key signs reports for any measurement; only a pin on
 * the chip (or a KBS that releases keys to pinned chips) stops a second machine holding it. */
#define CHIP_IDS "chip_ids"

static const char *const tcb_keys[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
static const char *const bool_keys[] = {"allow_debug", "allow_smt", "allow_migration_agent",
                                        "require_challenge", "any_measurement", "allow_cxl",
                                        "require_mem_aes_256_xts", "allow_provisional_firmware",
                                        "allow_unchecked_revocation"};

ATLS_MUST_CHECK static atls_error check_int(const json_t *v, const char *key, json_int_t max)
{
    ATLS_ENSURE(json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= max,
                INVALID, "policy snp.%s: expected an integer 0..%lld", key, (long long)max);
    return ATLS_OK;
}

atls_error atls_snp_check_policy(const json_t *policy)
{
    const char *key;
    json_t *v;
    ATLS_ENSURE(json_is_object(policy), INVALID, "policy snp: expected an object");
    json_object_foreach((json_t *)policy, key, v) {
        int known = 0;
        for (size_t i = 0; i < N_HEX_LISTS && !known; i++) {
            if (strcmp(key, hex_lists[i].key) == 0) {
                ATLS_GUARD(atls_policy_check_hex_list(v, hex_lists[i].len, key));
                known = 1;
            }
        }
        if (strcmp(key, CHIP_IDS) == 0) {
            ATLS_GUARD(atls_policy_check_hex_list(v, 64, key));
            size_t j;
            json_t *e;
            json_array_foreach(v, j, e) {
                /* a report with MASK_CHIP_ID set carries zeros: such a pin pins nothing */
                ATLS_ENSURE(strspn(json_string_value(e), "0") != 128, INVALID,
                            "policy snp.chip_ids[%zu]: the all-zero CHIP_ID (what a report "
                            "with MASK_CHIP_ID carries) pins no chip", j);
            }
            known = 1;
        }
        for (size_t i = 0; i < sizeof(bool_keys) / sizeof(bool_keys[0]) && !known; i++) {
            if (strcmp(key, bool_keys[i]) == 0) {
                ATLS_ENSURE(json_is_boolean(v), INVALID, "policy snp.%s: expected a boolean",
                            key);
                known = 1;
            }
        }
        if (known) {
            continue;
        }
        if (strcmp(key, "min_tcb") == 0) {
            const char *k2;
            json_t *v2;
            ATLS_ENSURE(json_is_object(v), INVALID, "policy snp.min_tcb: expected an object");
            json_object_foreach(v, k2, v2) {
                int ok = 0;
                for (size_t i = 0; i < sizeof(tcb_keys) / sizeof(tcb_keys[0]); i++) {
                    ok |= strcmp(k2, tcb_keys[i]) == 0;
                }
                ATLS_ENSURE(ok, INVALID, "policy snp.min_tcb: unknown component \"%s\"", k2);
                ATLS_GUARD(check_int(v2, "min_tcb component", 255));
            }
        } else if (strcmp(key, "min_guest_svn") == 0) {
            ATLS_GUARD(check_int(v, key, UINT32_MAX));
        } else if (strcmp(key, "vmpl") == 0) {
            size_t i;
            json_t *e;
            ATLS_ENSURE(json_is_array(v), INVALID, "policy snp.vmpl: expected an array");
            json_array_foreach(v, i, e) {
                ATLS_GUARD(check_int(e, "vmpl[]", 3));
            }
        } else if (strcmp(key, "signers") == 0) {
            size_t i;
            json_t *e;
            ATLS_ENSURE(json_is_array(v), INVALID, "policy snp.signers: expected an array");
            json_array_foreach(v, i, e) {
                const char *s = json_string_value(e);
                ATLS_ENSURE(s != NULL && (strcmp(s, "vcek") == 0 || strcmp(s, "vlek") == 0),
                            INVALID, "policy snp.signers[%zu]: expected \"vcek\" or \"vlek\"", i);
            }
        } else {
            ATLS_RAISE(INVALID, "policy snp: unknown key \"%s\"", key);
        }
    }
    /* accepting any launch measurement must be written out */
    ATLS_ENSURE((json_object_get(policy, "measurements") != NULL) !=
                    json_is_true(json_object_get(policy, "any_measurement")),
                INVALID, "policy snp: give either \"measurements\" or \"any_measurement\": true");
    return ATLS_OK;
}

static int policy_bool(const json_t *policy, const char *key, int dflt)
{
    const json_t *v = json_object_get(policy, key);
    return v == NULL ? dflt : json_is_true(v);
}

static json_int_t claim_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static int claim_bool(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

atls_error atls_snp_appraise(const json_t *policy, const atls_evidence_result *res,
                             atls_trust_vector *tv)
{
    const json_t *c = res != NULL ? res->claims : NULL;
    ATLS_ENSURE(json_is_object(c), ATLS_ERR_USAGE, "SNP appraise: result has no claims");
    ATLS_GUARD(atls_snp_check_policy(policy));
    const json_t *pol = json_object_get(c, "policy");
    const json_t *pinfo = json_object_get(c, "platform_info");
    int warn = 0;

    for (size_t i = 0; i < N_HEX_LISTS; i++) {
        const json_t *allowed = json_object_get(policy, hex_lists[i].key);
        if (allowed == NULL) {
            continue;
        }
        const char *have = json_string_value(json_object_get(c, hex_lists[i].claim));
        size_t j;
        json_t *e;
        int found = 0;
        json_array_foreach(allowed, j, e) {
            found |= have != NULL && strcasecmp(have, json_string_value(e)) == 0;
        }
        ATLS_ENSURE(found, MISMATCH, "SNP policy: %s %s is not an allowed value",
                    hex_lists[i].claim, have != NULL ? have : "(absent)");
    }
    const json_t *chips = json_object_get(policy, CHIP_IDS);
    if (chips != NULL) {
        const char *chip = json_string_value(json_object_get(c, "chip_id"));
        ATLS_ENSURE(chip != NULL && atls_policy_hex_in_list(chips, chip),
                    ATLS_ERR_POLICY_INSTANCE, "SNP policy: CHIP_ID %.16s... is not in chip_ids",
                    chip != NULL ? chip : "(absent)");
    }
    const json_t *min_tcb = json_object_get(policy, "min_tcb");
    if (min_tcb != NULL) {
        const json_t *rt = json_object_get(c, "reported_tcb");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)min_tcb, k, v) {
            json_int_t have = claim_int(rt, k);
            ATLS_ENSURE(have >= json_integer_value(v), MISMATCH,
                        "SNP policy: reported_tcb.%s %lld is below the minimum %lld", k,
                        (long long)have, (long long)json_integer_value(v));
        }
    }
    int debug = claim_bool(pol, "debug");
    ATLS_ENSURE(!debug || policy_bool(policy, "allow_debug", 0), MISMATCH,
                "SNP policy: policy.debug is set and allow_debug is false");
    warn |= debug;
    /* CXL_ALLOW lets CXL-attached memory (outside the SoC's protection) back the guest */
    int cxl = claim_bool(pol, "cxl_allow");
    ATLS_ENSURE(!cxl || policy_bool(policy, "allow_cxl", 0), MISMATCH,
                "SNP policy: policy.cxl_allow is set and allow_cxl is false");
    warn |= cxl;
    ATLS_ENSURE(claim_bool(pol, "mem_aes_256_xts") ||
                    !policy_bool(policy, "require_mem_aes_256_xts", 0),
                MISMATCH,
                "SNP policy: policy.mem_aes_256_xts is clear and require_mem_aes_256_xts is true");
    /* COMMITTED_TCB != CURRENT_TCB: firmware the host may still roll back */
    int provisional = claim_bool(c, "provisional_firmware");
    ATLS_ENSURE(!provisional || policy_bool(policy, "allow_provisional_firmware", 0), MISMATCH,
                "SNP policy: the firmware is provisional (COMMITTED_TCB/version differs from "
                "CURRENT) and allow_provisional_firmware is false");
    warn |= provisional;
    int unchecked = !claim_bool(c, "revocation_checked");
    ATLS_ENSURE(!unchecked || policy_bool(policy, "allow_unchecked_revocation", 0), UNAPPRAISED,
                "SNP policy: revocation was not checked (no CRL from the ARK given) and "
                "allow_unchecked_revocation is false");
    ATLS_ENSURE(!claim_bool(pol, "migrate_ma") || policy_bool(policy, "allow_migration_agent", 0),
                MISMATCH, "SNP policy: policy.migrate_ma is set and allow_migration_agent is false");
    ATLS_ENSURE(!claim_bool(pinfo, "smt_enabled") || policy_bool(policy, "allow_smt", 1),
                MISMATCH, "SNP policy: platform_info.smt_enabled is set and allow_smt is false");
    const json_t *svn = json_object_get(policy, "min_guest_svn");
    if (svn != NULL) {
        ATLS_ENSURE(claim_int(c, "guest_svn") >= json_integer_value(svn), MISMATCH,
                    "SNP policy: guest_svn %lld is below min_guest_svn %lld",
                    (long long)claim_int(c, "guest_svn"), (long long)json_integer_value(svn));
    }
    const json_t *vmpls = json_object_get(policy, "vmpl");
    if (vmpls != NULL) {
        size_t j;
        json_t *e;
        int found = 0;
        json_array_foreach(vmpls, j, e) {
            found |= json_integer_value(e) == claim_int(c, "vmpl");
        }
        ATLS_ENSURE(found, MISMATCH, "SNP policy: vmpl %lld is not allowed",
                    (long long)claim_int(c, "vmpl"));
    }
    const json_t *signers = json_object_get(policy, "signers");
    if (signers != NULL) {
        const char *have = json_string_value(json_object_get(c, "signer"));
        size_t j;
        json_t *e;
        int found = 0;
        json_array_foreach(signers, j, e) {
            found |= have != NULL && strcmp(have, json_string_value(e)) == 0;
        }
        ATLS_ENSURE(found, MISMATCH, "SNP policy: signer %s is not allowed",
                    have != NULL ? have : "(absent)");
    }
    ATLS_ENSURE(!policy_bool(policy, "require_challenge", 0) || res->challenge_checked, MISMATCH,
                "SNP policy: report_data was not checked against a challenge");
    if (tv != NULL) {
        /* AR4SI: 2 = approved; 32 = warning (an allowed but unsafe setting such as debug);
         * 36 = security-relevant input unavailable (no CRL); executables 33 = not recognised
         * (any_measurement) */
        tv->executables = json_object_get(policy, "measurements") != NULL ? 2 : 33;
        tv->configuration = unchecked ? 36 : warn ? 32 : 2;
        tv->hardware = res->tv.hardware;
        tv->instance_identity = res->tv.instance_identity;
    }
    return ATLS_OK;
}

static json_t *one(const json_t *v)
{
    json_t *a = json_array();
    if (a != NULL && json_array_append(a, (json_t *)v) != 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

atls_error atls_snp_policy_from_result(const atls_evidence_result *res, json_t **out)
{
    const json_t *c = res != NULL ? res->claims : NULL;
    ATLS_ENSURE(json_is_object(c) && out != NULL, ATLS_ERR_USAGE,
                "SNP policy_from_result: result has no claims");
    json_t *p = json_object();
    json_t *tcb = json_object();
    int ok = p != NULL && tcb != NULL;
    for (size_t i = 0; ok && i < N_HEX_LISTS; i++) {
        const json_t *v = json_object_get(c, hex_lists[i].claim);
        ok = v != NULL && json_object_set_new(p, hex_lists[i].key, one(v)) == 0;
    }
    const json_t *rt = json_object_get(c, "reported_tcb");
    for (size_t i = 0; ok && i < sizeof(tcb_keys) / sizeof(tcb_keys[0]); i++) {
        const json_t *v = json_object_get(rt, tcb_keys[i]);
        if (v != NULL) {
            ok = json_object_set(tcb, tcb_keys[i], (json_t *)v) == 0;
        }
    }
    const json_t *pol = json_object_get(c, "policy");
    ok = ok && json_object_set(p, "min_tcb", tcb) == 0 &&
         /* the strict values whatever |res| shows (the policy may refuse |res| itself: `atls
          * policy init` says so); require_mem_aes_256_xts keeps a hardening that is seen */
         json_object_set_new(p, "allow_debug", json_false()) == 0 &&
         json_object_set_new(p, "allow_migration_agent", json_false()) == 0 &&
         json_object_set_new(p, "allow_cxl", json_false()) == 0 &&
         json_object_set_new(p, "allow_provisional_firmware", json_false()) == 0 &&
         json_object_set_new(p, "allow_unchecked_revocation", json_false()) == 0 &&
         json_object_set_new(p, "require_mem_aes_256_xts",
                             json_boolean(claim_bool(pol, "mem_aes_256_xts"))) == 0 &&
         json_object_set_new(p, "min_guest_svn", json_integer(claim_int(c, "guest_svn"))) == 0 &&
         json_object_set_new(p, "vmpl", one(json_object_get(c, "vmpl"))) == 0 &&
         json_object_set_new(p, "signers", one(json_object_get(c, "signer"))) == 0 &&
         json_object_set_new(p, "require_challenge", json_boolean(res->challenge_checked)) == 0;
    json_decref(tcb);
    if (!ok) {
        json_decref(p);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "SNP policy_from_result: claims incomplete");
    }
    *out = p;
    return ATLS_OK;
}
