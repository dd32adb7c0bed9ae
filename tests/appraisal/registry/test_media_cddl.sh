#!/usr/bin/env bash
# test_media_cddl: every atls media type against its CDDL in docs/EVIDENCE.md. media_samples
# writes one sample of each (atls's encoders, the test generators, the shared CCA tokens when
# present) and a manifest; cddl_check.py (Debian's python3 with python3-cbor2, an independent
# CBOR decoder) reads the ```cddl blocks of the document and checks every sample, that every
# registered media type has a record rule, and that mutated samples are refused.
set -euo pipefail
B=${ATLS_BUILD_DIR:?ATLS_BUILD_DIR must point at the build directory}
S=${ATLS_SOURCE_DIR:?ATLS_SOURCE_DIR must point at the source tree}
PY=/usr/bin/python3 # Debian's: python3-cbor2 installs for it (scripts/setup-deps)
if ! "$PY" -c 'import cbor2' 2> /dev/null; then
    echo "SKIPPED: python3-cbor2 is not installed (scripts/setup-deps installs it)"
    exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-cddl-XXXXXX")
trap 'rm -rf "$T"' EXIT
"$B/tests/appraisal/registry/media_samples" "$T"
"$PY" "$S/tests/appraisal/registry/cddl_check.py" "$S/docs/EVIDENCE.md" "$T/manifest"
