/* verify_inputs.h: the trust inputs of `atls verify`, `connect` and `policy init` (an atls_verify_input that owns what it
 * points to) and RFC 3339 time parsing for --at. */
#ifndef ATLS_TOOLS_VERIFY_INPUTS_H
#define ATLS_TOOLS_VERIFY_INPUTS_H

#include "cli.h"

#include <time.h>

#define VERIFY_MAX_KEYS 16

typedef struct verify_inputs {
    atls_verify_input in;          /* points into the fields below (owned here) */
    EVP_PKEY *keys[VERIFY_MAX_KEYS];
} verify_inputs;

void verify_inputs_init(verify_inputs *v);
void verify_inputs_cleanup(verify_inputs *v);

/* verify_inputs_add_anchor: PEM certificates → trust_anchors; a file without certificates
 * may hold PEM public keys instead → trusted_keys (pinned keys). */
int verify_inputs_add_anchor(verify_inputs *v, const char *path);
/* verify_inputs_add_intermediates: PEM certificates → intermediates. */
int verify_inputs_add_intermediates(verify_inputs *v, const char *path);
/* verify_inputs_add_crl: PEM CRLs, or one DER CRL → crls. */
/* verify_inputs_add_tpm_ak_ca: PEM certificates → tpm_ak_anchors; "none": an empty stack. */
int verify_inputs_add_tpm_ak_ca(verify_inputs *v, const char *path);
int verify_inputs_add_crl(verify_inputs *v, const char *path);

/* The trust-input options shared by verify, connect and policy init (docs/cli.md, "Trust-input
 * options"): add VERIFY_INPUT_LONGOPTS to a getopt table and pass values
 * VERIFY_OPT_BASE..VERIFY_OPT_END-1 to verify_inputs_option. */
enum {
    VERIFY_OPT_BASE = 1100,
    VERIFY_OPT_ANCHOR = VERIFY_OPT_BASE,
    VERIFY_OPT_INTERMEDIATES,
    VERIFY_OPT_VCEK,
    VERIFY_OPT_TCB_INFO,
    VERIFY_OPT_QE_IDENTITY,
    VERIFY_OPT_TCB_CHAIN,
    VERIFY_OPT_CRL,
    VERIFY_OPT_TPM_AK_CA,
    VERIFY_OPT_END
};
#define VERIFY_INPUT_LONGOPTS                                                                 \
    {"trust-anchor", required_argument, NULL, VERIFY_OPT_ANCHOR},                             \
        {"intermediates", required_argument, NULL, VERIFY_OPT_INTERMEDIATES},                 \
        {"vcek", required_argument, NULL, VERIFY_OPT_VCEK},                                   \
        {"tcb-info", required_argument, NULL, VERIFY_OPT_TCB_INFO},                           \
        {"qe-identity", required_argument, NULL, VERIFY_OPT_QE_IDENTITY},                     \
        {"tcb-signing-chain", required_argument, NULL, VERIFY_OPT_TCB_CHAIN},                 \
        {"crl", required_argument, NULL, VERIFY_OPT_CRL},                                     \
        {"tpm-ak-ca", required_argument, NULL, VERIFY_OPT_TPM_AK_CA}
#define VERIFY_INPUT_HELP                                                                     \
    "  --trust-anchor FILE        PEM root certificates, or PEM public keys to pin (repeatable)\n" \
    "  --intermediates FILE       PEM intermediate certificates (ASK, PCK chain...)\n"        \
    "  --vcek FILE                SNP: the VCEK/VLEK certificate\n"                          \
    "  --tcb-info FILE            TDX: Intel TCB info JSON\n"                                \
    "  --qe-identity FILE         TDX: Intel QE identity JSON\n"                             \
    "  --tcb-signing-chain FILE   TDX: the TCB signing chain (PEM)\n"                        \
    "  --crl FILE                 PEM CRLs (repeatable): TDX the root CA and PCK CRLs, SNP the\n" \
    "                             ARK's CRL; without them revocation is unchecked (no tier)\n" \
    "  --tpm-ak-ca FILE|none      PEM roots for TPM AK certificates (repeatable; default: the\n" \
    "                             trust anchors); none: no AK CA, the policy pins the AK\n"

/* verify_inputs_option applies one trust-input option (c from getopt_long). 0 or an exit code
 * (message printed). */
int verify_inputs_option(verify_inputs *v, int c, const char *value);

/* verify_parse_time parses an RFC 3339 date-time (section 5.6) into seconds since the epoch. */
int verify_parse_time(const char *s, time_t *out);

#endif /* ATLS_TOOLS_VERIFY_INPUTS_H */
