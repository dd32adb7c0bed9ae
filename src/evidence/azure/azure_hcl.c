/* azure_hcl.c: the HCL report and its runtime data (azure.h). Layout as read from Microsoft's
 * azure-cvm-tooling (az-cvm-vtpm/src/hcl) and trustee's az_snp_vtpm / az_tdx_vtpm verifiers;
 * checked here against the Azure samples in shared/vectors/azure. */
#include "evidence/azure/azure.h"

#include "base/result.h"
#include "codec/ear/base64url.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#define FMT ATLS_ERR_EVIDENCE_FORMAT

atls_error atls_azure_hcl_parse(const uint8_t *data, size_t len, atls_azure_hcl *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(data != NULL && len <= ATLS_AZURE_MAX_HCL, ATLS_ERR_DECODE_TOO_LARGE,
                "HCL report: %zu bytes exceeds %u", len, ATLS_AZURE_MAX_HCL);
    atls_cursor c, sig, area, igvm;
    atls_cursor_init(&c, data, len);
    ATLS_ENSURE(atls_cursor_get_bytes(&c, &sig, 4), FMT, "HCL report: truncated header");
    ATLS_ENSURE(atls_cursor_equals(&sig, (const uint8_t *)"HCLA", 4), FMT,
                "HCL report: signature is not \"HCLA\"");
    ATLS_ENSURE(atls_cursor_get_u32_le(&c, &out->version) &&
                    atls_cursor_get_u32_le(&c, &out->report_size) &&
                    atls_cursor_get_u32_le(&c, &out->request_type) &&
                    atls_cursor_get_u32_le(&c, &out->status) && atls_cursor_skip(&c, 12),
                FMT, "HCL report: truncated header");
    ATLS_ENSURE(out->version >= 1 && out->version <= 2, FMT,
                "HCL report: header version %u is not 1 or 2", out->version);
    ATLS_ENSURE(out->status == 0, FMT, "HCL report: status %u (the paravisor reports an error)",
                out->status);
    ATLS_ENSURE(out->report_size >= ATLS_AZURE_VARDATA_OFFSET && out->report_size <= len, FMT,
                "HCL report: report_size %u outside %u..%zu", out->report_size,
                ATLS_AZURE_VARDATA_OFFSET, len);
    ATLS_ENSURE(atls_cursor_get_bytes(&c, &area, ATLS_AZURE_HW_AREA), FMT,
                "HCL report: truncated hardware report");
    uint32_t data_size, igvm_version, report_type, var_size;
    ATLS_ENSURE(atls_cursor_get_bytes(&c, &igvm, 20), FMT, "HCL report: truncated request data");
    ATLS_ENSURE(atls_cursor_get_u32_le(&igvm, &data_size) &&
                    atls_cursor_get_u32_le(&igvm, &igvm_version) &&
                    atls_cursor_get_u32_le(&igvm, &report_type) &&
                    atls_cursor_get_u32_le(&igvm, &out->hash_type) &&
                    atls_cursor_get_u32_le(&igvm, &var_size),
                ATLS_ERR_INTERNAL, "HCL report: request data");
    ATLS_ENSURE(report_type == ATLS_AZURE_TEE_SNP || report_type == ATLS_AZURE_TEE_TDX, FMT,
                "HCL report: report_type %u is neither SNP (2) nor TDX (4)", report_type);
    out->tee = (atls_azure_tee)report_type;
    ATLS_ENSURE(out->hash_type >= 1 && out->hash_type <= 3, FMT,
                "HCL report: report_data_hash_type %u is not SHA-256/384/512 (1..3)",
                out->hash_type);
    ATLS_ENSURE(var_size > 0 && var_size <= ATLS_AZURE_MAX_RUNTIME, FMT,
                "HCL report: variable_data_size %u outside 1..%u", var_size,
                ATLS_AZURE_MAX_RUNTIME);
    /* data_size covers the request data from its first field to the end of the variable data */
    ATLS_ENSURE(data_size == 20u + var_size, FMT,
                "HCL report: data_size %u does not equal 20 + variable_data_size %u", data_size,
                var_size);
    ATLS_ENSURE((size_t)ATLS_AZURE_VARDATA_OFFSET + var_size == out->report_size, FMT,
                "HCL report: report_size %u does not end where the runtime data ends (%u)",
                out->report_size, ATLS_AZURE_VARDATA_OFFSET + var_size);
    ATLS_ENSURE(atls_cursor_get_bytes(&c, &out->runtime_data, var_size), FMT,
                "HCL report: runtime data truncated");
    size_t hw_len = out->tee == ATLS_AZURE_TEE_SNP ? ATLS_AZURE_HW_AREA : ATLS_AZURE_TDREPORT_LEN;
    ATLS_ENSURE(atls_cursor_get_bytes(&area, &out->hw_report, hw_len), ATLS_ERR_INTERNAL,
                "HCL report: hardware report");
    return ATLS_OK;
}

atls_error atls_azure_expected_report_data(const atls_azure_hcl *hcl, uint8_t out[64])
{
    static const char *const names[] = {"SHA256", "SHA384", "SHA512"};
    ATLS_ENSURE(hcl->hash_type >= 1 && hcl->hash_type <= 3, ATLS_ERR_USAGE,
                "HCL report: hash type not parsed");
    memset(out, 0, 64);
    unsigned int n = 0;
    ATLS_GUARD_OSSL(EVP_Digest(atls_cursor_data(&hcl->runtime_data),
                               atls_cursor_remaining(&hcl->runtime_data), out, &n,
                               EVP_get_digestbyname(names[hcl->hash_type - 1]), NULL),
                    ATLS_ERR_CRYPTO, "HCL report: runtime data digest");
    return ATLS_OK;
}

/* b64_member decodes the base64url text member |name| of |jwk|. */
static atls_error b64_member(const json_t *jwk, const char *name, uint8_t **out, size_t *len)
{
    const json_t *v = json_object_get(jwk, name);
    ATLS_ENSURE(json_is_string(v), FMT, "runtime data: HCLAkPub has no \"%s\" string", name);
    atls_error rc = atls_b64url_decode(json_string_value(v), json_string_length(v), out, len);
    ATLS_ENSURE(rc == ATLS_OK && *len > 0, FMT, "runtime data: HCLAkPub \"%s\" is not base64url",
                name);
    return ATLS_OK;
}

/* rsa_from_jwk builds the public key of an RSA JWK (RFC 7518 section 6.3.1: n, e). */
static atls_error rsa_from_jwk(const json_t *jwk, EVP_PKEY **out)
{
    ATLS_ENSURE(json_is_string(json_object_get(jwk, "kty")) &&
                    strcmp(json_string_value(json_object_get(jwk, "kty")), "RSA") == 0,
                FMT, "runtime data: HCLAkPub is not an RSA key (kty)");
    uint8_t *n = NULL, *e = NULL;
    size_t n_len = 0, e_len = 0;
    atls_error rc = b64_member(jwk, "n", &n, &n_len);
    if (rc == ATLS_OK) {
        rc = b64_member(jwk, "e", &e, &e_len);
    }
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (rc != ATLS_OK) {
        goto done;
    }
    if (n_len < 256 || n_len > 512 || e_len > 8) {
        ATLS_FAIL_GOTO(rc, done, FMT, "runtime data: HCLAkPub modulus of %zu bytes (2048..4096 "
                                      "bits) or exponent of %zu bytes", n_len, e_len);
    }
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (bn_n == NULL || bn_e == NULL || bld == NULL || ctx == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL || EVP_PKEY_fromdata_init(ctx) != 1) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO, "runtime data: RSA key import");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params),
                         FMT, "runtime data: HCLAkPub is not a valid RSA key");
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return rc;
}

atls_error atls_azure_runtime_parse(const atls_azure_hcl *hcl, json_t **runtime, EVP_PKEY **ak)
{
    *runtime = NULL;
    *ak = NULL;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)atls_cursor_data(&hcl->runtime_data),
                           atls_cursor_remaining(&hcl->runtime_data),
                           JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &jerr);
    ATLS_ENSURE(j != NULL, FMT, "runtime data: not JSON (%s)", jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        ATLS_RAISE(FMT, "runtime data: not a JSON object");
    }
    /* nothing but JSON whitespace may follow the object */
    for (size_t i = (size_t)jerr.position; i < atls_cursor_remaining(&hcl->runtime_data); i++) {
        uint8_t ch = atls_cursor_data(&hcl->runtime_data)[i];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
            json_decref(j);
            ATLS_RAISE(FMT, "runtime data: bytes after the JSON object");
        }
    }
    const json_t *keys = json_object_get(j, "keys");
    const json_t *found = NULL;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const json_t *kid = json_object_get(k, "kid");
        if (json_is_string(kid) && strcmp(json_string_value(kid), "HCLAkPub") == 0) {
            if (found != NULL) {
                json_decref(j);
                ATLS_RAISE(FMT, "runtime data: two keys with kid HCLAkPub");
            }
            found = k;
        }
    }
    if (found == NULL) {
        json_decref(j);
        ATLS_RAISE(FMT, "runtime data: no key with kid \"HCLAkPub\" (the vTPM AK)");
    }
    atls_error rc = rsa_from_jwk(found, ak);
    if (rc != ATLS_OK) {
        json_decref(j);
        return rc;
    }
    *runtime = j;
    return ATLS_OK;
}
