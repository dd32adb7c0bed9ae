/* tsm_testgen.c: configfs-tsm outblobs from the test generators (tsm_testgen.h). */
#include "tsm_testgen.h"

#include "cca_testgen.h"

#include <stdlib.h>
#include <string.h>

const char *tsm_tg_provider(tsm_tg_kind kind)
{
    return kind == TSM_TG_SNP   ? "sev_guest\n"
           : kind == TSM_TG_TDX ? "tdx_guest\n"
                                : "arm_cca_guest\n";
}

uint8_t *tsm_tg_outblob(const tsm_tg *g, const uint8_t rd[64], int vmpl, size_t *len)
{
    if (g->kind == TSM_TG_SNP) {
        tg_snp_fields f;
        tg_snp_defaults(&f);
        memcpy(f.report_data, rd, 64);
        f.vmpl = vmpl >= 0 ? (uint32_t)vmpl : 0;
        uint8_t *rep = malloc(1184);
        if (rep == NULL || !tg_snp_report(&f, g->snp->leaf_key, rep)) {
            free(rep);
            return NULL;
        }
        *len = 1184;
        return rep;
    }
    if (g->kind == TSM_TG_TDX) {
        tg_tdx_fields t;
        size_t off = 0;
        tg_tdx_defaults(&t);
        memcpy(t.report_data, rd, 64);
        if (g->rtmr != NULL) {
            t.have_rtmr = 1;
            memcpy(t.rtmr, g->rtmr, sizeof(t.rtmr));
        }
        return tg_tdx_quote(g->tdx, &t, len, &off);
    }
    tg_cca_fields c;
    tg_cca_defaults(&c);
    memcpy(c.challenge, rd, 64);
    return tg_cca_token(&c, g->cpak, g->rak, len);
}
