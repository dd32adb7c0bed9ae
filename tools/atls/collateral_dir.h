/* collateral_dir.h: the layout of a collateral directory, written by `atls collateral fetch`
 * and stapled by `--collateral-dir` (docs/cli.md, "atls collateral"): one file per item, each
 * an Endorsement record of the CMW collection under the file's stem as label.
 *
 *   snp-vcek.der               the VCEK (AMD KDS, by product, hardware id and reported TCB)
 *   snp-vlek.der               a VLEK (from the cloud provider; never fetched)
 *   snp-cert-chain.pem         ASK (or ASVK) + ARK (KDS cert_chain)
 *   snp-crl.der                the ARK's CRL (KDS crl)
 *   tdx-tcb-info.json          TDX TCB Info for the platform's FMSPC (Intel PCS v4)
 *   tdx-qe-identity.json       the TD QE Identity (PCS v4)
 *   tdx-tcb-signing-chain.pem  TCB signing certificate + root (PCS TCB-Info-Issuer-Chain)
 *   tdx-pck-crl.der            the PCK CA's CRL (PCS pckcrl, ca = platform or processor)
 *   tdx-root-ca-crl.der        the Intel SGX Root CA's CRL
 *
 * Files are replaced atomically (rename), so a reader sees the old or the new one. */
#ifndef ATLS_TOOLS_COLLATERAL_DIR_H
#define ATLS_TOOLS_COLLATERAL_DIR_H

#include "cli.h"

#include <time.h>

#define COLLATERAL_FILE_MAX (1024u * 1024u)

typedef struct collateral_item {
    const char *file;       /* name inside the directory */
    const char *label;      /* CMW collection label */
    const char *media_type; /* ATLS_MEDIA_* */
} collateral_item;

extern const collateral_item collateral_items[];
extern const size_t collateral_num_items;

/* collateral_item_by_file: the item of |file|, or NULL. */
const collateral_item *collateral_item_by_file(const char *file);

/* collateral_window reads the validity window of |data| as |item| (certificate notBefore /
 * notAfter, the earliest over a PEM chain; CRL thisUpdate / nextUpdate; TDX issueDate /
 * nextUpdate). 1 when it parses as that item, 0 otherwise. */
int collateral_window(const collateral_item *item, const uint8_t *data, size_t len,
                      time_t *not_before, time_t *not_after);

/* collateral_check_dir: |dir| is a directory holding at least one item (with |may_be_empty|:
 * made when missing, and it may hold none yet); stale items (window passed at |at|, 0 = now)
 * are named on stderr as a warning. 0 or an exit code. */
int collateral_check_dir(const char *dir, time_t at, int may_be_empty);

/* collateral_add_parts appends every item present in |dir| to |parts| as an Endorsement.
 * ATLS_OK, or the error (unreadable file). */
ATLS_MUST_CHECK atls_error collateral_add_parts(const char *dir, atls_evidence_parts *parts);

#endif /* ATLS_TOOLS_COLLATERAL_DIR_H */
