/* tpm2_attest.c: TPMS_ATTEST parser (TPM 2.0 Part 2 §10.12.12), quotes only. */
#include "evidence/tpm2/tpm2.h"

#include "base/cursor.h"
#include "base/result.h"

#include <string.h>

/* A TPM2B into caller storage of |max| bytes. */
static atls_error get_tpm2b(atls_cursor *c, const char *what, uint8_t *dst, size_t max,
                            size_t *out_len)
{
    atls_cursor v;
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(c, &v), ATLS_ERR_DECODE_TRUNCATED,
                "TPMS_ATTEST: %s truncated", what);
    ATLS_ENSURE(atls_cursor_remaining(&v) <= max, ATLS_ERR_DECODE_LENGTH,
                "TPMS_ATTEST: %s is %zu bytes, at most %zu allowed", what,
                atls_cursor_remaining(&v), max);
    *out_len = atls_cursor_remaining(&v);
    if (!atls_cursor_copy_bytes(&v, dst, *out_len)) {
        ATLS_RAISE(ATLS_ERR_INTERNAL, "TPMS_ATTEST: copy of %s failed", what);
    }
    return ATLS_OK;
}

/* TPML_PCR_SELECTION (Part 2 §10.9.7): u32 count, then count TPMS_PCR_SELECTION
 * {hash u16, sizeofSelect u8, pcrSelect[sizeofSelect]}. */
static atls_error get_pcr_selection(atls_cursor *c, atls_tpm2_pcr_selection *sel)
{
    uint32_t count;
    ATLS_ENSURE(atls_cursor_get_u32(c, &count), ATLS_ERR_DECODE_TRUNCATED,
                "TPMS_ATTEST: pcrSelect.count truncated");
    ATLS_ENSURE(count <= ATLS_TPM2_MAX_BANKS, ATLS_ERR_DECODE_LENGTH,
                "TPMS_ATTEST: pcrSelect.count %u exceeds %d banks", count, ATLS_TPM2_MAX_BANKS);
    sel->count = count;
    for (uint32_t b = 0; b < count; b++) {
        atls_tpm2_pcr_bank *bank = &sel->banks[b];
        ATLS_ENSURE(atls_cursor_get_u16(c, &bank->hash) &&
                        atls_cursor_get_u8(c, &bank->size_of_select),
                    ATLS_ERR_DECODE_TRUNCATED, "TPMS_ATTEST: pcrSelections[%u] truncated", b);
        ATLS_ENSURE(bank->size_of_select <= ATLS_TPM2_MAX_SELECT, ATLS_ERR_DECODE_LENGTH,
                    "TPMS_ATTEST: pcrSelections[%u].sizeofSelect %u exceeds %d", b,
                    bank->size_of_select, ATLS_TPM2_MAX_SELECT);
        ATLS_ENSURE(atls_cursor_copy_bytes(c, bank->select, bank->size_of_select),
                    ATLS_ERR_DECODE_TRUNCATED, "TPMS_ATTEST: pcrSelections[%u].pcrSelect truncated",
                    b);
        for (uint32_t o = 0; o < b; o++) {
            ATLS_ENSURE(sel->banks[o].hash != bank->hash, ATLS_ERR_DECODE_VALUE,
                        "TPMS_ATTEST: PCR bank 0x%04x selected twice", bank->hash);
        }
    }
    return ATLS_OK;
}

atls_error atls_tpm2_attest_parse(const uint8_t *data, size_t len, atls_tpm2_attest *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(len <= ATLS_TPM2_MAX_STRUCT, ATLS_ERR_DECODE_TOO_LARGE,
                "TPMS_ATTEST: %zu bytes exceeds %d", len, ATLS_TPM2_MAX_STRUCT);
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    ATLS_ENSURE(atls_cursor_get_u32(&c, &out->magic) && atls_cursor_get_u16(&c, &out->type),
                ATLS_ERR_DECODE_TRUNCATED, "TPMS_ATTEST: header truncated");
    /* Only quotes: the attested union's layout depends on the type. */
    ATLS_ENSURE(out->type == ATLS_TPM2_ST_ATTEST_QUOTE, ATLS_ERR_DECODE_TYPE,
                "TPMS_ATTEST: type 0x%04x is not TPM_ST_ATTEST_QUOTE (0x8018)", out->type);
    ATLS_GUARD(get_tpm2b(&c, "qualifiedSigner", out->qualified_signer, ATLS_TPM2_MAX_NAME,
                         &out->qualified_signer_len));
    ATLS_GUARD(get_tpm2b(&c, "extraData", out->extra_data, ATLS_TPM2_MAX_EXTRA,
                         &out->extra_data_len));
    /* TPMS_CLOCK_INFO: clock u64, resetCount u32, restartCount u32, safe u8 (TPMI_YES_NO). */
    ATLS_ENSURE(atls_cursor_get_u64(&c, &out->clock) &&
                    atls_cursor_get_u32(&c, &out->reset_count) &&
                    atls_cursor_get_u32(&c, &out->restart_count) &&
                    atls_cursor_get_u8(&c, &out->safe),
                ATLS_ERR_DECODE_TRUNCATED, "TPMS_ATTEST: clockInfo truncated");
    ATLS_ENSURE(out->safe <= 1, ATLS_ERR_DECODE_VALUE, "TPMS_ATTEST: clockInfo.safe is %u",
                out->safe);
    ATLS_ENSURE(atls_cursor_get_u64(&c, &out->firmware_version), ATLS_ERR_DECODE_TRUNCATED,
                "TPMS_ATTEST: firmwareVersion truncated");
    /* TPMS_QUOTE_INFO: pcrSelect, pcrDigest. */
    ATLS_GUARD(get_pcr_selection(&c, &out->pcr_select));
    ATLS_GUARD(get_tpm2b(&c, "pcrDigest", out->pcr_digest, ATLS_TPM2_MAX_DIGEST,
                         &out->pcr_digest_len));
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "TPMS_ATTEST: %zu trailing bytes", atls_cursor_remaining(&c));
    return ATLS_OK;
}
