/* evidence_file.h: reading an Evidence file for `atls verify`, `atls policy init --evidence`
 * and `atls collateral fetch --evidence`: a CMW (record or collection, as `atls evidence`
 * writes it) or bare Evidence of a verifier (--format NAME, or told apart by its first bytes
 * with --format auto). A TDX quote file keeps only the quote (sig_data_len ends it; some tools
 * pad their files, docs/EVIDENCE.md). */
#ifndef ATLS_TOOLS_EVIDENCE_FILE_H
#define ATLS_TOOLS_EVIDENCE_FILE_H

#include "cli.h"

#define EVIDENCE_FILE_MAX (1024u * 1024u)

/* evidence_file_load reads |path| (at most EVIDENCE_FILE_MAX bytes) into *ev (caller frees)
 * and sets *ops to the verifier of bare Evidence, or NULL for a CMW. |format| is "auto",
 * "cmw" or a verifier name. 0 or an exit code (message printed). */
int evidence_file_load(const char *path, const char *format, uint8_t **ev, size_t *len,
                       const atls_verifier_ops **ops);

#endif /* ATLS_TOOLS_EVIDENCE_FILE_H */
