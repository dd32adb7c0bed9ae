/* tpm2_attester.c: quotes from a TPM through tpm2-tss ESAPI (evidence-formats.md 1.6).
 *
 * The ESYS context and the AK stay open across quotes (Esys_CreatePrimary costs ~3 ms, a quote
 * ~1 ms on swtpm). A primary is derived from the endorsement seed and the template, so the same
 * AK comes back after a restart. Nothing else stays loaded: swtpm has 3 object slots and there
 * is no resource manager.
 *
 * TCTI: the configured one, or (none configured) tpm2-tss's own default search, the one
 * tpm2-tools uses: libtss2-tcti-default.so, the tabrmd resource manager, /dev/tpmrm0,
 * /dev/tpm0, then a swtpm or mssim simulator on localhost:2321 (tctildr-dl.c of tpm2-tss
 * 3.2, as Debian 12 ships it).
 *
 * Recovery: a TPM that goes away under a running attester (swtpm restarted, the device reset,
 * a resource manager restarted) leaves the ESYS context unusable: every later call fails
 * "Function called in the wrong order". A quote that fails that way drops the context, and
 * the attester opens the TPM again and re-creates (or re-opens) the AK, at once and then with
 * exponential backoff (RECONNECT_FIRST_MS doubling to RECONNECT_MAX_MS) while it stays away;
 * meanwhile quotes fail at once, saying why and when the next attempt is. The primary AK
 * comes back the same (same seed, same template). When the TPM itself did not restart (its
 * resetCount and restartCount are those seen when the AK was made, so transient objects
 * survived) the old AK is flushed, so reconnecting never leaks one of swtpm's three object
 * slots.
 *
 * PCR race: the quote is taken first, then the selected PCRs are read, and the attester
 * recomputes pcrDigest from what it read. If a PCR was extended in between, the digests differ
 * and the attester retries (up to ATTEMPTS times) instead of shipping values that do not match
 * the signed digest. The verifier recomputes the digest anyway, so a race can only ever show up
 * as a failure, never as a silent success. */
#include "evidence/tpm2/tpm2.h"

#include "base/result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#define ATTEMPTS 3
#define RECONNECT_FIRST_MS 250
#define RECONNECT_MAX_MS 5000

struct atls_tpm2_attester {
    char *tcti_conf;              /* NULL: the default search */
    uint32_t ak_handle;           /* configured persistent AK, 0: the primary */
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;           /* NULL while the TPM is lost */
    ESYS_TR ak;
    int ak_is_primary;
    TPM2_HANDLE ak_tpm_handle;    /* the primary's transient handle, 0: none */
    UINT32 reset_count, restart_count; /* the TPM's, when the AK was made */
    TSS2_RC last_rc;              /* of the last failed TSS call */
    TPML_PCR_SELECTION sel;
    atls_buf ak_public;
    /* while lost: why, and when to try again */
    char lost_reason[200];
    int64_t retry_at_ms;
    int backoff_ms;
};

/* TSS_CHECK raises ATLS_ERR_EVIDENCE_ATTESTER for a failed TSS call of attester |a|,
 * keeping its code for tpm_lost */
#define TSS_CHECK(a, call, what)                                                                  \
    do {                                                                                          \
        TSS2_RC tss_rc_ = (call);                                                                 \
        if (tss_rc_ != TSS2_RC_SUCCESS) {                                                         \
            (a)->last_rc = tss_rc_;                                                               \
            ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER, "TPM: %s failed: %s", (what),                  \
                       Tss2_RC_Decode(tss_rc_));                                                  \
        }                                                                                         \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tpm_lost: |rc| says the TPM or its transport went away, not that a command was refused:
 * the transport failed (TCTI layer), ESYS gave up on the context (bad sequence after such a
 * failure, a malformed or short response), the TPM was restarted and not started up again,
 * or our AK is no longer loaded (a reset under a resource manager). */
static int tpm_lost(TSS2_RC rc)
{
    if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER) {
        return 1;
    }
    if ((rc & TSS2_RC_LAYER_MASK) == TSS2_ESAPI_RC_LAYER) {
        TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;
        return base == TSS2_BASE_RC_BAD_SEQUENCE || base == TSS2_BASE_RC_MALFORMED_RESPONSE ||
               base == TSS2_BASE_RC_INSUFFICIENT_RESPONSE || base == TSS2_BASE_RC_IO_ERROR ||
               base == TSS2_BASE_RC_NO_CONNECTION;
    }
    if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER) {
        TSS2_RC tpm = rc & 0xfff;
        if (tpm & TPM2_RC_FMT1) {
            return (tpm & 0x3f) == (TPM2_RC_HANDLE & 0x3f); /* a handle, of any position */
        }
        return tpm == TPM2_RC_INITIALIZE ||
               (tpm >= TPM2_RC_REFERENCE_H0 && tpm <= TPM2_RC_REFERENCE_H0 + 6);
    }
    return 0;
}

/* open_tpm opens |tcti_conf|, or with NULL/"" tpm2-tss's default search (above). */
static atls_error open_tpm(const char *tcti_conf, TSS2_TCTI_CONTEXT **tcti, ESYS_CONTEXT **esys)
{
    int dflt = tcti_conf == NULL || tcti_conf[0] == '\0';
    TSS2_RC rc = Tss2_TctiLdr_Initialize(dflt ? NULL : tcti_conf, tcti);
    if (rc != TSS2_RC_SUCCESS && dflt) {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                   "TPM: none found by the default search (resource manager tabrmd, "
                   "device:/dev/tpmrm0, device:/dev/tpm0, swtpm and mssim on localhost:2321): %s; "
                   "name one with --tpm-tcti or ATLS_TPM2_TCTI",
                   Tss2_RC_Decode(rc));
    }
    ATLS_ENSURE(rc == TSS2_RC_SUCCESS, ATLS_ERR_EVIDENCE_ATTESTER,
                "TPM: cannot open TCTI '%s': %s", tcti_conf, Tss2_RC_Decode(rc));
    rc = Esys_Initialize(esys, *tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        Tss2_TctiLdr_Finalize(tcti);
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER, "TPM: Esys_Initialize on '%s': %s",
                   dflt ? "(default)" : tcti_conf, Tss2_RC_Decode(rc));
    }
    return ATLS_OK;
}

static void close_tpm(TSS2_TCTI_CONTEXT **tcti, ESYS_CONTEXT **esys)
{
    if (*esys != NULL) {
        Esys_Finalize(esys);
    }
    if (*tcti != NULL) {
        Tss2_TctiLdr_Finalize(tcti);
    }
}

atls_error atls_tpm2_probe(const char *tcti_conf)
{
    TSS2_TCTI_CONTEXT *tcti = NULL;
    ESYS_CONTEXT *esys = NULL;
    ATLS_GUARD(open_tpm(tcti_conf, &tcti, &esys));
    close_tpm(&tcti, &esys);
    return ATLS_OK;
}

/* The AK template of evidence-formats.md 1.6: ECC P-256 restricted ECDSA/SHA-256 signing key. */
static atls_error create_primary_ak(atls_tpm2_attester *a, TPM2B_PUBLIC **pub)
{
    const TPM2B_SENSITIVE_CREATE sensitive = {0};
    const TPM2B_DATA outside = {0};
    const TPML_PCR_SELECTION creation_pcr = {0};
    TPM2B_PUBLIC tmpl = {0};
    tmpl.publicArea.type = TPM2_ALG_ECC;
    tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
    tmpl.publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
                                       TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                       TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                       TPMA_OBJECT_USERWITHAUTH;
    TPMS_ECC_PARMS *ecc = &tmpl.publicArea.parameters.eccDetail;
    ecc->symmetric.algorithm = TPM2_ALG_NULL;
    ecc->scheme.scheme = TPM2_ALG_ECDSA;
    ecc->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    ecc->curveID = TPM2_ECC_NIST_P256;
    ecc->kdf.scheme = TPM2_ALG_NULL;
    TSS_CHECK(a, Esys_CreatePrimary(a->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                 ESYS_TR_NONE, &sensitive, &tmpl, &outside, &creation_pcr, &a->ak,
                                 pub, NULL, NULL, NULL),
              "CreatePrimary (AK under the endorsement hierarchy)");
    a->ak_is_primary = 1;
    /* what flush_stale needs to recognise this object after a lost connection */
    TPMS_TIME_INFO *t = NULL;
    if (Esys_TR_GetTpmHandle(a->esys, a->ak, &a->ak_tpm_handle) != TSS2_RC_SUCCESS ||
        Esys_ReadClock(a->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &t) !=
            TSS2_RC_SUCCESS) {
        a->ak_tpm_handle = 0; /* unknown: never flushed by handle */
    } else {
        a->reset_count = t->clockInfo.resetCount;
        a->restart_count = t->clockInfo.restartCount;
    }
    Esys_Free(t);
    return ATLS_OK;
}

/* flush_stale: after reconnecting, flush the primary AK of the lost context when the TPM did
 * not restart meanwhile (transient objects survive a lost connection to a TPM without a
 * resource manager, swtpm's case) and the object at its handle is still that AK. */
static void flush_stale(atls_tpm2_attester *a)
{
    TPMS_TIME_INFO *t = NULL;
    ESYS_TR old = ESYS_TR_NONE;
    TPM2B_PUBLIC *pub = NULL;
    if (a->ak_tpm_handle == 0 ||
        Esys_ReadClock(a->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &t) !=
            TSS2_RC_SUCCESS) {
        goto done;
    }
    if (t->clockInfo.resetCount != a->reset_count ||
        t->clockInfo.restartCount != a->restart_count) {
        goto done; /* the TPM restarted: every transient object is gone */
    }
    if (Esys_TR_FromTPMPublic(a->esys, a->ak_tpm_handle, ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, &old) != TSS2_RC_SUCCESS ||
        Esys_ReadPublic(a->esys, old, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL,
                        NULL) != TSS2_RC_SUCCESS) {
        goto done; /* gone already (a resource manager flushed it) */
    }
    uint8_t buf[sizeof(TPM2B_PUBLIC)];
    size_t off = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) == TSS2_RC_SUCCESS &&
        off == a->ak_public.len && memcmp(buf, a->ak_public.data, off) == 0) {
        (void)Esys_FlushContext(a->esys, old); /* our AK: same handle, same key */
        old = ESYS_TR_NONE;
    }
done:
    if (old != ESYS_TR_NONE) {
        (void)Esys_TR_Close(a->esys, &old);
    }
    Esys_Free(pub);
    Esys_Free(t);
    a->ak_tpm_handle = 0;
}

static atls_error open_persistent_ak(atls_tpm2_attester *a, uint32_t handle, TPM2B_PUBLIC **pub)
{
    ATLS_ENSURE((handle >> 24) == TPM2_HT_PERSISTENT, ATLS_ERR_USAGE_CONFIG,
                "TPM: AK handle 0x%08x is not a persistent handle (0x81xxxxxx)", handle);
    TSS_CHECK(a, Esys_TR_FromTPMPublic(a->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    &a->ak),
              "TR_FromTPMPublic (persistent AK)");
    TSS_CHECK(a, Esys_ReadPublic(a->esys, a->ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, pub, NULL,
                              NULL),
              "ReadPublic (persistent AK)");
    return ATLS_OK;
}

static atls_error load_ak(atls_tpm2_attester *a, uint32_t handle)
{
    TPM2B_PUBLIC *pub = NULL;
    atls_error rc = handle != 0 ? open_persistent_ak(a, handle, &pub) : create_primary_ak(a, &pub);
    if (rc != ATLS_OK) {
        Esys_Free(pub);
        return rc;
    }
    uint8_t buf[sizeof(TPM2B_PUBLIC)];
    size_t off = 0;
    TSS2_RC trc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off);
    Esys_Free(pub);
    ATLS_ENSURE(trc == TSS2_RC_SUCCESS, ATLS_ERR_INTERNAL, "TPM: marshal AK public: %s",
                Tss2_RC_Decode(trc));
    ATLS_GUARD(atls_buf_set(&a->ak_public, buf, off));
    /* Our own parser decides whether the key is usable, exactly as a verifier will. */
    atls_tpm2_public parsed;
    rc = atls_tpm2_public_parse(buf, off, &parsed);
    if (rc == ATLS_OK) {
        rc = atls_tpm2_public_check_ak(&parsed);
    }
    atls_tpm2_public_cleanup(&parsed);
    if (rc != ATLS_OK) {
        char why[256];
        snprintf(why, sizeof(why), "%s", atls_error_message());
        ATLS_RAISE(ATLS_ERR_USAGE_CONFIG, "TPM: AK 0x%08x is not usable: %s", handle, why);
    }
    return ATLS_OK;
}

atls_error atls_tpm2_attester_new(const atls_tpm2_attester_config *cfg,
                                  atls_tpm2_attester **out)
{
    ATLS_ENSURE(cfg != NULL && out != NULL, ATLS_ERR_USAGE, "atls_tpm2_attester_new: NULL");
    atls_tpm2_pcr_selection def;
    const atls_tpm2_pcr_selection *sel = cfg->pcrs;
    if (sel == NULL) {
        ATLS_GUARD(atls_tpm2_pcr_selection_parse("sha256:0-7,23", &def));
        sel = &def;
    }
    ATLS_ENSURE(sel->count <= TPM2_NUM_PCR_BANKS, ATLS_ERR_USAGE_CONFIG,
                "TPM: %zu PCR banks selected, at most %d", sel->count, TPM2_NUM_PCR_BANKS);
    atls_tpm2_attester *a = calloc(1, sizeof(*a));
    ATLS_ENSURE(a != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    a->ak = ESYS_TR_NONE;
    a->ak_handle = cfg->ak_handle;
    if (cfg->tcti != NULL && cfg->tcti[0] != '\0' && (a->tcti_conf = strdup(cfg->tcti)) == NULL) {
        free(a);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    a->sel.count = (UINT32)sel->count;
    for (size_t b = 0; b < sel->count; b++) {
        a->sel.pcrSelections[b].hash = sel->banks[b].hash;
        a->sel.pcrSelections[b].sizeofSelect = sel->banks[b].size_of_select;
        memcpy(a->sel.pcrSelections[b].pcrSelect, sel->banks[b].select,
               sel->banks[b].size_of_select);
    }
    atls_error rc = open_tpm(a->tcti_conf, &a->tcti, &a->esys);
    if (rc == ATLS_OK) {
        rc = load_ak(a, cfg->ak_handle);
    }
    if (rc != ATLS_OK) {
        atls_tpm2_attester_free(a);
        return rc;
    }
    *out = a;
    return ATLS_OK;
}

void atls_tpm2_attester_free(atls_tpm2_attester *a)
{
    if (a == NULL) {
        return;
    }
    if (a->esys != NULL && a->ak != ESYS_TR_NONE) {
        if (a->ak_is_primary) {
            (void)Esys_FlushContext(a->esys, a->ak);
        } else {
            (void)Esys_TR_Close(a->esys, &a->ak); /* persistent: only forget the ESYS object */
        }
    }
    close_tpm(&a->tcti, &a->esys);
    atls_buf_cleanup(&a->ak_public);
    free(a->tcti_conf);
    free(a);
}

/* lose drops a context whose TPM went away (no TPM command: there is no TPM to talk to) */
static void lose(atls_tpm2_attester *a, const char *why)
{
    snprintf(a->lost_reason, sizeof(a->lost_reason), "%s", why);
    close_tpm(&a->tcti, &a->esys);
    a->ak = ESYS_TR_NONE;
    a->backoff_ms = 0;
    a->retry_at_ms = 0;
}

/* reconnect opens the TPM again and loads the AK, unless the backoff says not yet */
static atls_error reconnect(atls_tpm2_attester *a)
{
    int64_t now = now_ms();
    ATLS_ENSURE(now >= a->retry_at_ms, ATLS_ERR_EVIDENCE_ATTESTER,
                "TPM unavailable (%s); next reconnect attempt in %lld ms", a->lost_reason,
                (long long)(a->retry_at_ms - now));
    atls_error rc = open_tpm(a->tcti_conf, &a->tcti, &a->esys);
    if (rc == ATLS_OK) {
        flush_stale(a);
        rc = load_ak(a, a->ak_handle);
    }
    if (rc != ATLS_OK) {
        char why[256];
        snprintf(why, sizeof(why), "%s", atls_error_message());
        if (a->esys != NULL && a->ak != ESYS_TR_NONE && a->ak_is_primary) {
            (void)Esys_FlushContext(a->esys, a->ak);
        }
        close_tpm(&a->tcti, &a->esys);
        a->ak = ESYS_TR_NONE;
        a->backoff_ms = a->backoff_ms == 0 ? RECONNECT_FIRST_MS
                        : a->backoff_ms >= RECONNECT_MAX_MS / 2 ? RECONNECT_MAX_MS
                                                                : a->backoff_ms * 2;
        a->retry_at_ms = now_ms() + a->backoff_ms;
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                   "TPM unavailable (%s); reconnecting failed: %s; next attempt in %d ms",
                   a->lost_reason, why, a->backoff_ms);
    }
    a->backoff_ms = 0;
    a->lost_reason[0] = '\0';
    return ATLS_OK;
}

const atls_buf *atls_tpm2_attester_get0_ak_public(const atls_tpm2_attester *a)
{
    return &a->ak_public;
}

static int selection_empty(const TPML_PCR_SELECTION *s)
{
    for (UINT32 b = 0; b < s->count; b++) {
        for (UINT8 i = 0; i < s->pcrSelections[b].sizeofSelect; i++) {
            if (s->pcrSelections[b].pcrSelect[i] != 0) {
                return 0;
            }
        }
    }
    return 1;
}

/* TPM2_PCR_Read returns at most 8 digests per call (TPML_DIGEST), lowest first: read what is
 * left until every selected PCR has a value. */
static atls_error read_pcrs(atls_tpm2_attester *a, atls_tpm2_pcr_value *vals, size_t max,
                            size_t *num)
{
    TPML_PCR_SELECTION left = a->sel;
    size_t n = 0;
    while (!selection_empty(&left)) {
        TPML_PCR_SELECTION *got = NULL;
        TPML_DIGEST *dig = NULL;
        UINT32 counter = 0;
        TSS_CHECK(a, Esys_PCR_Read(a->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &left,
                                &counter, &got, &dig),
                  "PCR_Read");
        atls_error rc = ATLS_OK;
        UINT32 k = 0;
        for (UINT32 b = 0; b < got->count && rc == ATLS_OK; b++) {
            const TPMS_PCR_SELECTION *gs = &got->pcrSelections[b];
            TPMS_PCR_SELECTION *ls = NULL;
            for (UINT32 j = 0; j < left.count; j++) {
                if (left.pcrSelections[j].hash == gs->hash) {
                    ls = &left.pcrSelections[j];
                }
            }
            for (unsigned i = 0; i < 8u * gs->sizeofSelect && rc == ATLS_OK; i++) {
                if ((gs->pcrSelect[i / 8] & (1u << (i % 8))) == 0) {
                    continue;
                }
                if (ls == NULL || k >= dig->count || n >= max ||
                    dig->digests[k].size > ATLS_TPM2_MAX_DIGEST ||
                    dig->digests[k].size != atls_tpm2_hash_size(gs->hash)) {
                    rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                                          "TPM: PCR_Read returned an inconsistent answer");
                    break;
                }
                vals[n].alg = gs->hash;
                vals[n].index = (uint8_t)i;
                vals[n].digest_len = (uint8_t)dig->digests[k].size;
                memcpy(vals[n].digest, dig->digests[k].buffer, dig->digests[k].size);
                ls->pcrSelect[i / 8] = (BYTE)(ls->pcrSelect[i / 8] & ~(1u << (i % 8)));
                n++;
                k++;
            }
        }
        Esys_Free(got);
        Esys_Free(dig);
        ATLS_GUARD(rc);
        /* No progress means a selected bank is not allocated on this TPM. */
        ATLS_ENSURE(k > 0, ATLS_ERR_EVIDENCE_ATTESTER,
                    "TPM: PCR_Read returned no values (is the selected PCR bank allocated?)");
    }
    *num = n;
    return ATLS_OK;
}

/* One quote attempt. *matched tells whether the PCRs read afterwards hash to pcrDigest. */
static atls_error quote_once(atls_tpm2_attester *a, const TPM2B_DATA *qd, atls_tpm2_quote *out,
                             int *matched)
{
    const TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL}; /* the AK's own scheme */
    TPM2B_ATTEST *quoted = NULL;
    TPMT_SIGNATURE *sig = NULL;
    TSS_CHECK(a, Esys_Quote(a->esys, a->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, qd,
                         &scheme, &a->sel, &quoted, &sig),
              "Quote");
    uint8_t sigbuf[sizeof(TPMT_SIGNATURE)];
    size_t siglen = 0;
    TSS2_RC trc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sigbuf, sizeof(sigbuf), &siglen);
    uint16_t sig_hash = sig->signature.any.hashAlg;
    atls_error rc = ATLS_OK;
    if (trc != TSS2_RC_SUCCESS) {
        rc = atls_error_raise(ATLS_ERR_INTERNAL, __FILE__, __LINE__, "TPM: marshal signature: %s",
                              Tss2_RC_Decode(trc));
    }
    if (rc == ATLS_OK) {
        rc = atls_buf_set(&out->attest, quoted->attestationData, quoted->size);
    }
    Esys_Free(quoted);
    Esys_Free(sig);
    ATLS_GUARD(rc);
    ATLS_GUARD(atls_buf_set(&out->sig, sigbuf, siglen));

    atls_tpm2_attest att;
    ATLS_GUARD(atls_tpm2_attest_parse(out->attest.data, out->attest.len, &att));
    size_t max = atls_tpm2_pcr_selection_count(&att.pcr_select);
    free(out->pcrs);
    out->num_pcrs = 0;
    out->pcrs = calloc(max == 0 ? 1 : max, sizeof(*out->pcrs));
    ATLS_ENSURE(out->pcrs != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    ATLS_GUARD(read_pcrs(a, out->pcrs, max, &out->num_pcrs));
    uint8_t digest[ATLS_TPM2_MAX_DIGEST];
    size_t dlen = 0;
    *matched = atls_tpm2_pcr_digest(sig_hash, &att.pcr_select, out->pcrs, out->num_pcrs, digest,
                                    &dlen) == ATLS_OK &&
               dlen == att.pcr_digest_len && memcmp(digest, att.pcr_digest, dlen) == 0;
    return ATLS_OK;
}

static atls_error quote_attempts(atls_tpm2_attester *a, const TPM2B_DATA *qd,
                                 atls_tpm2_quote *out);

atls_error atls_tpm2_attester_quote(atls_tpm2_attester *a, const uint8_t *challenge, size_t len,
                                    atls_tpm2_quote *out)
{
    ATLS_ENSURE(a != NULL && out != NULL, ATLS_ERR_USAGE, "atls_tpm2_attester_quote: NULL");
    ATLS_ENSURE(len <= ATLS_TPM2_MAX_EXTRA && (challenge != NULL || len == 0), ATLS_ERR_USAGE,
                "TPM: qualifyingData of %zu bytes (at most %d)", len, ATLS_TPM2_MAX_EXTRA);
    memset(out, 0, sizeof(*out));
    TPM2B_DATA qd = {.size = (UINT16)len};
    if (len > 0) {
        memcpy(qd.buffer, challenge, len);
    }
    if (a->esys == NULL) {
        ATLS_GUARD(reconnect(a));
    }
    atls_error rc = quote_attempts(a, &qd, out);
    if (rc != ATLS_OK && tpm_lost(a->last_rc)) {
        /* the TPM went away since the last quote: once more on a fresh context (it may be
         * back already, e.g. restarted long ago), then fail and leave the rest to backoff */
        char why[200];
        snprintf(why, sizeof(why), "%s", atls_error_message());
        lose(a, why);
        a->last_rc = TSS2_RC_SUCCESS;
        ATLS_GUARD(reconnect(a));
        rc = quote_attempts(a, &qd, out);
        if (rc != ATLS_OK && tpm_lost(a->last_rc)) {
            snprintf(why, sizeof(why), "%s", atls_error_message());
            lose(a, why);
            a->retry_at_ms = now_ms() + RECONNECT_FIRST_MS;
            a->backoff_ms = RECONNECT_FIRST_MS;
        }
    }
    return rc;
}

/* quote_attempts: the quote, retried while PCRs change under it */
static atls_error quote_attempts(atls_tpm2_attester *a, const TPM2B_DATA *qd,
                                 atls_tpm2_quote *out)
{
    atls_error rc = ATLS_OK;
    a->last_rc = TSS2_RC_SUCCESS;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int matched = 0;
        rc = quote_once(a, qd, out, &matched);
        if (rc != ATLS_OK) {
            break;
        }
        if (matched) {
            ATLS_GUARD_GOTO(rc, fail, atls_buf_set(&out->ak_public, a->ak_public.data,
                                                   a->ak_public.len));
            return ATLS_OK;
        }
        rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                              "TPM: PCRs kept changing while quoting (%d attempts)", ATTEMPTS);
    }
fail:
    atls_tpm2_quote_cleanup(out);
    return rc;
}

atls_error atls_tpm2_pcr_extend(const char *tcti, unsigned pcr, const uint8_t digest[32])
{
    ATLS_ENSURE(pcr <= 23, ATLS_ERR_USAGE, "TPM: PCR %u out of range 0..23", pcr);
    TSS2_TCTI_CONTEXT *t = NULL;
    ESYS_CONTEXT *esys = NULL;
    ATLS_GUARD(open_tpm(tcti, &t, &esys));
    TPML_DIGEST_VALUES vals = {.count = 1};
    vals.digests[0].hashAlg = TPM2_ALG_SHA256;
    memcpy(vals.digests[0].digest.sha256, digest, 32);
    TSS2_RC rc = Esys_PCR_Extend(esys, (ESYS_TR)(ESYS_TR_PCR0 + pcr), ESYS_TR_PASSWORD,
                                 ESYS_TR_NONE, ESYS_TR_NONE, &vals);
    close_tpm(&t, &esys);
    ATLS_ENSURE(rc == TSS2_RC_SUCCESS, ATLS_ERR_EVIDENCE_ATTESTER, "TPM: PCR_Extend(%u): %s", pcr,
                Tss2_RC_Decode(rc));
    return ATLS_OK;
}

/* TPM2_NV_Read moves at most TPM_PT_NV_BUFFER_MAX bytes per call (1024 on common TPMs; 512 is
 * below every value seen). */
#define NV_CHUNK 512u

atls_error atls_tpm2_nv_read(const char *tcti, uint32_t index, size_t max, uint8_t **out,
                             size_t *out_len)
{
    ATLS_ENSURE(out != NULL && out_len != NULL, ATLS_ERR_USAGE, "atls_tpm2_nv_read: NULL");
    *out = NULL;
    *out_len = 0;
    ATLS_ENSURE((index >> 24) == TPM2_HT_NV_INDEX, ATLS_ERR_USAGE_CONFIG,
                "TPM: 0x%08x is not an NV index (0x01xxxxxx)", index);
    TSS2_TCTI_CONTEXT *t = NULL;
    ESYS_CONTEXT *esys = NULL;
    ATLS_GUARD(open_tpm(tcti, &t, &esys));
    atls_error rc = ATLS_OK;
    ESYS_TR nv = ESYS_TR_NONE;
    TPM2B_NV_PUBLIC *pub = NULL;
    uint8_t *buf = NULL;
    TSS2_RC trc = Esys_TR_FromTPMPublic(esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        &nv);
    if (trc != TSS2_RC_SUCCESS) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_ATTESTER, "TPM: NV index 0x%08x: %s", index,
                       Tss2_RC_Decode(trc));
    }
    trc = Esys_NV_ReadPublic(esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
    if (trc != TSS2_RC_SUCCESS) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_ATTESTER, "TPM: NV_ReadPublic(0x%08x): %s",
                       index, Tss2_RC_Decode(trc));
    }
    size_t size = pub->nvPublic.dataSize;
    if (size == 0 || size > max) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_ATTESTER,
                       "TPM: NV index 0x%08x holds %zu bytes (expected 1..%zu)", index, size, max);
    }
    buf = malloc(size);
    if (buf == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    for (size_t off = 0; off < size;) {
        UINT16 n = (UINT16)(size - off < NV_CHUNK ? size - off : NV_CHUNK);
        TPM2B_MAX_NV_BUFFER *chunk = NULL;
        /* owner authorisation with the empty password, as Azure's index is read */
        trc = Esys_NV_Read(esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, n, (UINT16)off, &chunk);
        if (trc != TSS2_RC_SUCCESS || chunk->size != n) {
            Esys_Free(chunk);
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_ATTESTER, "TPM: NV_Read(0x%08x): %s",
                           index, trc != TSS2_RC_SUCCESS ? Tss2_RC_Decode(trc) : "short read");
        }
        memcpy(buf + off, chunk->buffer, n);
        Esys_Free(chunk);
        off += n;
    }
    *out = buf;
    *out_len = size;
    buf = NULL;
done:
    free(buf);
    Esys_Free(pub);
    if (nv != ESYS_TR_NONE) {
        (void)Esys_TR_Close(esys, &nv);
    }
    close_tpm(&t, &esys);
    return rc;
}
