/* snp_verify.c: the "snp" verifier (snp.h): parse, report signature by the VCEK/VLEK, chain to
 * the ARK, VCEK extensions vs the report, challenge, claims. Order and rationale: EVIDENCE.md. */
#include "evidence/snp/snp_internal.h"

#include "base/hex.h"
#include "base/result.h"
#include "evidence/core/claims.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <string.h>

/* is_leaf_candidate: an end-entity certificate with an EC key (VCEK / VLEK shape). */
static int is_leaf_candidate(X509 *x)
{
    EVP_PKEY *k = X509_get0_pubkey(x);
    ERR_clear_error();
    return k != NULL && EVP_PKEY_is_a(k, "EC") && X509_check_ca(x) == 0;
}

static void add_all(STACK_OF(X509) *dst, STACK_OF(X509) *src)
{
    for (int i = 0; src != NULL && i < sk_X509_num(src); i++) {
        (void)sk_X509_push(dst, sk_X509_value(src, i));
    }
}

/* is_turin decides the TCB_VERSION layout: CPUID family 0x1A (v3+ reports) or, for v2 reports
 * that carry no CPUID, a productName starting with "Turin". Both present must agree. */
ATLS_MUST_CHECK static atls_error is_turin(const atls_snp_report *r, const char *product,
                                           int *turin)
{
    int by_name = strncmp(product, "Turin", 5) == 0;
    if (r->version >= 3 && r->cpuid_fam_id != 0) {
        *turin = r->cpuid_fam_id == 0x1A;
        ATLS_ENSURE(product[0] == '\0' || by_name == *turin, ATLS_ERR_EVIDENCE_CHAIN,
                    "SNP: VCEK productName \"%s\" does not match CPUID family 0x%02x", product,
                    r->cpuid_fam_id);
    } else {
        *turin = by_name;
    }
    return ATLS_OK;
}

/* check_tcb_layout: the reserved bytes of every TCB_VERSION are zero in the product's layout
 * (the parse could not tell the layout; a Turin TCB read as Milan would misplace SNP). */
ATLS_MUST_CHECK static atls_error check_tcb_layout(const atls_snp_report *r, int turin)
{
    static const char *const names[] = {"CURRENT_TCB", "REPORTED_TCB", "COMMITTED_TCB",
                                        "LAUNCH_TCB"};
    const uint64_t tcbs[] = {r->current_tcb, r->reported_tcb, r->committed_tcb, r->launch_tcb};
    for (size_t i = 0; i < 4; i++) {
        ATLS_ENSURE(atls_snp_tcb_reserved_zero(tcbs[i], turin), ATLS_ERR_EVIDENCE_FORMAT,
                    "SNP report: %s 0x%016llx has reserved bytes set (%s layout)", names[i],
                    (unsigned long long)tcbs[i], turin ? "Turin" : "Milan/Genoa");
    }
    return ATLS_OK;
}

atls_error atls_snp_verify_report(const uint8_t *evidence, size_t len,
                                  const atls_verify_input *in, STACK_OF(X509) *extra,
                                  atls_evidence_result *out)
{
    atls_error rc = ATLS_OK;
    atls_snp_report r;
    X509 *file_cert = NULL, *signer = NULL;
    STACK_OF(X509) *pool = NULL;
    atls_snp_cert_ext ext;
    int turin = 0, revocation_checked = 0;

    ATLS_ENSURE(out != NULL && in != NULL, ATLS_ERR_USAGE, "SNP: NULL argument");
    memset(out, 0, sizeof(*out));
    ATLS_GUARD(atls_snp_report_parse(evidence, len, &r));

    pool = sk_X509_new_null();
    if (pool == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "SNP: out of memory");
    }
    add_all(pool, in->intermediates);
    add_all(pool, extra);
    if (in->vcek_path != NULL) {
        /* An explicit VCEK/VLEK file is the only signer considered. */
        ATLS_GUARD_GOTO(rc, done, atls_snp_load_cert_file(in->vcek_path, &file_cert));
        ATLS_GUARD_GOTO(rc, done, atls_snp_check_signature(evidence, &r, file_cert));
        signer = file_cert;
    } else {
        int candidates = 0;
        for (int i = 0; i < sk_X509_num(pool) && signer == NULL; i++) {
            X509 *x = sk_X509_value(pool, i);
            if (!is_leaf_candidate(x)) {
                continue;
            }
            candidates++;
            if (atls_snp_check_signature(evidence, &r, x) == ATLS_OK) {
                signer = x;
            }
        }
        if (candidates == 0) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_CHAIN,
                           "SNP: no VCEK/VLEK certificate given (vcek_path or intermediates)");
        }
        if (signer == NULL) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_SIGNATURE,
                           "SNP report: signature does not verify with any given VCEK/VLEK");
        }
    }
    atls_error_clear();
    ATLS_GUARD_GOTO(rc, done, atls_snp_check_chain(signer, pool, in));
    ATLS_GUARD_GOTO(rc, done, atls_snp_cert_ext_get(signer, &ext));
    ATLS_GUARD_GOTO(rc, done, is_turin(&r, ext.product, &turin));
    ATLS_GUARD_GOTO(rc, done, check_tcb_layout(&r, turin));
    ATLS_GUARD_GOTO(rc, done, atls_snp_check_signer_kind(&r, signer));
    ATLS_GUARD_GOTO(rc, done, atls_snp_check_cert_tcb(&ext, &r, turin));
    ATLS_GUARD_GOTO(rc, done, atls_snp_check_revocation(signer, pool, in, &revocation_checked));

    if (in->challenge != NULL) {
        if (CRYPTO_memcmp(in->challenge, r.report_data, ATLS_CHALLENGE_LEN) != 0) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_NONCE,
                           "SNP report: REPORT_DATA does not equal the challenge");
        }
        out->challenge_checked = 1;
    }
    ATLS_GUARD_GOTO(rc, done, atls_key_id(X509_get0_pubkey(signer), out->key_id));
    ATLS_GUARD_GOTO(rc, done,
                    atls_snp_claims(&r, turin, ext.product, revocation_checked, &out->claims));
    out->type = "snp";
    /* AR4SI: the chip key chains to AMD and its TCB equals the reported one; claimed only when
     * the ARK's CRL showed that the ASK and the VCEK are not revoked (EVIDENCE.md, "What each
     * tier requires"). */
    out->tv.hardware = revocation_checked ? 2 : 0;
    out->tv.instance_identity = revocation_checked ? 2 : 0;
done:
    if (rc != ATLS_OK) {
        json_decref(out->claims);
        memset(out, 0, sizeof(*out));
    }
    X509_free(file_cert);
    sk_X509_free(pool);
    return rc;
}

static atls_error snp_verify(const uint8_t *evidence, size_t len, const atls_verify_input *in,
                             atls_evidence_result *out)
{
    return atls_snp_verify_report(evidence, len, in, NULL, out);
}

const atls_verifier_ops atls_snp_verifier_ops = {
    .name = "snp",
    .media_type = ATLS_SNP_MEDIA_TYPE,
    .verify = snp_verify,
    .appraise = atls_snp_appraise,
    .check_policy = atls_snp_check_policy,
    .policy_from_result = atls_snp_policy_from_result,
};
