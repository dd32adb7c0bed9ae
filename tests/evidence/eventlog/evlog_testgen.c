/* evlog_testgen.c: event logs of our own making (evlog_testgen.h). The layouts are written
 * from the specifications (TCG PFP 1.05 section 10; Linux ima_fs.c), not from the parser. */
#include "evlog_testgen.h"

#include <openssl/evp.h>
#include <string.h>

static const EVP_MD *md_of(uint16_t alg)
{
    switch (alg) {
    case 0x0004:
        return EVP_sha1();
    case 0x000B:
        return EVP_sha256();
    case 0x000C:
        return EVP_sha384();
    case 0x000D:
        return EVP_sha512();
    default:
        return NULL;
    }
}

static bool add_data(atls_writer *w, const void *data, size_t len)
{
    return atls_writer_add_u32_le(w, (uint32_t)len) &&
           atls_writer_add_bytes(w, (const uint8_t *)data, len);
}

bool evgen_spec_id(atls_writer *w, uint32_t header_index, const uint16_t *algs, size_t n)
{
    static const uint8_t sig[16] = "Spec ID Event03";
    uint8_t zero[20] = {0};
    bool ok = atls_writer_add_u32_le(w, header_index) && atls_writer_add_u32_le(w, 3) &&
              atls_writer_add_bytes(w, zero, 20) &&
              atls_writer_add_u32_le(w, (uint32_t)(16 + 4 + 4 + 4 + 4 * n + 1));
    ok = ok && atls_writer_add_bytes(w, sig, 16) && atls_writer_add_u32_le(w, 0) &&
         atls_writer_add_u8(w, 0) && atls_writer_add_u8(w, 2) && atls_writer_add_u8(w, 0) &&
         atls_writer_add_u8(w, 2) && atls_writer_add_u32_le(w, (uint32_t)n);
    for (size_t i = 0; ok && i < n; i++) {
        ok = atls_writer_add_u16_le(w, algs[i]) &&
             atls_writer_add_u16_le(w, (uint16_t)EVP_MD_get_size(md_of(algs[i])));
    }
    return ok && atls_writer_add_u8(w, 0);
}

bool evgen_event2(atls_writer *w, const uint16_t *algs, size_t n, uint32_t index,
                  uint32_t type, const void *measured, size_t mlen, const void *data,
                  size_t len)
{
    if (measured == NULL) {
        measured = data;
        mlen = len;
    }
    bool ok = atls_writer_add_u32_le(w, index) && atls_writer_add_u32_le(w, type) &&
              atls_writer_add_u32_le(w, (uint32_t)n);
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t md[64];
        unsigned int mdlen = 0;
        ok = EVP_Digest(measured, mlen, md, &mdlen, md_of(algs[i]), NULL) == 1 &&
             atls_writer_add_u16_le(w, algs[i]) && atls_writer_add_bytes(w, md, mdlen);
    }
    return ok && add_data(w, data, len);
}

bool evgen_event1(atls_writer *w, uint32_t index, uint32_t type, const void *measured,
                  size_t mlen, const void *data, size_t len)
{
    if (measured == NULL) {
        measured = data;
        mlen = len;
    }
    uint8_t md[20];
    return EVP_Digest(measured, mlen, md, NULL, EVP_sha1(), NULL) == 1 &&
           atls_writer_add_u32_le(w, index) && atls_writer_add_u32_le(w, type) &&
           atls_writer_add_bytes(w, md, 20) && add_data(w, data, len);
}

bool evgen_efi_variable(atls_writer *w, const uint8_t guid[16], const char *name,
                        const void *data, size_t len)
{
    size_t n = strlen(name);
    bool ok = atls_writer_add_bytes(w, guid, 16) && atls_writer_add_u64_le(w, n) &&
              atls_writer_add_u64_le(w, len);
    for (size_t i = 0; ok && i < n; i++) {
        ok = atls_writer_add_u16_le(w, (uint8_t)name[i]);
    }
    return ok && atls_writer_add_bytes(w, (const uint8_t *)data, len);
}

/* template_data writes the ima-ng / ima-sig fields (each a u32 length and its bytes). */
static bool template_data(atls_writer *w, const char *template_name, const char *alg_name,
                          const uint8_t *digest, size_t dlen, const char *path,
                          const uint8_t *sig, size_t sig_len)
{
    size_t an = strlen(alg_name), pn = strlen(path);
    bool ok = atls_writer_add_u32_le(w, (uint32_t)(an + 2 + dlen)) &&
              atls_writer_add_bytes(w, (const uint8_t *)alg_name, an) &&
              atls_writer_add_u8(w, ':') && atls_writer_add_u8(w, 0) &&
              atls_writer_add_bytes(w, digest, dlen) &&
              atls_writer_add_u32_le(w, (uint32_t)(pn + 1)) &&
              atls_writer_add_bytes(w, (const uint8_t *)path, pn + 1);
    if (strcmp(template_name, "ima-sig") == 0) {
        ok = ok && atls_writer_add_u32_le(w, (uint32_t)sig_len) &&
             atls_writer_add_bytes(w, sig, sig_len);
    }
    return ok;
}

bool evgen_ima_template_hash(const char *template_name, const char *alg_name,
                             const uint8_t *digest, size_t dlen, const char *path,
                             const uint8_t *sig, size_t sig_len, const char *hash,
                             uint8_t *out, size_t *out_len)
{
    atls_writer t;
    atls_writer_init(&t, 0);
    unsigned int n = 0;
    bool ok = template_data(&t, template_name, alg_name, digest, dlen, path, sig, sig_len) &&
              EVP_Digest(atls_writer_data(&t), atls_writer_len(&t), out, &n,
                         EVP_get_digestbyname(hash), NULL) == 1;
    atls_writer_cleanup(&t);
    *out_len = n;
    return ok;
}

bool evgen_ima_ng(atls_writer *w, uint32_t pcr, const char *template_name,
                  const char *alg_name, const uint8_t *digest, size_t dlen, const char *path,
                  const uint8_t *sig, size_t sig_len)
{
    atls_writer t;
    atls_writer_init(&t, 0);
    uint8_t sha1[20];
    bool ok = template_data(&t, template_name, alg_name, digest, dlen, path, sig, sig_len) &&
              EVP_Digest(atls_writer_data(&t), atls_writer_len(&t), sha1, NULL, EVP_sha1(),
                         NULL) == 1;
    size_t tn = strlen(template_name);
    ok = ok && atls_writer_add_u32_le(w, pcr) && atls_writer_add_bytes(w, sha1, 20) &&
         add_data(w, template_name, tn) && add_data(w, atls_writer_data(&t), atls_writer_len(&t));
    atls_writer_cleanup(&t);
    return ok;
}

bool evgen_ima_legacy(atls_writer *w, uint32_t pcr, const uint8_t sha1[20], const char *path)
{
    uint8_t padded[20 + 256];
    size_t pn = strlen(path);
    memset(padded, 0, sizeof(padded));
    memcpy(padded, sha1, 20);
    memcpy(padded + 20, path, pn < 255 ? pn : 255);
    uint8_t td[20];
    return EVP_Digest(padded, sizeof(padded), td, NULL, EVP_sha1(), NULL) == 1 &&
           atls_writer_add_u32_le(w, pcr) && atls_writer_add_bytes(w, td, 20) &&
           add_data(w, "ima", 3) && atls_writer_add_bytes(w, sha1, 20) && add_data(w, path, pn);
}

bool evgen_ima_violation(atls_writer *w, uint32_t pcr, const char *path)
{
    uint8_t zero[32] = {0};
    atls_writer t;
    atls_writer_init(&t, 0);
    bool ok = template_data(&t, "ima-ng", "sha256", zero, 32, path, NULL, 0) &&
              atls_writer_add_u32_le(w, pcr) && atls_writer_add_bytes(w, zero, 20) &&
              add_data(w, "ima-ng", 6) &&
              add_data(w, atls_writer_data(&t), atls_writer_len(&t));
    atls_writer_cleanup(&t);
    return ok;
}

bool evgen_ima_raw(atls_writer *w, uint32_t pcr, const char *name, const void *data,
                   size_t len)
{
    uint8_t sha1[20];
    return EVP_Digest(data, len, sha1, NULL, EVP_sha1(), NULL) == 1 &&
           atls_writer_add_u32_le(w, pcr) && atls_writer_add_bytes(w, sha1, 20) &&
           add_data(w, name, strlen(name)) && add_data(w, data, len);
}

void evgen_extend(const char *hash, uint8_t *reg, const uint8_t *digest, size_t size)
{
    uint8_t buf[128];
    memcpy(buf, reg, size);
    memcpy(buf + size, digest, size);
    EVP_Digest(buf, 2 * size, reg, NULL, EVP_get_digestbyname(hash), NULL);
}

static void ccel_extend(uint8_t rtmr[4][48], uint32_t index, const void *measured, size_t mlen)
{
    uint8_t d[48];
    EVP_Digest(measured, mlen, d, NULL, EVP_sha384(), NULL);
    evgen_extend("sha384", rtmr[index - 1], d, 48);
}

size_t evgen_ccel_td(atls_writer *w, int unknown_type, size_t pad, uint8_t rtmr[4][48])
{
    static const uint16_t sha384[] = {0x000C};
    static const char *const what[] = {"TDVF firmware config", "boot loader", "kernel",
                                       "application"};
    static const char cmdline[] = "kernel_cmdline: console=hvc0 root=/dev/vda1";
    memset(rtmr, 0, 4 * 48);
    size_t n = 0;
    bool ok = evgen_spec_id(w, 1, sha384, 1);
    for (uint32_t i = 1; i <= 4; i++, n++) {
        ok = ok && evgen_event2(w, sha384, 1, i, 0x80000007u /* EV_EFI_ACTION */, NULL, 0,
                                what[i - 1], strlen(what[i - 1]));
        ccel_extend(rtmr, i, what[i - 1], strlen(what[i - 1]));
    }
    ok = ok && evgen_event2(w, sha384, 1, 3, 0x0000000Du /* EV_IPL */, NULL, 0, cmdline,
                            sizeof(cmdline));
    ccel_extend(rtmr, 3, cmdline, sizeof(cmdline));
    n++;
    if (unknown_type) {
        ok = ok && evgen_event2(w, sha384, 1, 2, 0x0000ABCDu, NULL, 0, "?", 1);
        ccel_extend(rtmr, 2, "?", 1);
        n++;
    }
    for (size_t i = 0; i < pad; i++) {
        ok = ok && atls_writer_add_u8(w, 0xff);
    }
    return ok ? n : 0;
}

void evgen_ccel_table(uint8_t t[56], uint8_t cc_type, uint64_t laml)
{
    memset(t, 0, 56);
    memcpy(t, "CCEL", 4);
    t[4] = 56;
    t[8] = 1;
    memcpy(t + 10, "ATLS  ", 6);
    memcpy(t + 16, "TESTGEN ", 8);
    t[36] = cc_type;
    for (int i = 0; i < 8; i++) {
        t[40 + i] = (uint8_t)(laml >> (8 * i));
    }
    t[48 + 3] = 0x7d; /* log area start address 0x7d000000 */
    uint8_t sum = 0;
    for (size_t i = 0; i < 56; i++) {
        sum = (uint8_t)(sum + t[i]);
    }
    t[9] = (uint8_t)(0x100 - sum);
}
