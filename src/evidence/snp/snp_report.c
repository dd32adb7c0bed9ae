/* snp_report.c: field-by-field decoding of the SEV-SNP ATTESTATION_REPORT (snp.h). Layout:
 * SEV-SNP ABI spec 56860, "ATTESTATION_REPORT Structure"; evidence-formats.md section 2.1. */
#include "evidence/snp/snp.h"

#include "base/cursor.h"
#include "base/result.h"

#include <string.h>

#define FMT ATLS_ERR_EVIDENCE_FORMAT

static bool all_zero(const atls_cursor *c)
{
    const uint8_t *p = atls_cursor_data(c);
    size_t n = atls_cursor_remaining(c);
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* reserved consumes |n| bytes that the ABI declares reserved and must be zero. */
ATLS_MUST_CHECK static atls_error reserved(atls_cursor *c, size_t n, const char *where)
{
    atls_cursor r;
    ATLS_ENSURE(atls_cursor_get_bytes(c, &r, n), FMT, "SNP report: truncated at %s", where);
    ATLS_ENSURE(all_zero(&r), FMT, "SNP report: reserved bytes at %s are not zero", where);
    return ATLS_OK;
}

/* le_sig converts one 72-byte little-endian signature component to 48 big-endian bytes; the
 * upper 24 bytes must be zero (P-384 values are zero-extended). */
ATLS_MUST_CHECK static atls_error le_sig(atls_cursor *c, uint8_t out[48], const char *name)
{
    uint8_t le[72];
    ATLS_ENSURE(atls_cursor_copy_bytes(c, le, sizeof(le)), FMT, "SNP report: truncated in %s",
                name);
    for (size_t i = 48; i < 72; i++) {
        ATLS_ENSURE(le[i] == 0, FMT, "SNP report: signature %s exceeds 48 bytes", name);
    }
    for (size_t i = 0; i < 48; i++) {
        out[i] = le[47 - i];
    }
    return ATLS_OK;
}

#define U32(f) ATLS_ENSURE(atls_cursor_get_u32_le(&c, &out->f), FMT, "SNP report: truncated at " #f)
#define U64(f) ATLS_ENSURE(atls_cursor_get_u64_le(&c, &out->f), FMT, "SNP report: truncated at " #f)
#define U8(f) ATLS_ENSURE(atls_cursor_get_u8(&c, &out->f), FMT, "SNP report: truncated at " #f)
#define BYTES(f)                                                                                  \
    ATLS_ENSURE(atls_cursor_copy_bytes(&c, out->f, sizeof(out->f)), FMT,                          \
                "SNP report: truncated at " #f)

atls_error atls_snp_report_parse(const uint8_t *data, size_t len, atls_snp_report *out)
{
    atls_cursor c;
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(data != NULL || len == 0, ATLS_ERR_USAGE, "SNP report: NULL input");
    ATLS_ENSURE(len == ATLS_SNP_REPORT_LEN, FMT, "SNP report: length %zu, expected %u", len,
                ATLS_SNP_REPORT_LEN);
    atls_cursor_init(&c, data, len);

    U32(version);
    /* Versions 2 (fw < 1.55), 3 (adds CPUID fields), 4 (same layout as 3: AMD's ABI bumped
     * the version for firmware that fills the same fields; other verifiers accept it) and 5
     * (ABI 1.58, mitigation vectors). */
    ATLS_ENSURE(out->version >= 2 && out->version <= 5, FMT,
                "SNP report: unsupported version %u", (unsigned)out->version);
    U32(guest_svn);
    U64(policy);
    ATLS_ENSURE((out->policy & ATLS_SNP_POLICY_RESERVED1) != 0, FMT,
                "SNP report: policy bit 17 (reserved, must be 1) is 0");
    ATLS_ENSURE((out->policy >> 26) == 0, FMT, "SNP report: policy bits 63:26 are not zero");
    BYTES(family_id);
    BYTES(image_id);
    U32(vmpl);
    ATLS_ENSURE(out->vmpl <= 3, FMT, "SNP report: vmpl %u out of range", (unsigned)out->vmpl);
    U32(signature_algo);
    ATLS_ENSURE(out->signature_algo == 1, FMT,
                "SNP report: signature_algo %u is not 1 (ECDSA P-384 with SHA-384)",
                (unsigned)out->signature_algo);
    U64(current_tcb);
    U64(platform_info);
    U32(signer_info);
    {
        uint32_t key = (out->signer_info >> 2) & 7u;
        ATLS_ENSURE((out->signer_info >> 5) == 0, FMT,
                    "SNP report: signer info reserved bits 31:5 are not zero");
        ATLS_ENSURE(key != 7, FMT, "SNP report: SIGNING_KEY is 7 (report not signed)");
        ATLS_ENSURE(key <= 1, FMT, "SNP report: SIGNING_KEY %u is reserved", (unsigned)key);
        ATLS_ENSURE((out->signer_info & 2u) == 0, FMT,
                    "SNP report: MASK_CHIP_KEY is set (report not signed by a chip key)");
    }
    ATLS_GUARD(reserved(&c, 4, "0x04C"));
    BYTES(report_data);
    BYTES(measurement);
    BYTES(host_data);
    BYTES(id_key_digest);
    BYTES(author_key_digest);
    BYTES(report_id);
    BYTES(report_id_ma);
    U64(reported_tcb);
    if (out->version >= 3) {
        U8(cpuid_fam_id);
        U8(cpuid_mod_id);
        U8(cpuid_step);
    } else {
        ATLS_GUARD(reserved(&c, 3, "0x188 (v2)"));
    }
    ATLS_GUARD(reserved(&c, 21, "0x18B"));
    BYTES(chip_id);
    U64(committed_tcb);
    U8(current_build);
    U8(current_minor);
    U8(current_major);
    ATLS_GUARD(reserved(&c, 1, "0x1EB"));
    U8(committed_build);
    U8(committed_minor);
    U8(committed_major);
    ATLS_GUARD(reserved(&c, 1, "0x1EF"));
    U64(launch_tcb);
    if (out->version >= 5) {
        U64(launch_mit_vector);
        U64(current_mit_vector);
    } else {
        ATLS_GUARD(reserved(&c, 16, "0x1F8 (before v5)"));
    }
    ATLS_GUARD(reserved(&c, 0x98, "0x208"));
    /* 0x2A0: SIGNATURE (ECDSA P-384: R, S little-endian, 72 bytes each, then reserved). */
    ATLS_GUARD(le_sig(&c, out->sig_r, "R"));
    ATLS_GUARD(le_sig(&c, out->sig_s, "S"));
    ATLS_GUARD(reserved(&c, 0x170, "0x330 (signature)"));
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_INTERNAL, "SNP report: layout error");
    return ATLS_OK;
}

atls_snp_signer atls_snp_report_signer(const atls_snp_report *r)
{
    return ((r->signer_info >> 2) & 7u) == 1 ? ATLS_SNP_SIGNER_VLEK : ATLS_SNP_SIGNER_VCEK;
}

int atls_snp_tcb_reserved_zero(uint64_t raw, int turin)
{
    /* reserved bytes: Milan/Genoa 2..5, Turin 4..6 (evidence-formats.md 2.1, virtee/sev) */
    uint64_t mask = turin ? 0x00ffffff00000000ull : 0x0000ffffffff0000ull;
    return (raw & mask) == 0;
}

void atls_snp_tcb_decode(uint64_t raw, int turin, atls_snp_tcb *out)
{
    memset(out, 0, sizeof(*out));
    out->raw = raw;
    /* TCB_VERSION bytes in little-endian order; see evidence-formats.md 2.1. */
    uint8_t b[8];
    for (size_t i = 0; i < 8; i++) {
        b[i] = (uint8_t)(raw >> (8 * i));
    }
    if (turin) {
        out->fmc = b[0];
        out->bootloader = b[1];
        out->tee = b[2];
        out->snp = b[3];
    } else {
        out->bootloader = b[0];
        out->tee = b[1];
        out->snp = b[6];
    }
    out->microcode = b[7];
}
