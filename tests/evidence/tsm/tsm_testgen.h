/* tsm_testgen.h: what a configfs-tsm provider returns, made by the test generators (snp, tdx,
 * cca), for whatever plays the kernel in tests: the hook of test_tsm_prepared_dir and the
 * tsm-kernel-standin process. Nothing here is AMD's, Intel's or Arm's. */
#ifndef ATLS_TESTS_TSM_TESTGEN_H
#define ATLS_TESTS_TSM_TESTGEN_H

#include "snp_testgen.h"
#include "tdx_testgen.h"

#include <stddef.h>
#include <stdint.h>

typedef enum tsm_tg_kind { TSM_TG_SNP, TSM_TG_TDX, TSM_TG_CCA } tsm_tg_kind;

/* The provider's keys (borrowed): |snp| for SNP, |tdx| for TDX, |cpak|/|rak| for CCA. */
typedef struct tsm_tg {
    tsm_tg_kind kind;
    const tg_snp_pki *snp;
    const tg_tdx_pki *tdx;
    EVP_PKEY *cpak, *rak;
    const uint8_t (*rtmr)[48]; /* TDX: RTMR0..3 of the quotes (4 of them), NULL: a pattern */
} tsm_tg;

/* tsm_tg_provider: the provider attribute's text ("sev_guest\n", ...). */
const char *tsm_tg_provider(tsm_tg_kind kind);

/* tsm_tg_outblob: the outblob for report data |rd| (SNP: a report at VMPL |vmpl|, 0 when < 0;
 * TDX: a quote; CCA: a token over the challenge |rd|). malloc'd, NULL on failure. */
uint8_t *tsm_tg_outblob(const tsm_tg *g, const uint8_t rd[64], int vmpl, size_t *len);

#endif /* ATLS_TESTS_TSM_TESTGEN_H */
