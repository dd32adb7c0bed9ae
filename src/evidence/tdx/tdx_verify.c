/* tdx_verify.c: the "tdx" verifier (tdx.h): parse, quote signature by the attestation key, QE
 * report binding, QE report signature by the PCK key, PCK chain to the Intel SGX Root CA,
 * collateral and TCB status, challenge, claims. Order and rationale: docs/EVIDENCE.md. */
#include "evidence/tdx/tdx_internal.h"

#include "base/hex.h"
#include "base/result.h"
#include "evidence/core/claims.h"
#include "evidence/eventlog/eventlog.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

/* DER SubjectPublicKeyInfo prefix of an uncompressed P-256 point (RFC 5480). */
static const uint8_t p256_spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};

static int set_hex(json_t *o, const char *key, const uint8_t *data, size_t len)
{
    char *h = atls_hex_encode_alloc(data, len);
    int ok = h != NULL && json_object_set_new(o, key, json_string(h)) == 0;
    free(h);
    return ok;
}

/* What was appraised, as the "unappraised" claim lists it: the trust inputs that were not
 * given (each lowers the result; a policy accepts their absence only by name). */
typedef struct tdx_inputs {
    int tcb_info, qe_identity, crls;
} tdx_inputs;

static json_t *unappraised_of(const tdx_inputs *in)
{
    json_t *a = json_array();
    if (a != NULL && ((!in->tcb_info && json_array_append_new(a, json_string("tcb_info")) != 0) ||
                      (!in->qe_identity &&
                       json_array_append_new(a, json_string("qe_identity")) != 0) ||
                      (!in->crls && json_array_append_new(a, json_string("crls")) != 0))) {
        json_decref(a);
        return NULL;
    }
    return a;
}

ATLS_MUST_CHECK static atls_error claims_of(const atls_tdx_quote *q, const atls_tdx_pck_info *pck,
                                            const char *pck_key_id,
                                            const atls_tdx_collateral_result *col,
                                            const tdx_inputs *inputs, json_t **out)
{
    json_t *c = json_object();
    json_t *attrs = json_object();
    uint64_t a = 0;
    for (size_t i = 0; i < 8; i++) {
        a |= (uint64_t)q->td_attributes[i] << (8 * i);
    }
    char rt[8];
    int ok = c != NULL && attrs != NULL &&
             json_object_set_new(c, "quote_version", json_integer(q->version)) == 0 &&
             json_object_set_new(c, "body_type", json_integer(q->body_type)) == 0 &&
             set_hex(c, "qe_vendor_id", q->qe_vendor_id, 16) &&
             set_hex(c, "tee_tcb_svn", q->tee_tcb_svn, 16) && set_hex(c, "mrseam", q->mrseam, 48) &&
             set_hex(c, "mrsignerseam", q->mrsignerseam, 48) &&
             set_hex(c, "seam_attributes", q->seam_attributes, 8) &&
             set_hex(c, "td_attributes", q->td_attributes, 8) && set_hex(c, "xfam", q->xfam, 8) &&
             set_hex(c, "mrtd", q->mrtd, 48) && set_hex(c, "mrconfigid", q->mrconfigid, 48) &&
             set_hex(c, "mrowner", q->mrowner, 48) &&
             set_hex(c, "mrownerconfig", q->mrownerconfig, 48) &&
             set_hex(c, "report_data", q->report_data, 64);
    for (int i = 0; ok && i < 4; i++) {
        snprintf(rt, sizeof(rt), "rtmr%d", i);
        ok = set_hex(c, rt, q->rtmr[i], 48);
    }
    if (ok && q->body_type == 3) {
        ok = set_hex(c, "tee_tcb_svn2", q->tee_tcb_svn2, 16) &&
             set_hex(c, "mrservicetd", q->mrservicetd, 48);
    }
    /* TD_ATTRIBUTES bits (TDX module ABI): 0 DEBUG, 28 SEPT_VE_DISABLE, 30 PKS, 31 KL, 63 PERFMON */
    ok = ok && json_object_set_new(attrs, "debug", json_boolean(a & 1u)) == 0 &&
         json_object_set_new(attrs, "sept_ve_disable", json_boolean((a >> 28) & 1u)) == 0 &&
         json_object_set_new(attrs, "pks", json_boolean((a >> 30) & 1u)) == 0 &&
         json_object_set_new(attrs, "kl", json_boolean((a >> 31) & 1u)) == 0 &&
         json_object_set_new(attrs, "perfmon", json_boolean((a >> 63) & 1u)) == 0 &&
         json_object_set(c, "td_attributes_bits", attrs) == 0 &&
         json_object_set_new(c, "debug", json_boolean(a & 1u)) == 0 &&
         set_hex(c, "fmspc", pck->fmspc, 6) && set_hex(c, "pce_id", pck->pceid, 2) &&
         json_object_set_new(c, "pce_svn", json_integer(pck->pcesvn)) == 0 &&
         set_hex(c, "cpu_svn", pck->cpusvn, 16) &&
         (!pck->have_ppid || set_hex(c, "ppid", pck->ppid, 16)) &&
         json_object_set_new(c, "pck_key_id", json_string(pck_key_id)) == 0 &&
         json_object_set_new(c, "qe_isvsvn", json_integer(q->qe.isvsvn)) == 0 &&
         set_hex(c, "qe_mrsigner", q->qe.mrsigner, 32) &&
         json_object_set_new(c, "tcb_status",
                             json_string(atls_tdx_tcb_status_name(col->status))) == 0 &&
         json_object_set_new(c, "revocation_checked", json_boolean(inputs->crls)) == 0 &&
         json_object_set_new(c, "unappraised", unappraised_of(inputs)) == 0;
    if (ok && col->tcb_info_checked) {
        ok = json_object_set_new(c, "tcb_date", json_string(col->tcb_date)) == 0 &&
             json_object_set_new(c, "platform_tcb_status",
                                 json_string(atls_tdx_tcb_status_name(col->platform_status))) == 0 &&
             json_object_set_new(c, "tdx_module_tcb_status",
                                 json_string(atls_tdx_tcb_status_name(col->module_status))) == 0 &&
             json_object_set_new(c, "qe_tcb_status",
                                 json_string(atls_tdx_tcb_status_name(col->qe_status))) == 0 &&
             (col->advisory_ids == NULL ||
              json_object_set(c, "advisory_ids", col->advisory_ids) == 0);
    }
    json_decref(attrs);
    if (!ok) {
        json_decref(c);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "TDX: cannot build the claims");
    }
    *out = c;
    return ATLS_OK;
}

/* hardware_tier maps the TCB status to an AR4SI hardware claim: 2 affirming (UpToDate), 32
 * warning (genuine, with known vulnerabilities: hardening / configuration / out of date / TD
 * relaunch advised), 96 contraindicated (Revoked: recognised, not trustworthy). */
static int8_t hardware_tier(atls_tdx_tcb_status s)
{
    switch (s) {
    case ATLS_TDX_TCB_UP_TO_DATE:
        return 2;
    case ATLS_TDX_TCB_REVOKED:
        return 96;
    default:
        return 32;
    }
}

/* set_tiers: the claims the verifier can make, each only for what it checked (EVIDENCE.md,
 * "What each tier requires"): instance identity 2 needs the PCK chain checked against both
 * CRLs; hardware needs the TCB status, i.e. the TCB Info, the QE Identity and both CRLs; a
 * Revoked finding is reported whatever else was missing. */
static void set_tiers(const atls_tdx_collateral_result *col, const tdx_inputs *inputs,
                      atls_evidence_result *out)
{
    int full = inputs->tcb_info && inputs->qe_identity && inputs->crls;
    out->tv.instance_identity = inputs->crls ? 2 : 0;
    out->tv.hardware = full ? hardware_tier(col->status) : 0;
    if (col->tcb_info_checked && col->merged == ATLS_TDX_TCB_REVOKED) {
        out->tv.hardware = 96;
        out->contra_error = ATLS_ERR_EVIDENCE_REVOKED;
        snprintf(out->contra_reason, sizeof(out->contra_reason),
                 "TDX: TCB status Revoked (platform %s, TDX module %s, QE %s)",
                 atls_tdx_tcb_status_name(col->platform_status),
                 atls_tdx_tcb_status_name(col->module_status),
                 atls_tdx_tcb_status_name(col->qe_status));
    }
}

/* ccel_claims: the CC event log that came with the quote (a CMW collection's
 * application/vnd.atls.eventlog+cbor record of kind "ccel", or what this connection received
 * before), replayed against RTMR0..3 of the quote (SHA-384; UEFI 2.10 section 38.4: CC MR
 * index i + 1 extends RTMR i). Called only once the quote verified: its RTMRs are signed. */
static atls_error ccel_claims(const atls_tdx_quote *q, const atls_verify_input *in, json_t *claims)
{
    if (in->num_eventlogs == 0 && in->eventlog_state == NULL) {
        return ATLS_OK;
    }
    atls_evlog_quoted quoted[4];
    for (unsigned i = 0; i < 4; i++) {
        quoted[i] = (atls_evlog_quoted){.alg = ATLS_TCG_ALG_SHA384, .reg = i,
                                        .value = q->rtmr[i], .len = 48};
    }
    return atls_evlog_verify(in->eventlogs, in->num_eventlogs, 1u << ATLS_EVLOG_CCEL, quoted, 4,
                             in->eventlog_state, claims);
}

static atls_error tdx_verify(const uint8_t *evidence, size_t len, const atls_verify_input *in,
                             atls_evidence_result *out)
{
    atls_error rc = ATLS_OK;
    atls_tdx_quote q;
    atls_tdx_pck_info pck;
    atls_tdx_collateral_result col;
    STACK_OF(X509) *chain = NULL, *untrusted = NULL;
    EVP_PKEY *ak = NULL;
    atls_tdx_chain_id chain_id;
    uint8_t spki[sizeof(p256_spki_prefix) + 64], digest[32];

    ATLS_ENSURE(out != NULL && in != NULL, ATLS_ERR_USAGE, "TDX: NULL argument");
    memset(out, 0, sizeof(*out));
    memset(&col, 0, sizeof(col));
    ATLS_GUARD(atls_tdx_quote_parse(evidence, len, &q));

    /* 1. quote signature by the attestation key over header || body */
    memcpy(spki, p256_spki_prefix, sizeof(p256_spki_prefix));
    memcpy(spki + sizeof(p256_spki_prefix), q.attestation_key, 64);
    ATLS_GUARD(atls_tdx_p256_key_from_raw(q.attestation_key, &ak));
    ATLS_GUARD_GOTO(rc, done, atls_tdx_ecdsa_p256_verify(ak, q.signature, q.signed_data,
                                                         q.signed_len, ATLS_ERR_EVIDENCE_SIGNATURE,
                                                         "quote signature (attestation key)"));
    /* 2. the QE binds the attestation key: report_data = SHA-256(key || auth data) || 0^32 */
    {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
                 EVP_DigestUpdate(md, q.attestation_key, 64) == 1 &&
                 EVP_DigestUpdate(md, q.qe_auth, q.qe_auth_len) == 1 &&
                 EVP_DigestFinal_ex(md, digest, NULL) == 1;
        EVP_MD_CTX_free(md);
        if (!ok) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO, "TDX: SHA-256 failed");
        }
        static const uint8_t zero[32];
        if (CRYPTO_memcmp(digest, q.qe.report_data, 32) != 0 ||
            memcmp(q.qe.report_data + 32, zero, 32) != 0) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_SIGNATURE,
                           "TDX quote: QE report_data does not bind the attestation key");
        }
    }
    /* 3. QE report signature by the PCK key, 4. PCK chain to the Intel SGX Root CA */
    ATLS_GUARD_GOTO(rc, done, atls_tdx_load_pem_chain_id(q.pck_chain, q.pck_chain_len,
                                                         ATLS_ERR_EVIDENCE_CHAIN, &chain, &chain_id));
    X509 *leaf = sk_X509_value(chain, 0);
    /* the QE report is the same for every quote of a platform: successes are remembered per
     * (PCK key, QE report bytes, signature) */
    ATLS_GUARD_GOTO(rc, done,
                    atls_tdx_ecdsa_p256_verify_cached(
                        "tdx qe report signature", leaf, q.qe_signature,
                        q.qe.raw, sizeof(q.qe.raw), ATLS_ERR_EVIDENCE_SIGNATURE,
                        "QE report signature (PCK key)"));
    untrusted = sk_X509_dup(chain);
    for (int i = 0; untrusted != NULL && in->intermediates != NULL &&
                    i < sk_X509_num(in->intermediates);
         i++) {
        (void)sk_X509_push(untrusted, sk_X509_value(in->intermediates, i));
    }
    if (untrusted == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "TDX: out of memory");
    }
    ATLS_GUARD_GOTO(rc, done, atls_tdx_verify_chain(leaf, untrusted, &chain_id, in,
                                                    ATLS_ERR_EVIDENCE_CHAIN,
                                                    "PCK certificate chain"));
    ATLS_GUARD_GOTO(rc, done, atls_tdx_pck_info_get_id(leaf, &chain_id, &pck));
    /* 5. collateral (optional) */
    if (in->tcb_info_path != NULL || in->qe_identity_path != NULL ||
        in->tcb_signing_chain_path != NULL || in->tcb_info != NULL || in->qe_identity != NULL) {
        ATLS_GUARD_GOTO(rc, done, atls_tdx_collateral_check(in, &q, &pck, &col));
    }
    /* 6. challenge */
    if (in->challenge != NULL) {
        if (CRYPTO_memcmp(in->challenge, q.report_data, ATLS_CHALLENGE_LEN) != 0) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_NONCE,
                           "TDX quote: REPORTDATA does not equal the challenge");
        }
        out->challenge_checked = 1;
    }
    /* key_id: SHA-256 of the attestation key's DER SPKI */
    if (EVP_Digest(spki, sizeof(spki), digest, NULL, EVP_sha256(), NULL) != 1) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO, "TDX: SHA-256 failed");
    }
    ATLS_GUARD_GOTO(rc, done, atls_hex_encode(out->key_id, sizeof(out->key_id), digest, 32));
    /* with Intel CRLs given, X509_V_FLAG_CRL_CHECK_ALL made every CA of the PCK chain and of
     * the TCB signing chain need a CRL valid now: the root CA CRL and the PCK CRL */
    tdx_inputs inputs = {.tcb_info = col.tcb_info_checked,
                         .qe_identity = col.qe_identity_checked,
                         .crls = atls_tdx_crls_apply(in, untrusted)};
    /* the PCK certificate's key: one per platform (and TCB), for instance pinning */
    char pck_key_id[65];
    ATLS_GUARD_GOTO(rc, done, atls_key_id(X509_get0_pubkey(leaf), pck_key_id));
    ATLS_GUARD_GOTO(rc, done, claims_of(&q, &pck, pck_key_id, &col, &inputs, &out->claims));
    ATLS_GUARD_GOTO(rc, done, ccel_claims(&q, in, out->claims));
    out->type = "tdx";
    set_tiers(&col, &inputs, out);
done:
    if (rc != ATLS_OK) {
        json_decref(out->claims);
        memset(out, 0, sizeof(*out));
    }
    json_decref(col.advisory_ids);
    EVP_PKEY_free(ak);
    sk_X509_free(untrusted);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

const atls_verifier_ops atls_tdx_verifier_ops = {
    .name = "tdx",
    .media_type = ATLS_TDX_MEDIA_TYPE,
    .verify = tdx_verify,
    .appraise = atls_tdx_appraise,
    .check_policy = atls_tdx_check_policy,
    .policy_from_result = atls_tdx_policy_from_result,
};
