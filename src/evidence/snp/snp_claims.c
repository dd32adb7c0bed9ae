/* snp_claims.c: the claims JSON for an SNP report (every field; digests lowercase hex). */
#include "evidence/snp/snp_internal.h"

#include "base/hex.h"
#include "base/result.h"

#include <stdio.h>
#include <string.h>

/* set_hex adds key = lowercase hex of |len| bytes; returns 0 on allocation failure. */
static int set_hex(json_t *o, const char *key, const uint8_t *data, size_t len)
{
    char *h = atls_hex_encode_alloc(data, len);
    if (h == NULL) {
        return 0;
    }
    int ok = json_object_set_new(o, key, json_string(h)) == 0;
    free(h);
    return ok;
}

static int set_u64hex(json_t *o, const char *key, uint64_t v)
{
    char buf[19];
    snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
    return json_object_set_new(o, key, json_string(buf)) == 0;
}

static json_t *tcb_json(uint64_t raw, int turin)
{
    atls_snp_tcb t;
    atls_snp_tcb_decode(raw, turin, &t);
    json_t *o = json_object();
    if (o == NULL || !set_u64hex(o, "raw", raw) ||
        json_object_set_new(o, "bootloader", json_integer(t.bootloader)) != 0 ||
        json_object_set_new(o, "tee", json_integer(t.tee)) != 0 ||
        json_object_set_new(o, "snp", json_integer(t.snp)) != 0 ||
        json_object_set_new(o, "microcode", json_integer(t.microcode)) != 0 ||
        (turin && json_object_set_new(o, "fmc", json_integer(t.fmc)) != 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

#define BIT(v, n) json_boolean(((v) >> (n)) & 1u)

atls_error atls_snp_claims(const atls_snp_report *r, int turin, const char *product,
                           int revocation_checked, json_t **out)
{
    json_t *c = json_object();
    json_t *pol = json_object();
    json_t *pi = json_object();
    int ok = c != NULL && pol != NULL && pi != NULL;
    uint64_t p = r->policy;
    char ver[16];
    /* GUEST_POLICY bits (ABI spec "Guest Policy"). */
    ok = ok && json_object_set_new(pol, "raw", json_integer((json_int_t)p)) == 0 &&
         json_object_set_new(pol, "abi_minor", json_integer((json_int_t)(p & 0xff))) == 0 &&
         json_object_set_new(pol, "abi_major", json_integer((json_int_t)((p >> 8) & 0xff))) == 0 &&
         json_object_set_new(pol, "smt", BIT(p, 16)) == 0 &&
         json_object_set_new(pol, "migrate_ma", BIT(p, 18)) == 0 &&
         json_object_set_new(pol, "debug", BIT(p, 19)) == 0 &&
         json_object_set_new(pol, "single_socket", BIT(p, 20)) == 0 &&
         json_object_set_new(pol, "cxl_allow", BIT(p, 21)) == 0 &&
         json_object_set_new(pol, "mem_aes_256_xts", BIT(p, 22)) == 0 &&
         json_object_set_new(pol, "rapl_dis", BIT(p, 23)) == 0 &&
         json_object_set_new(pol, "ciphertext_hiding", BIT(p, 24)) == 0 &&
         json_object_set_new(pol, "page_swap_disable", BIT(p, 25)) == 0;
    uint64_t q = r->platform_info;
    ok = ok && set_u64hex(pi, "raw", q) && json_object_set_new(pi, "smt_enabled", BIT(q, 0)) == 0 &&
         json_object_set_new(pi, "tsme_enabled", BIT(q, 1)) == 0 &&
         json_object_set_new(pi, "ecc_enabled", BIT(q, 2)) == 0 &&
         json_object_set_new(pi, "rapl_disabled", BIT(q, 3)) == 0 &&
         json_object_set_new(pi, "ciphertext_hiding_enabled", BIT(q, 4)) == 0;
    ok = ok && json_object_set_new(c, "version", json_integer(r->version)) == 0 &&
         json_object_set_new(c, "guest_svn", json_integer(r->guest_svn)) == 0 &&
         json_object_set(c, "policy", pol) == 0 && set_hex(c, "family_id", r->family_id, 16) &&
         set_hex(c, "image_id", r->image_id, 16) &&
         json_object_set_new(c, "vmpl", json_integer(r->vmpl)) == 0 &&
         json_object_set_new(c, "signature_algo", json_integer(r->signature_algo)) == 0 &&
         json_object_set_new(c, "current_tcb", tcb_json(r->current_tcb, turin)) == 0 &&
         json_object_set(c, "platform_info", pi) == 0 &&
         json_object_set_new(c, "signer", json_string(atls_snp_report_signer(r) ==
                                                              ATLS_SNP_SIGNER_VLEK
                                                          ? "vlek"
                                                          : "vcek")) == 0 &&
         json_object_set_new(c, "author_key_en", BIT(r->signer_info, 0)) == 0 &&
         set_hex(c, "report_data", r->report_data, 64) &&
         set_hex(c, "measurement", r->measurement, 48) &&
         set_hex(c, "host_data", r->host_data, 32) &&
         set_hex(c, "id_key_digest", r->id_key_digest, 48) &&
         set_hex(c, "author_key_digest", r->author_key_digest, 48) &&
         set_hex(c, "report_id", r->report_id, 32) &&
         set_hex(c, "report_id_ma", r->report_id_ma, 32) &&
         json_object_set_new(c, "reported_tcb", tcb_json(r->reported_tcb, turin)) == 0 &&
         json_object_set_new(c, "cpuid_fam_id", json_integer(r->cpuid_fam_id)) == 0 &&
         json_object_set_new(c, "cpuid_mod_id", json_integer(r->cpuid_mod_id)) == 0 &&
         json_object_set_new(c, "cpuid_step", json_integer(r->cpuid_step)) == 0 &&
         set_hex(c, "chip_id", r->chip_id, 64) &&
         json_object_set_new(c, "committed_tcb", tcb_json(r->committed_tcb, turin)) == 0 &&
         json_object_set_new(c, "launch_tcb", tcb_json(r->launch_tcb, turin)) == 0;
    snprintf(ver, sizeof(ver), "%u.%u.%u", r->current_major, r->current_minor, r->current_build);
    ok = ok && json_object_set_new(c, "current_version", json_string(ver)) == 0;
    snprintf(ver, sizeof(ver), "%u.%u.%u", r->committed_major, r->committed_minor,
             r->committed_build);
    ok = ok && json_object_set_new(c, "committed_version", json_string(ver)) == 0;
    if (r->version >= 5) {
        ok = ok && set_u64hex(c, "launch_mit_vector", r->launch_mit_vector) &&
             set_u64hex(c, "current_mit_vector", r->current_mit_vector);
    }
    /* provisional firmware: the running firmware (CURRENT) is not yet committed, so the host
     * can still roll back to COMMITTED (ABI spec, SNP_COMMIT) */
    int provisional = r->current_tcb != r->committed_tcb ||
                      r->current_build != r->committed_build ||
                      r->current_minor != r->committed_minor ||
                      r->current_major != r->committed_major;
    json_t *unappraised = json_array();
    ok = ok && unappraised != NULL &&
         (revocation_checked || json_array_append_new(unappraised, json_string("crl")) == 0) &&
         json_object_set(c, "unappraised", unappraised) == 0;
    json_decref(unappraised);
    ok = ok && json_object_set_new(c, "provisional_firmware", json_boolean(provisional)) == 0 &&
         json_object_set_new(c, "revocation_checked", json_boolean(revocation_checked)) == 0;
    ok = ok && json_object_set_new(c, "product", json_string(product)) == 0 &&
         json_object_set_new(c, "tcb_layout", json_string(turin ? "turin" : "milan")) == 0;
    json_decref(pol);
    json_decref(pi);
    if (!ok) {
        json_decref(c);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "SNP: cannot build the claims");
    }
    *out = c;
    return ATLS_OK;
}
