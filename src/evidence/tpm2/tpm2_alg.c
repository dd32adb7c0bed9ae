/* tpm2_alg.c: hash algorithm ids, qualified names, PCR selections and the PCR digest. */
#include "evidence/tpm2/tpm2.h"

#include "base/result.h"
#include "evidence/core/tcg_hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The hash table is the one of evidence/core/tcg_hash.c (event logs use it too). */
size_t atls_tpm2_hash_size(uint16_t alg)
{
    return atls_tcg_hash_size(alg);
}

const char *atls_tpm2_hash_name(uint16_t alg)
{
    return atls_tcg_hash_name(alg);
}

uint16_t atls_tpm2_hash_by_name(const char *name)
{
    return atls_tcg_hash_by_name(name);
}

const EVP_MD *atls_tpm2_hash_md(uint16_t alg)
{
    return atls_tcg_hash_md(alg);
}

/* Part 1 §16.6: QN_B = nameAlg_B || H_nameAlg_B(QN_parent || NAME_B). */
atls_error atls_tpm2_qualified_name(const uint8_t *parent_qn, size_t parent_len,
                                    const uint8_t *name, size_t name_len, uint8_t *out,
                                    size_t *out_len)
{
    ATLS_ENSURE(name_len >= 2, ATLS_ERR_USAGE, "TPM name too short");
    uint16_t alg = (uint16_t)((name[0] << 8) | name[1]);
    const EVP_MD *md = atls_tpm2_hash_md(alg);
    ATLS_ENSURE(md != NULL, ATLS_ERR_USAGE_UNSUPPORTED, "TPM name algorithm 0x%04x unknown", alg);
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
             EVP_DigestUpdate(ctx, parent_qn, parent_len) == 1 &&
             EVP_DigestUpdate(ctx, name, name_len) == 1 &&
             EVP_DigestFinal_ex(ctx, out + 2, &dlen) == 1;
    EVP_MD_CTX_free(ctx);
    ATLS_ENSURE(ok, ATLS_ERR_CRYPTO, "qualified name: digest failed");
    out[0] = name[0];
    out[1] = name[1];
    *out_len = 2 + (size_t)dlen;
    return ATLS_OK;
}

size_t atls_tpm2_pcr_selection_count(const atls_tpm2_pcr_selection *sel)
{
    size_t n = 0;
    for (size_t b = 0; b < sel->count; b++) {
        for (size_t i = 0; i < sel->banks[b].size_of_select; i++) {
            for (unsigned v = sel->banks[b].select[i]; v != 0; v &= v - 1) {
                n++;
            }
        }
    }
    return n;
}

static atls_error parse_index(const char *s, size_t len, unsigned *out)
{
    char buf[8];
    ATLS_ENSURE(len > 0 && len < sizeof(buf), ATLS_ERR_USAGE_CONFIG,
                "PCR selection: bad PCR index");
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(buf, &end, 10);
    ATLS_ENSURE(errno == 0 && end == buf + len && buf[0] >= '0' && buf[0] <= '9' &&
                    v < 8 * ATLS_TPM2_MAX_SELECT,
                ATLS_ERR_USAGE_CONFIG, "PCR selection: PCR index '%s' is not in 0..%d", buf,
                8 * ATLS_TPM2_MAX_SELECT - 1);
    *out = (unsigned)v;
    return ATLS_OK;
}

/* One bank: "<hash>:<list>" where list is comma-separated indices or ranges a-b. */
static atls_error parse_bank(const char *s, size_t len, atls_tpm2_pcr_bank *bank)
{
    const char *colon = memchr(s, ':', len);
    ATLS_ENSURE(colon != NULL, ATLS_ERR_USAGE_CONFIG,
                "PCR selection: expected <hash>:<indices>, e.g. sha256:0-7,23");
    char alg[8];
    size_t alen = (size_t)(colon - s);
    ATLS_ENSURE(alen > 0 && alen < sizeof(alg), ATLS_ERR_USAGE_CONFIG,
                "PCR selection: bad hash name");
    memcpy(alg, s, alen);
    alg[alen] = '\0';
    memset(bank, 0, sizeof(*bank));
    bank->hash = atls_tpm2_hash_by_name(alg);
    ATLS_ENSURE(bank->hash != 0, ATLS_ERR_USAGE_CONFIG, "PCR selection: unknown hash '%s'", alg);
    bank->size_of_select = 3; /* PCRs 0..23 (PC Client); grown below if a higher PCR is used */
    const char *p = colon + 1;
    const char *end = s + len;
    ATLS_ENSURE(p < end, ATLS_ERR_USAGE_CONFIG, "PCR selection: no PCR listed for %s", alg);
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma != NULL ? comma : end;
        const char *dash = memchr(p, '-', (size_t)(item_end - p));
        unsigned lo, hi;
        ATLS_GUARD(parse_index(p, (size_t)((dash ? dash : item_end) - p), &lo));
        hi = lo;
        if (dash != NULL) {
            ATLS_GUARD(parse_index(dash + 1, (size_t)(item_end - dash - 1), &hi));
            ATLS_ENSURE(hi >= lo, ATLS_ERR_USAGE_CONFIG, "PCR selection: empty range %u-%u",
                        lo, hi);
        }
        for (unsigned i = lo; i <= hi; i++) {
            bank->select[i / 8] = (uint8_t)(bank->select[i / 8] | (1u << (i % 8)));
            if (i / 8 + 1 > bank->size_of_select) {
                bank->size_of_select = (uint8_t)(i / 8 + 1);
            }
        }
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    return ATLS_OK;
}

atls_error atls_tpm2_pcr_selection_parse(const char *spec, atls_tpm2_pcr_selection *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(spec != NULL && spec[0] != '\0', ATLS_ERR_USAGE_CONFIG, "PCR selection is empty");
    const char *p = spec;
    for (;;) {
        const char *plus = strchr(p, '+');
        size_t len = plus != NULL ? (size_t)(plus - p) : strlen(p);
        ATLS_ENSURE(out->count < ATLS_TPM2_MAX_BANKS, ATLS_ERR_USAGE_CONFIG,
                    "PCR selection: more than %d banks", ATLS_TPM2_MAX_BANKS);
        atls_tpm2_pcr_bank *bank = &out->banks[out->count];
        ATLS_GUARD(parse_bank(p, len, bank));
        for (size_t b = 0; b < out->count; b++) {
            ATLS_ENSURE(out->banks[b].hash != bank->hash, ATLS_ERR_USAGE_CONFIG,
                        "PCR selection: bank %s listed twice", atls_tpm2_hash_name(bank->hash));
        }
        out->count++;
        if (plus == NULL) {
            break;
        }
        p = plus + 1;
    }
    return ATLS_OK;
}

static const atls_tpm2_pcr_value *find_pcr(const atls_tpm2_pcr_value *pcrs, size_t n,
                                           uint16_t alg, unsigned index)
{
    for (size_t i = 0; i < n; i++) {
        if (pcrs[i].alg == alg && pcrs[i].index == index) {
            return &pcrs[i];
        }
    }
    return NULL;
}

/* Part 3 §18.4 (TPM2_Quote): pcrDigest is the digest, with the signing scheme's hash, of the
 * selected PCR values concatenated in selection order (bank order, then ascending index). */
atls_error atls_tpm2_pcr_digest(uint16_t alg, const atls_tpm2_pcr_selection *sel,
                                const atls_tpm2_pcr_value *pcrs, size_t num_pcrs, uint8_t *out,
                                size_t *out_len)
{
    const EVP_MD *md = atls_tpm2_hash_md(alg);
    ATLS_ENSURE(md != NULL, ATLS_ERR_EVIDENCE, "TPM quote: pcrDigest hash 0x%04x unsupported",
                alg);
    size_t selected = atls_tpm2_pcr_selection_count(sel);
    ATLS_ENSURE(num_pcrs == selected, ATLS_ERR_EVIDENCE,
                "TPM quote: %zu PCR values supplied but the quote selects %zu", num_pcrs,
                selected);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = ATLS_OK;
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestInit_ex(ctx, md, NULL), ATLS_ERR_CRYPTO,
                         "pcrDigest init");
    for (size_t b = 0; b < sel->count; b++) {
        const atls_tpm2_pcr_bank *bank = &sel->banks[b];
        size_t dsize = atls_tpm2_hash_size(bank->hash);
        for (unsigned i = 0; i < 8u * bank->size_of_select; i++) {
            if ((bank->select[i / 8] & (1u << (i % 8))) == 0) {
                continue;
            }
            if (dsize == 0) {
                ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE,
                               "TPM quote: PCR bank hash 0x%04x unsupported", bank->hash);
            }
            const atls_tpm2_pcr_value *v = find_pcr(pcrs, num_pcrs, bank->hash, i);
            if (v == NULL) {
                ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE,
                               "TPM quote: value of selected PCR %s:%u not supplied",
                               atls_tpm2_hash_name(bank->hash), i);
            }
            if (v->digest_len != dsize) {
                ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE,
                               "TPM quote: PCR %s:%u value has %u bytes, expected %zu",
                               atls_tpm2_hash_name(bank->hash), i, v->digest_len, dsize);
            }
            ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestUpdate(ctx, v->digest, v->digest_len),
                                 ATLS_ERR_CRYPTO, "pcrDigest update");
        }
    }
    unsigned int dlen = 0;
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestFinal_ex(ctx, out, &dlen), ATLS_ERR_CRYPTO,
                         "pcrDigest final");
    *out_len = dlen;
done:
    EVP_MD_CTX_free(ctx);
    return rc;
}

void atls_tpm2_quote_cleanup(atls_tpm2_quote *q)
{
    if (q == NULL) {
        return;
    }
    atls_buf_cleanup(&q->attest);
    atls_buf_cleanup(&q->sig);
    atls_buf_cleanup(&q->ak_public);
    atls_buf_cleanup(&q->ak_cert);
    free(q->pcrs);
    memset(q, 0, sizeof(*q));
}
