#!/usr/bin/env bash
# test_merkle_rfc6962: atls's batch trees against an independent implementation of the RFC 6962 /
# RFC 9162 definitions (merkle_rfc6962.py: recursive MTH and PATH, the RFC 9162 verification
# walk; Debian's python3 and hashlib only).
set -euo pipefail
B=${ATLS_BUILD_DIR:?ATLS_BUILD_DIR must point at the build directory}
S=${ATLS_SOURCE_DIR:?ATLS_SOURCE_DIR must point at the source tree}
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-merkle-XXXXXX")
trap 'rm -rf "$T"' EXIT
"$B/tests/evidence/batch/test_merkle" dump "$T"
/usr/bin/python3 "$S/tests/evidence/batch/merkle_rfc6962.py" "$T/trees.txt"
