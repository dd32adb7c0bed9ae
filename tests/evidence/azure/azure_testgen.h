/* azure_testgen.h: test-only MOCK of Azure's paravisor: builds HCL-format reports (header,
 * hardware report, runtime data JSON with the vTPM AK as JWK "HCLAkPub") the way the shared
 * Azure samples are laid out. Nothing here is Microsoft's; the layout is azure.h's. */
#ifndef ATLS_TESTS_AZURE_TESTGEN_H
#define ATLS_TESTS_AZURE_TESTGEN_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define AZ_TG_NV_SIZE 2600u /* what Azure's NV index holds */

/* az_tg_runtime_json returns a malloc'd runtime-data JSON naming |ak| (RSA) as HCLAkPub, or
 * NULL. */
char *az_tg_runtime_json(EVP_PKEY *ak);

/* az_tg_report_data: SHA-256(json) || 0^32, as the paravisor puts into REPORT_DATA. */
void az_tg_report_data(const char *json, uint8_t out[64]);

/* az_tg_hcl writes an HCL report for |tee| (2 SNP, 4 TDX) with |hw| (SNP: 1184 bytes; TDX:
 * 1024-byte TDREPORT) and |json| into |out| (AZ_TG_NV_SIZE bytes, zero padded). Returns its
 * report_size, 0 on failure. */
size_t az_tg_hcl(uint32_t tee, const uint8_t *hw, size_t hw_len, const char *json,
                 uint8_t out[AZ_TG_NV_SIZE]);

#endif
