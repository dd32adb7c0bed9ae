/* stapled.c: Endorsement records of a CMW collection merged into the verify input
 * (stapled.h). */
#include "appraisal/appraise/stapled.h"

#include "base/result.h"
#include "evidence/tdx/tdx.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FORMAT ATLS_ERR_EVIDENCE_FORMAT
#define STALE ATLS_ERR_EVIDENCE_COLLATERAL_STALE

int atls_stapled_is_endorsement(const atls_cmw_leaf *leaf)
{
    return (leaf->ind & ATLS_CMW_IND_ENDORSEMENTS) != 0 && (leaf->ind & ATLS_CMW_IND_EVIDENCE) == 0;
}

void atls_stapled_cleanup(atls_stapled *s)
{
    if (s == NULL) {
        return;
    }
    sk_X509_pop_free(s->intermediates, X509_free);
    sk_X509_CRL_pop_free(s->crls, X509_CRL_free);
    memset(s, 0, sizeof(*s));
}

/* label_of writes the leaf's label (or its position) for messages. */
static void label_of(const atls_cmw_leaf *leaf, size_t index, char *out, size_t size)
{
    const atls_cbor_key *k = leaf->depth > 0 ? &leaf->path[leaf->depth - 1] : NULL;
    if (k != NULL && k->is_text) {
        snprintf(out, size, "\"%.*s\"", (int)(atls_cursor_remaining(&k->text) < 40
                                                  ? atls_cursor_remaining(&k->text)
                                                  : 40),
                 (const char *)atls_cursor_data(&k->text));
    } else if (k != NULL) {
        snprintf(out, size, "%lld", (long long)k->num);
    } else {
        snprintf(out, size, "%zu", index);
    }
}

/* window: |what| is valid at |at|: not_before <= at < not_after */
static atls_error check_window(const ASN1_TIME *not_before, const ASN1_TIME *not_after,
                               time_t at, const char *label, const char *what,
                               const char *until)
{
    ATLS_ENSURE(not_before == NULL || X509_cmp_time(not_before, &at) <= 0, STALE,
                "stapled %s (%s) is not valid yet at the verification time", label, what);
    ATLS_ENSURE(not_after != NULL && X509_cmp_time(not_after, &at) > 0, STALE,
                "stapled %s (%s) is stale: its %s has passed; the attester must refresh its "
                "collateral",
                label, what, until);
    return ATLS_OK;
}

static atls_error push_cert(atls_stapled *s, X509 *x, time_t at, const char *label)
{
    atls_error rc = check_window(X509_get0_notBefore(x), X509_get0_notAfter(x), at, label,
                                 "certificate", "notAfter");
    if (rc == ATLS_OK && sk_X509_num(s->intermediates) >= ATLS_STAPLED_MAX_CERTS) {
        rc = atls_error_raise(ATLS_ERR_DECODE_TOO_LARGE, __FILE__, __LINE__,
                              "stapled certificates: more than %d", ATLS_STAPLED_MAX_CERTS);
    }
    if (rc == ATLS_OK && !sk_X509_push(s->intermediates, x)) {
        rc = atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__, "out of memory");
    }
    if (rc != ATLS_OK) {
        X509_free(x);
    }
    return rc;
}

static atls_error add_der_cert(atls_stapled *s, const uint8_t *d, size_t len, time_t at,
                               const char *label)
{
    const unsigned char *p = d;
    X509 *x = len <= LONG_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
    ERR_clear_error();
    if (x == NULL || p != d + len) {
        X509_free(x);
        ATLS_RAISE(FORMAT, "stapled %s: not one DER certificate", label);
    }
    return push_cert(s, x, at, label);
}

static atls_error add_pem_chain(atls_stapled *s, const uint8_t *d, size_t len, time_t at,
                                const char *label)
{
    BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(d, (int)len) : NULL;
    ATLS_ENSURE(bio != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    int n = 0;
    X509 *x;
    atls_error rc = ATLS_OK;
    while (rc == ATLS_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        rc = push_cert(s, x, at, label);
        n++;
    }
    ERR_clear_error();
    BIO_free(bio);
    ATLS_GUARD(rc);
    ATLS_ENSURE(n > 0, FORMAT, "stapled %s: no PEM certificate", label);
    return ATLS_OK;
}

/* has_crl_of: |crls| holds a CRL of |issuer| */
static int has_crl_of(STACK_OF(X509_CRL) *crls, const X509_NAME *issuer)
{
    for (int i = 0; crls != NULL && i < sk_X509_CRL_num(crls); i++) {
        if (X509_NAME_cmp(X509_CRL_get_issuer(sk_X509_CRL_value(crls, i)), issuer) == 0) {
            return 1;
        }
    }
    return 0;
}

static atls_error add_crl(atls_stapled *s, const atls_verify_input *base, const uint8_t *d,
                          size_t len, time_t at, const char *label)
{
    const unsigned char *p = d;
    X509_CRL *crl = len <= LONG_MAX ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;
    ERR_clear_error();
    if (crl == NULL || p != d + len) {
        X509_CRL_free(crl);
        ATLS_RAISE(FORMAT, "stapled %s: not one DER CRL", label);
    }
    atls_error rc = check_window(X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl),
                                 at, label, "CRL", "nextUpdate");
    /* the relying party's own CRL of this issuer wins (it may be newer) */
    if (rc == ATLS_OK && base != NULL && has_crl_of(base->crls, X509_CRL_get_issuer(crl))) {
        X509_CRL_free(crl);
        return ATLS_OK;
    }
    if (rc == ATLS_OK && has_crl_of(s->crls, X509_CRL_get_issuer(crl))) {
        rc = atls_error_raise(FORMAT, __FILE__, __LINE__,
                              "stapled %s: a second CRL of the same issuer", label);
    }
    if (rc == ATLS_OK && !sk_X509_CRL_push(s->crls, crl)) {
        rc = atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__, "out of memory");
    }
    if (rc != ATLS_OK) {
        X509_CRL_free(crl);
    }
    return rc;
}

/* add_tdx_doc: a TCB Info or QE Identity, used when the relying party gave none */
static atls_error add_tdx_doc(const uint8_t *d, size_t len, time_t at, const char *label,
                              const char *member, int have_own, int *seen, const uint8_t **slot,
                              size_t *slot_len)
{
    time_t issue = 0, next = 0;
    atls_error rc = atls_tdx_collateral_window(d, len, member, &issue, &next);
    if (rc != ATLS_OK) {
        char why[200];
        snprintf(why, sizeof(why), "%s", atls_error_message());
        ATLS_RAISE(FORMAT, "stapled %s: %s", label, why);
    }
    ATLS_ENSURE(at >= issue, STALE, "stapled %s (%s) is not valid yet: issued after the "
                                    "verification time",
                label, member);
    ATLS_ENSURE(at < next, STALE,
                "stapled %s (%s) is stale: its nextUpdate has passed; the attester must "
                "refresh its collateral",
                label, member);
    ATLS_ENSURE(!*seen, FORMAT, "stapled %s: a second %s", label, member);
    *seen = 1;
    if (!have_own) {
        *slot = d;
        *slot_len = len;
    }
    return ATLS_OK;
}

/* copy_refs: a new stack holding references to every element of |src| (may be NULL) */
static atls_error copy_certs(STACK_OF(X509) *src, STACK_OF(X509) **out)
{
    *out = sk_X509_new_null();
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    for (int i = 0; src != NULL && i < sk_X509_num(src); i++) {
        X509 *x = sk_X509_value(src, i);
        if (!X509_up_ref(x) || !sk_X509_push(*out, x)) {
            X509_free(x);
            ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        }
    }
    return ATLS_OK;
}

static atls_error copy_crls(STACK_OF(X509_CRL) *src, STACK_OF(X509_CRL) **out)
{
    *out = sk_X509_CRL_new_null();
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    for (int i = 0; src != NULL && i < sk_X509_CRL_num(src); i++) {
        X509_CRL *c = sk_X509_CRL_value(src, i);
        if (!X509_CRL_up_ref(c) || !sk_X509_CRL_push(*out, c)) {
            X509_CRL_free(c);
            ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        }
    }
    return ATLS_OK;
}

/* merge_leaf adds one Endorsement record by its media type */
static atls_error merge_leaf(atls_stapled *s, const atls_verify_input *base,
                             const atls_cmw_leaf *leaf, size_t index, time_t at)
{
    char label[64];
    label_of(leaf, index, label, sizeof(label));
    const uint8_t *d = atls_cursor_data(&leaf->value);
    size_t len = atls_cursor_remaining(&leaf->value);
    ATLS_ENSURE(!leaf->type_is_cf, FORMAT,
                "stapled %s: Endorsements by content-format number are not understood", label);
    if (atls_cmw_leaf_type_is(leaf, ATLS_MEDIA_PKIX_CERT)) {
        return add_der_cert(s, d, len, at, label);
    }
    if (atls_cmw_leaf_type_is(leaf, ATLS_MEDIA_PEM_CHAIN)) {
        return add_pem_chain(s, d, len, at, label);
    }
    if (atls_cmw_leaf_type_is(leaf, ATLS_MEDIA_PKIX_CRL)) {
        return add_crl(s, base, d, len, at, label);
    }
    if (atls_cmw_leaf_type_is(leaf, ATLS_MEDIA_TDX_TCB_INFO)) {
        int own = base != NULL && (base->tcb_info_path != NULL || base->tcb_info != NULL);
        return add_tdx_doc(d, len, at, label, "tcbInfo", own, &s->seen_tcb_info, &s->in.tcb_info,
                           &s->in.tcb_info_len);
    }
    if (atls_cmw_leaf_type_is(leaf, ATLS_MEDIA_TDX_QE_IDENTITY)) {
        int own = base != NULL && (base->qe_identity_path != NULL || base->qe_identity != NULL);
        return add_tdx_doc(d, len, at, label, "enclaveIdentity", own, &s->seen_qe_identity,
                           &s->in.qe_identity,
                           &s->in.qe_identity_len);
    }
    size_t n = atls_cursor_remaining(&leaf->media_type);
    ATLS_RAISE(FORMAT, "stapled %s: Endorsements of media type \"%.*s\" are not understood",
               label, (int)(n < 80 ? n : 80), (const char *)atls_cursor_data(&leaf->media_type));
}

atls_error atls_stapled_merge(const atls_cmw *cmw, const atls_verify_input *base,
                              atls_stapled *out)
{
    memset(out, 0, sizeof(*out));
    if (base != NULL) {
        out->in = *base;
    }
    time_t at = base != NULL && base->at != 0 ? base->at : time(NULL);
    atls_error rc = copy_certs(base != NULL ? base->intermediates : NULL, &out->intermediates);
    if (rc == ATLS_OK) {
        rc = copy_crls(base != NULL ? base->crls : NULL, &out->crls);
    }
    for (size_t i = 0; rc == ATLS_OK && i < cmw->num_leaves; i++) {
        if (atls_stapled_is_endorsement(&cmw->leaves[i])) {
            rc = merge_leaf(out, base, &cmw->leaves[i], i, at);
            out->num_endorsements++;
        }
    }
    if (rc != ATLS_OK) {
        atls_stapled_cleanup(out);
        return rc;
    }
    out->in.intermediates = out->intermediates;
    out->in.crls = sk_X509_CRL_num(out->crls) > 0 ? out->crls : NULL;
    return ATLS_OK;
}
