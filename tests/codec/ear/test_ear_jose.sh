#!/usr/bin/env bash
# ear_jose_interop: atls's EAR JWTs judged by an independent JOSE implementation, and JOSE's
# tokens judged by atls (draft-ietf-rats-ear-04):
#   - `atls verify --ear-key` signs an EAR of real (sim) Evidence; `atls ear jwk` exports the key;
#     the `jose` npm package verifies the token with that JWK (signature, typ, exp), recomputes
#     the kid (RFC 7638 thumbprint), refuses a changed token, and the claims are validated
#     against the draft's CDDL (ear-04-json.cddl, parsed by the `cddl` npm package);
#   - tokens signed by jose: `atls ear verify` accepts a valid -04 one (kid) and a -03 one (no
#     kid), and refuses an expired one, an ES384 one, one whose kid or signature is another
#     key's, and one with an unknown profile.
# The npm packages come from scripts/setup-npm-checkers (pinned, in the build tree, never in the
# repo); skipped (77) without them, which CI counts as a failure (label npm).
set -euo pipefail
B=${ATLS_BUILD_DIR:?} S=${ATLS_SOURCE_DIR:?}
ATLS=$B/atls HERE=$S/tests/codec/ear
command -v node > /dev/null || { echo "SKIPPED: node not installed (npm checkers)"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-jose-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# jose and cddl, pinned by tests/npm/package-lock.json, installed into the build tree by
# scripts/setup-npm-checkers (make test)
CACHE=${ATLS_NPM_DIR:-$B/npm-cache}
[ -f "$CACHE/node_modules/jose/package.json" ] && [ -f "$CACHE/node_modules/cddl/package.json" ] || {
    echo "SKIPPED: npm checkers jose/cddl not installed in $CACHE (scripts/setup-npm-checkers)"; exit 77; }
export NODE_PATH=$CACHE/node_modules
NODE="node $HERE/jose_check.mjs"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/sim.key" 2> /dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ear.key" 2> /dev/null
openssl pkey -in "$T/ear.key" -pubout -out "$T/ear.pub"
challenge=$(openssl rand -hex 64)
"$ATLS" evidence --attester sim --sim-key "$T/sim.key" --challenge "$challenge" -o "$T/ev.cmw"
rc=0
"$ATLS" verify --evidence "$T/ev.cmw" --challenge "$challenge" --ear-key "$T/ear.key" > "$T/atls.jwt" || rc=$?
[ "$rc" -eq 3 ] || fail "atls verify --ear-key: exit $rc, expected 3 (verified, no policy)"
"$ATLS" ear jwk --key "$T/ear.key" > "$T/ear.jwk"
"$ATLS" ear jwk --key "$T/ear.pub" | cmp -s - "$T/ear.jwk" || fail "the JWK differs between the private and the public key"

# 0. usage errors: one line, exit 2, nothing on stdout
usage_error() { # usage_error ARGS...: atls ear ARGS must fail with exit 2 and one line
    local rc=0
    "$ATLS" ear "$@" > "$T/out" 2> "$T/err" < /dev/null || rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -s "$T/out" ] ||
        fail "atls ear $*: exit $rc, stderr '$(cat "$T/err")'"
}
usage_error verify "$(cat "$T/atls.jwt")"
usage_error verify --key "$T/ear.pub"
usage_error verify a b --key "$T/ear.pub"
usage_error verify - --key "$T/ear.pub"
usage_error verify x --key "$T/nonexistent"
usage_error verify x --key "$T/ev.cmw"
usage_error verify x --key "$T/ear.pub" --at yesterday
usage_error jwk --key "$T/ear.pub" extra
usage_error jwk --no-such-option
usage_error sign
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$T/p384.key" 2> /dev/null
usage_error jwk --key "$T/p384.key"
echo "ok: atls ear usage errors: one line, exit 2"

# 1. atls's token, judged by jose and the CDDL
$NODE check "$CACHE/node_modules" "$HERE/ear-04-json.cddl" "$T/atls.jwt" "$T/ear.jwk" "$T/ear.key"

# 2. jose's tokens, judged by atls ear verify
$NODE sign "$CACHE/node_modules" "$T/ear.key" "$T"
for tok in "$T"/accept-*.jwt; do
    rc=0
    "$ATLS" ear verify - --key "$T/ear.pub" < "$tok" > "$T/claims.json" 2> "$T/err" || rc=$?
    [ "$rc" -eq 0 ] || { cat "$T/err"; fail "atls ear verify refuses $(basename "$tok") (exit $rc)"; }
    [ "$(jq -r .submods.cpu.ear_attester_claims.note "$T/claims.json")" = "signed by jose" ] ||
        fail "$(basename "$tok"): claims not printed"
    echo "ok: atls ear verify accepts jose's $(basename "$tok")"
done
for tok in "$T"/refuse-*.jwt; do
    rc=0
    "$ATLS" ear verify "$(cat "$tok")" --key "$T/ear.pub" > "$T/out" 2> "$T/err" || rc=$?
    [ "$rc" -eq 1 ] || fail "atls ear verify: $(basename "$tok"): exit $rc, expected 1"
    [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -s "$T/out" ] || fail "$(basename "$tok"): expected one error line, no output"
    echo "ok: atls ear verify refuses jose's $(basename "$tok"): $(cat "$T/err")"
done
echo "ok: EAR JWTs interoperate with jose in both directions"
