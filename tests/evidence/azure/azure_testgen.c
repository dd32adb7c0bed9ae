/* azure_testgen.c: the paravisor MOCK of azure_testgen.h. */
#include "azure_testgen.h"

#include "codec/ear/base64url.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *b64_bn(EVP_PKEY *k, const char *param)
{
    BIGNUM *bn = NULL;
    uint8_t buf[512];
    char *out = NULL;
    if (EVP_PKEY_get_bn_param(k, param, &bn) == 1 && BN_num_bytes(bn) <= (int)sizeof(buf)) {
        int n = BN_bn2bin(bn, buf);
        if (atls_b64url_encode(buf, (size_t)n, &out) != ATLS_OK) {
            out = NULL;
        }
    }
    BN_free(bn);
    return out;
}

char *az_tg_runtime_json(EVP_PKEY *ak)
{
    char *n = b64_bn(ak, OSSL_PKEY_PARAM_RSA_N), *e = b64_bn(ak, OSSL_PKEY_PARAM_RSA_E);
    char *json = NULL;
    if (n != NULL && e != NULL) {
        size_t size = strlen(n) * 2 + 512;
        json = malloc(size);
        if (json != NULL) {
            snprintf(json, size,
                     "{\"keys\":[{\"kid\":\"HCLAkPub\",\"key_ops\":[\"sign\"],\"kty\":\"RSA\","
                     "\"e\":\"%s\",\"n\":\"%s\"}],\"vm-configuration\":{"
                     "\"console-enabled\":false,\"secure-boot\":true,\"tpm-enabled\":true,"
                     "\"vmUniqueId\":\"00000000-MOCK-0000-0000-000000000000\"},\"user-data\":"
                     "\"00\"}",
                     e, n);
        }
    }
    free(n);
    free(e);
    return json;
}

void az_tg_report_data(const char *json, uint8_t out[64])
{
    memset(out, 0, 64);
    EVP_Digest(json, strlen(json), out, NULL, EVP_sha256(), NULL);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

size_t az_tg_hcl(uint32_t tee, const uint8_t *hw, size_t hw_len, const char *json,
                 uint8_t out[AZ_TG_NV_SIZE])
{
    size_t jlen = strlen(json);
    size_t size = 1236 + jlen;
    if (hw_len > 1184 || size > AZ_TG_NV_SIZE) {
        return 0;
    }
    memset(out, 0, AZ_TG_NV_SIZE);
    memcpy(out, "HCLA", 4);
    put32(out + 4, tee == 4 ? 2 : 1); /* header version, as in the samples */
    put32(out + 8, (uint32_t)size);
    put32(out + 12, 2);               /* request type */
    memcpy(out + 32, hw, hw_len);
    put32(out + 1216, (uint32_t)(20 + jlen));
    put32(out + 1220, 1);
    put32(out + 1224, tee);
    put32(out + 1228, 1);             /* SHA-256 */
    put32(out + 1232, (uint32_t)jlen);
    memcpy(out + 1236, json, jlen);
    return size;
}
