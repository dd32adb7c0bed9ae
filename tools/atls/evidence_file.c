/* evidence_file.c: an Evidence file, CMW or bare (evidence_file.h). */
#include "evidence_file.h"

#include "codec/cmw/cmw.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tpm2/tpm2.h"

#include <stdlib.h>
#include <string.h>

/* sniff tells the format of bare Evidence from its first bytes (--format auto). NULL name:
 * a CMW. */
static int sniff(const uint8_t *d, size_t len, const char **name)
{
    atls_cmw_form form;
    atls_cmw cmw;
    *name = NULL;
    if (atls_cmw_detect_form(d, len, &form) == ATLS_OK &&
        (form == ATLS_CMW_FORM_CBOR_RECORD ||
         (form == ATLS_CMW_FORM_CBOR_COLLECTION && atls_cmw_decode(d, len, &cmw) == ATLS_OK))) {
        return 0;
    }
    atls_tpm2_quote q;
    memset(&q, 0, sizeof(q));
    int is_tpm2 = atls_tpm2_quote_decode(d, len, &q) == ATLS_OK;
    atls_tpm2_quote_cleanup(&q);
    if (is_tpm2) {
        *name = "tpm2";
    } else if (len > 0 && d[0] == 0xd2) { /* COSE_Sign1 tag 18: the sim EAT */
        *name = "sim";
    } else if (len == 1184 && d[0] >= 2 && d[0] <= 5 && d[1] == 0 && d[2] == 0 &&
               d[3] == 0) { /* SNP ATTESTATION_REPORT, VERSION (LE u32) */
        *name = "snp";
    } else if (len > 48 && (d[0] == 4 || d[0] == 5) && d[1] == 0 && d[4] == 0x81 && d[5] == 0 &&
               d[6] == 0 && d[7] == 0) { /* TDX quote: version (LE u16), tee_type 0x81 */
        *name = "tdx";
    } else {
        cli_error("cannot tell the Evidence format: give --format");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int evidence_file_load(const char *path, const char *format, uint8_t **ev, size_t *len,
                       const atls_verifier_ops **ops)
{
    *ev = NULL;
    *len = 0;
    *ops = NULL;
    const char *name = NULL;
    int rc = cli_read_file(path, EVIDENCE_FILE_MAX, ev, len);
    if (rc != 0) {
        return rc;
    }
    if (strcmp(format, "auto") == 0) {
        rc = sniff(*ev, *len, &name);
    } else if (strcmp(format, "cmw") != 0) {
        name = format;
    }
    if (rc == 0 && name != NULL && (*ops = atls_verifier_by_name(name)) == NULL) {
        cli_error("--format '%s': no such verifier in this atls", name);
        rc = CLI_EXIT_USAGE;
    }
    if (rc != 0) {
        free(*ev);
        *ev = NULL;
        *len = 0;
        return rc;
    }
    size_t qlen = 0;
    if (*ops != NULL && strcmp((*ops)->name, "tdx") == 0 &&
        atls_tdx_quote_length(*ev, *len, &qlen) == ATLS_OK && qlen < *len) {
        /* quote files from some tools carry padding after the quote; sig_data_len says where
         * the quote ends (docs/EVIDENCE.md). A CMW record must not. */
        cli_log("ignoring %zu bytes after the quote (sig_data_len ends it at %zu)", *len - qlen,
                qlen);
        *len = qlen;
    }
    return 0;
}
