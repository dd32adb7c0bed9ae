/* cca_testgen.c: see cca_testgen.h. Encodes with the project's CBOR writer and signs with its
 * COSE_Sign1 signer (the verifier is tested against these and against third-party tokens). */
#include "cca_testgen.h"

#include "base/writer.h"
#include "codec/cbor/cbor.h"
#include "codec/cose/cose.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void tg_cca_defaults(tg_cca_fields *f)
{
    memset(f, 0, sizeof(*f));
    memset(f->challenge, 0xab, sizeof(f->challenge));
    memset(f->pv, 0x50, sizeof(f->pv));
    memset(f->rim, 0x11, sizeof(f->rim));
    for (int i = 0; i < 4; i++) {
        memset(f->rem[i], 0x20 + i, sizeof(f->rem[i]));
    }
    memset(f->bl_measurement, 0xb1, sizeof(f->bl_measurement));
    memset(f->rmm_measurement, 0xc2, sizeof(f->rmm_measurement));
    f->lifecycle = 0x3003;
    f->rak_hash = "sha-256";
}

EVP_PKEY *tg_cca_key_new(const char *curve)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

/* rak_bytes: the RAK as claim 44237 carries it (malloc'd). */
static uint8_t *rak_bytes(EVP_PKEY *rak, int cose_key, size_t *len)
{
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    int64_t crv = 0;
    if (atls_cose_ec_pkey_to_point(rak, &crv, &pt, &ptlen) != ATLS_OK) {
        return NULL;
    }
    if (!cose_key) {
        *len = ptlen;
        return pt;
    }
    size_t coord = (ptlen - 1) / 2;
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_cbor_put_map(&w, 4) && atls_cbor_put_int(&w, 1) && atls_cbor_put_int(&w, 2) &&
              atls_cbor_put_int(&w, -1) && atls_cbor_put_int(&w, crv) &&
              atls_cbor_put_int(&w, -2) && atls_cbor_put_bstr(&w, pt + 1, coord) &&
              atls_cbor_put_int(&w, -3) && atls_cbor_put_bstr(&w, pt + 1 + coord, coord);
    (void)ok;
    free(pt);
    uint8_t *out = NULL;
    if (atls_writer_finish(&w, &out, len) != ATLS_OK) {
        out = NULL;
    }
    atls_writer_cleanup(&w);
    return out;
}

static uint8_t *sign(const uint8_t *payload, size_t len, EVP_PKEY *key, size_t *out_len)
{
    atls_cose_sign_opts o;
    memset(&o, 0, sizeof(o));
    o.tagged = true;
    uint8_t *out = NULL;
    if (atls_cose_sign1_sign(payload, len, key, &o, &out, out_len) != ATLS_OK) {
        return NULL;
    }
    return out;
}

static uint8_t *finish(atls_writer *w, size_t *len)
{
    uint8_t *out = NULL;
    if (atls_writer_finish(w, &out, len) != ATLS_OK) {
        out = NULL;
    }
    atls_writer_cleanup(w);
    return out;
}

static bool put_sw(atls_writer *w, const char *type, const uint8_t meas[32])
{
    static const uint8_t signer[32] = {0x53, 0x78, 0x79, 0x63};
    return atls_cbor_put_map(w, 5) && atls_cbor_put_int(w, 1) && atls_cbor_put_tstr(w, type) &&
           atls_cbor_put_int(w, 2) && atls_cbor_put_bstr(w, meas, 32) &&
           atls_cbor_put_int(w, 4) && atls_cbor_put_tstr(w, "1.0.0") &&
           atls_cbor_put_int(w, 5) && atls_cbor_put_bstr(w, signer, 32) &&
           atls_cbor_put_int(w, 6) && atls_cbor_put_tstr(w, "sha-256");
}

uint8_t *tg_cca_token(const tg_cca_fields *f, EVP_PKEY *cpak, EVP_PKEY *rak, size_t *len)
{
    size_t rlen = 0, rtok_len = 0, ptok_len = 0, realm_len = 0, plat_len = 0;
    uint8_t *rb = rak_bytes(rak, f->cose_key, &rlen);
    uint8_t *realm = NULL, *rtok = NULL, *plat = NULL, *ptok = NULL, *out = NULL;
    if (rb == NULL) {
        return NULL;
    }
    /* realm claims */
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_cbor_put_map(&w, f->cose_key ? 8 : 7);
    if (f->cose_key) {
        ok = ok && atls_cbor_put_int(&w, 265) && atls_cbor_put_tstr(&w, "tag:arm.com,2023:realm#1.0.0");
    }
    ok = ok && atls_cbor_put_int(&w, 10) && atls_cbor_put_bstr(&w, f->challenge, 64) &&
         atls_cbor_put_int(&w, 44235) && atls_cbor_put_bstr(&w, f->pv, 64) &&
         atls_cbor_put_int(&w, 44236) && atls_cbor_put_tstr(&w, "sha-256") &&
         atls_cbor_put_int(&w, 44237) && atls_cbor_put_bstr(&w, rb, rlen) &&
         atls_cbor_put_int(&w, 44238) && atls_cbor_put_bstr(&w, f->rim, 32) &&
         atls_cbor_put_int(&w, 44239) && atls_cbor_put_array(&w, 4);
    for (int i = 0; i < 4; i++) {
        ok = ok && atls_cbor_put_bstr(&w, f->rem[i], 32);
    }
    ok = ok && atls_cbor_put_int(&w, 44240) && atls_cbor_put_tstr(&w, f->rak_hash);
    (void)ok;
    realm = finish(&w, &realm_len);
    rtok = realm != NULL ? sign(realm, realm_len, rak, &rtok_len) : NULL;

    /* platform claims: challenge = H(RAK bytes) */
    uint8_t dig[64];
    unsigned dlen = 0;
    const EVP_MD *md = strcmp(f->rak_hash, "sha-512") == 0   ? EVP_sha512()
                       : strcmp(f->rak_hash, "sha-384") == 0 ? EVP_sha384()
                                                             : EVP_sha256();
    EVP_Digest(rb, rlen, dig, &dlen, md, NULL);
    if (f->bad_binding) {
        dig[0] ^= 1;
    }
    static const uint8_t impl[32] = {0x7f, 0x45, 0x4c, 0x46};
    uint8_t inst[33];
    memset(inst, 0x42, sizeof(inst));
    inst[0] = 0x01;
    static const uint8_t config[4] = {0xcf, 0xcf, 0xcf, 0xcf};
    atls_writer_init(&w, 0);
    ok = atls_cbor_put_map(&w, 9) && atls_cbor_put_int(&w, 265) &&
         atls_cbor_put_tstr(&w, f->cose_key ? "tag:arm.com,2023:cca_platform#1.0.0"
                                            : "http://arm.com/CCA-SSD/1.0.0") &&
         atls_cbor_put_int(&w, 10) && atls_cbor_put_bstr(&w, dig, dlen) &&
         atls_cbor_put_int(&w, 2396) && atls_cbor_put_bstr(&w, impl, 32) &&
         atls_cbor_put_int(&w, 256) && atls_cbor_put_bstr(&w, inst, 33) &&
         atls_cbor_put_int(&w, 2401) && atls_cbor_put_bstr(&w, config, 4) &&
         atls_cbor_put_int(&w, 2395) && atls_cbor_put_uint(&w, f->lifecycle) &&
         atls_cbor_put_int(&w, 2399) && atls_cbor_put_array(&w, 2) &&
         put_sw(&w, "BL", f->bl_measurement) && put_sw(&w, "RMM", f->rmm_measurement) &&
         atls_cbor_put_int(&w, 2400) && atls_cbor_put_tstr(&w, "https://verifier.invalid") &&
         atls_cbor_put_int(&w, 2402) && atls_cbor_put_tstr(&w, "sha-256");
    (void)ok;
    plat = finish(&w, &plat_len);
    ptok = plat != NULL ? sign(plat, plat_len, cpak, &ptok_len) : NULL;

    if (rtok != NULL && ptok != NULL) {
        atls_writer_init(&w, 0);
        ok = atls_cbor_put_tag(&w, 399) && atls_cbor_put_map(&w, 2) &&
             atls_cbor_put_int(&w, 44234) && atls_cbor_put_bstr(&w, ptok, ptok_len) &&
             atls_cbor_put_int(&w, 44241) && atls_cbor_put_bstr(&w, rtok, rtok_len);
        (void)ok;
        out = finish(&w, len);
    }
    free(rb);
    free(realm);
    free(rtok);
    free(plat);
    free(ptok);
    return out;
}
