/* collateral_fetch.h: downloading and caching a platform's collateral into a collateral
 * directory (collateral_dir.h) from AMD's Key Distribution Service and Intel's Provisioning
 * Certification Service, for `atls collateral fetch` and `atls serve --collateral-refresh`.
 *
 *   SNP (AMD KDS, "VCEK/VLEK Certificate and KDS Interface Specification"):
 *     {kds}/vcek/v1/{product}/{hwid}?[fmcSPL=..&]blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..
 *          hwid = CHIP_ID in hex (Turin: its first 8 bytes), SPLs of REPORTED_TCB, decimal
 *     {kds}/vcek/v1/{product}/cert_chain   ASK + ARK (PEM)      (VLEK: /vlek/v1/...)
 *     {kds}/vcek/v1/{product}/crl          the ARK's CRL (DER)  (VLEK: /vlek/v1/...)
 *     a VLEK is the cloud provider's: never fetched (put it in snp-vlek.der by hand)
 *   TDX (Intel PCS API v4):
 *     {pcs}/tdx/certification/v4/tcb?fmspc={FMSPC}        TCB Info; header TCB-Info-Issuer-Chain
 *                                                          = the TCB signing chain
 *     {pcs}/tdx/certification/v4/qe/identity              the TD QE Identity
 *     {pcs}/sgx/certification/v4/pckcrl?ca={platform|processor}&encoding=der
 *     {intel-root-crl}                                      the Intel SGX Root CA's CRL
 *
 * Cache rule: an item present, well-formed and valid at the verification time until at least
 * |refresh_before| seconds past it is kept; anything else is fetched. A fetched item must be
 * well-formed and not already past its nextUpdate / notAfter (the vendor serving stale
 * collateral is an error: nothing is written); it replaces the old file atomically. Downloads
 * are bounded (COLLATERAL_FILE_MAX bytes, |timeout_ms|, no redirects). */
#ifndef ATLS_TOOLS_COLLATERAL_FETCH_H
#define ATLS_TOOLS_COLLATERAL_FETCH_H

#include "cli.h"

#include <time.h>

#define COLLATERAL_KDS_URL "https://kdsintf.amd.com"
#define COLLATERAL_PCS_URL "https://api.trustedservices.intel.com"
#define COLLATERAL_INTEL_ROOT_CRL_URL \
    "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

/* What identifies a platform's collateral, read from its Evidence. */
typedef struct fetch_params {
    int have_snp;
    char snp_product[16];  /* "Milan", "Genoa", "Turin" */
    int snp_vlek;          /* signed by a VLEK: only the VLEK chain and CRL */
    uint8_t hwid[64];
    size_t hwid_len;       /* 64, Turin 8 */
    int turin;
    uint8_t fmc, bl, tee, snp, ucode; /* REPORTED_TCB */
    int have_tdx;
    uint8_t fmspc[6];
    char pck_ca[16];       /* "platform" or "processor" */
} fetch_params;

/* fetch_params_from: the parameters of Evidence |ev| of media type |media_type| (snp, tdx, tsm
 * or azure Evidence), or of a CMW when |media_type| is NULL (every Evidence record of it).
 * |snp_product| (may be NULL) names the product when the report does not (version 2). 0 or
 * an exit code (message printed). */
int fetch_params_from(const char *media_type, const uint8_t *ev, size_t len,
                      const char *snp_product, fetch_params *out);

typedef struct fetch_opts {
    const char *dir;
    const char *kds_url, *pcs_url, *intel_root_crl_url; /* NULL: the vendors' */
    time_t at;            /* verification time, 0 = now */
    long refresh_before;  /* seconds */
    int force;            /* fetch even what is fresh */
    int timeout_ms;
    int quiet;            /* report through cli_log only (serve) */
} fetch_opts;

/* The command-line options shared by `collateral fetch` and `serve --collateral-refresh`. */
enum {
    COLLATERAL_OPT_BASE = 1200,
    COLLATERAL_OPT_KDS = COLLATERAL_OPT_BASE,
    COLLATERAL_OPT_PCS,
    COLLATERAL_OPT_ROOT_CRL,
    COLLATERAL_OPT_REFRESH_BEFORE,
    COLLATERAL_OPT_SNP_PRODUCT,
    COLLATERAL_OPT_END
};
#define COLLATERAL_FETCH_LONGOPTS                                                             \
    {"kds-url", required_argument, NULL, COLLATERAL_OPT_KDS},                                 \
        {"pcs-url", required_argument, NULL, COLLATERAL_OPT_PCS},                             \
        {"intel-root-crl-url", required_argument, NULL, COLLATERAL_OPT_ROOT_CRL},             \
        {"refresh-before", required_argument, NULL, COLLATERAL_OPT_REFRESH_BEFORE},           \
        {"snp-product", required_argument, NULL, COLLATERAL_OPT_SNP_PRODUCT}
#define COLLATERAL_FETCH_HELP                                                                 \
    "  --kds-url URL              AMD KDS base (default " COLLATERAL_KDS_URL ")\n"           \
    "  --pcs-url URL              Intel PCS base (default " COLLATERAL_PCS_URL ")\n"  \
    "  --intel-root-crl-url URL   the Intel SGX Root CA CRL (default\n"                       \
    "                             " COLLATERAL_INTEL_ROOT_CRL_URL ")\n"                       \
    "  --refresh-before SECONDS   fetch what expires within this (default 86400)\n"          \
    "  --snp-product NAME         SNP: Milan, Genoa or Turin when the report does not say\n"

typedef struct fetch_cli {
    fetch_opts o;
    const char *snp_product;
} fetch_cli;

/* fetch_cli_init: the defaults (vendor URLs, refresh 86400 s, 30 s timeout). */
void fetch_cli_init(fetch_cli *f);

/* fetch_cli_option applies one COLLATERAL_FETCH_LONGOPTS value. 0 or an exit code. */
int fetch_cli_option(fetch_cli *f, int c, const char *value);

/* collateral_fetch brings |o|->dir up to date for |p|. *fetched / *kept count the items (may be
 * NULL). 0; CLI_EXIT_FAIL when a vendor served stale or malformed collateral; CLI_EXIT_USAGE
 * on network, HTTP or file errors (message printed; in quiet mode through cli_error too). */
int collateral_fetch(const fetch_opts *o, const fetch_params *p, int *fetched, int *kept);

#endif /* ATLS_TOOLS_COLLATERAL_FETCH_H */
