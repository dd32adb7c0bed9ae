#!/usr/bin/env bash
# test_media_cddl: every atls media type against its CDDL in docs/EVIDENCE.md. media_samples
# writes one sample of each (atls's encoders, the test generators) and a manifest, or with the
# argument "shared" the real third-party CCA tokens of ../shared/vectors (skipped when absent); cddl_check.py (Debian's python3 with python3-cbor2, an independent
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
shared=()
[ "${1:-}" = shared ] && shared=(--shared)
rc=0
"$B/tests/appraisal/registry/media_samples" "$T" "${shared[@]}" || rc=$?
[ "$rc" = 77 ] && exit 77
[ "$rc" = 0 ] || { echo "media_samples failed (exit $rc)" >&2; exit 1; }
"$PY" "$S/tests/appraisal/registry/cddl_check.py" "$S/docs/EVIDENCE.md" "$T/manifest"
