/* tsm_certtable.c: the SNP certificate table carried in auxblob (tsm.h). */
#include "evidence/tsm/tsm.h"

#include "base/result.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>

#define FMT ATLS_ERR_EVIDENCE_FORMAT
#define MAX_CERT_LEN (16u * 1024u)

/* GUIDs of the entries atls uses (evidence-formats.md 2.3), in RFC 4122 byte order. */
static const uint8_t known_guids[][16] = {
    /* VCEK 63da758d-e664-4564-adc5-f4b93be8accd */
    {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
     0xcd},
    /* VLEK a8074bc2-a25a-483e-aae6-39c045a0b8a1 */
    {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
     0xa1},
    /* ASK 4ab7b379-bbac-4fe4-a02f-05aef327c782 */
    {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
     0x82},
    /* ARK c0b406a4-a803-4952-9743-3fb6014cd0ae */
    {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
     0xae},
};

/* guid_known: the stored byte order is unconfirmed (evidence-formats.md 2.3: libuuid and
 * go-sev-guest write RFC 4122 order; a Windows-style guid_t would swap the first three
 * fields), so both are accepted: the four GUIDs stay distinct either way. */
static int guid_known(const uint8_t g[16])
{
    for (size_t i = 0; i < sizeof(known_guids) / sizeof(known_guids[0]); i++) {
        const uint8_t *k = known_guids[i];
        if (memcmp(g, k, 16) == 0) {
            return 1;
        }
        uint8_t m[16] = {k[3], k[2], k[1], k[0], k[5], k[4], k[7], k[6]};
        memcpy(m + 8, k + 8, 8);
        if (memcmp(g, m, 16) == 0) {
            return 1;
        }
    }
    return 0;
}

atls_error atls_tsm_snp_cert_table(const uint8_t *data, size_t len, STACK_OF(X509) **out)
{
    *out = NULL;
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    STACK_OF(X509) *certs = sk_X509_new_null();
    ATLS_ENSURE(certs != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = ATLS_OK;
    static const uint8_t zero[16];
    for (size_t i = 0;; i++) {
        uint8_t guid[16];
        uint32_t off = 0, n = 0;
        if (!atls_cursor_copy_bytes(&c, guid, sizeof(guid))) {
            ATLS_FAIL_GOTO(rc, fail, FMT, "SNP certificate table: no terminating entry");
        }
        if (memcmp(guid, zero, sizeof(zero)) == 0) {
            break; /* GHCB spec: an all-zero entry ends the table (its offset/length unused) */
        }
        if (!atls_cursor_get_u32_le(&c, &off) || !atls_cursor_get_u32_le(&c, &n)) {
            ATLS_FAIL_GOTO(rc, fail, FMT, "SNP certificate table: entry %zu is truncated", i);
        }
        if (i >= ATLS_TSM_MAX_CERTS) {
            ATLS_FAIL_GOTO(rc, fail, FMT, "SNP certificate table: more than %d entries",
                           ATLS_TSM_MAX_CERTS);
        }
        if (off > len || n > len - off || n == 0 || n > MAX_CERT_LEN) {
            ATLS_FAIL_GOTO(rc, fail, FMT,
                           "SNP certificate table: entry %zu (offset %u, length %u) lies outside "
                           "the %zu-byte table",
                           i, off, n, len);
        }
        if (!guid_known(guid)) {
            continue;
        }
        const unsigned char *p = data + off;
        X509 *x = d2i_X509(NULL, &p, (long)n);
        if (x == NULL || p != data + off + n) {
            X509_free(x);
            ERR_clear_error();
            ATLS_FAIL_GOTO(rc, fail, FMT,
                           "SNP certificate table: entry %zu is not exactly one DER certificate",
                           i);
        }
        if (sk_X509_push(certs, x) <= 0) {
            X509_free(x);
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        }
    }
    *out = certs;
    return ATLS_OK;
fail:
    sk_X509_pop_free(certs, X509_free);
    return rc;
}
