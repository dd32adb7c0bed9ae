/* cli_collection.h: the attester the CLI hands to sessions when one CMW collection carries more
 * than one attester's Evidence or stapled collateral (atls/evidence.h produce_cmw):
 *
 *   "<primary>"   the primary attester's Evidence (tsm, azure, tpm2, sim), labelled by its name
 *                 (or its own CMW's records, e.g. tpm2's quote and event logs)
 *   "tpm2", ...   with --with-tpm: the TPM's quote over the same challenge and its event logs
 *                 (Google Cloud's vTPM, AWS NitroTPM: a second Evidence beside the TD quote /
 *                 SNP report), a label already taken prefixed "tpm-"
 *   "snp-*", "tdx-*"  with --collateral-dir: every item of the directory (collateral_dir.h),
 *                 read again for each Evidence so a refreshed directory is used at once
 *
 * Each attester gets what is left of the CMW's size budget after the collateral and the ones
 * before it; connection states (conn_new) are each attester's own. Thread-safety: as the
 * attesters it holds (the session's attester lock or the batcher serialises). */
#ifndef ATLS_TOOLS_CLI_COLLECTION_H
#define ATLS_TOOLS_CLI_COLLECTION_H

#include "cli.h"

/* cli_collection_open takes over |primary|/|primary_state| and, when not NULL, |tpm|/|tpm_state|
 * (also on failure) and makes the collection attester (*ops and *state owned together: release
 * with (*ops)->destroy(*state), after which *ops is gone too). |collateral_dir| may be NULL; it is copied. 0 or an exit code. */
int cli_collection_open(const atls_attester_ops *primary, void *primary_state,
                        const atls_attester_ops *tpm, void *tpm_state, const char *collateral_dir,
                        const atls_attester_ops **ops, void **state);

#endif /* ATLS_TOOLS_CLI_COLLECTION_H */
