# test_cli_freshness: Evidence made by `atls evidence` carries the detached-domain challenge
# SHA-512("atls/1 detached evidence" 0x00 || CHALLENGE), recomputed here with openssl dgst, never
# the given bytes; `atls verify` checks it with --challenge, the raw value with
# --raw-challenge; without a challenge the result is at best a warning (exit 3) and says that
# freshness was not checked, unless --no-challenge. Sim, and tpm2 on a private swtpm.
source "$(dirname "$0")/lib.sh"

make_sim sim
CH=$(printf '5a%.0s' $(seq 64))
hex2bin() { printf '%b' "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }
DETACHED=$({ printf 'atls/1 detached evidence\0'; hex2bin "$CH"; } | openssl dgst -sha512 -binary |
    od -An -v -tx1 | tr -d ' \n')

# expect CODE NAME CMD...: exit code CODE (stdout in $T/out, stderr in $T/err)
expect() {
    local want=$1 name=$2
    shift 2
    run_cmd "$T/out" "$T/err" "$@"
    if [ "$RC" -eq "$want" ]; then ok "$name"; else bad "$name (exit $RC, want $want): $(cat "$T/err")"; fi
}

freshness() { # KIND EVIDENCE POLICY
    local k=$1 ev=$2 pol=$3
    expect 0 "$k: --challenge (the detached value): affirming" "$ATLS" verify --evidence "$ev" \
        --challenge "$CH" --policy "$pol"
    expect 0 "$k: --raw-challenge of SHA-512(label || challenge) by openssl: affirming" \
        "$ATLS" verify --evidence "$ev" --raw-challenge "$DETACHED" --policy "$pol"
    expect 1 "$k: the Evidence does not carry the given bytes themselves" "$ATLS" verify \
        --evidence "$ev" --raw-challenge "$CH" --policy "$pol"
    expect 3 "$k: no challenge: a warning although the policy affirms" "$ATLS" verify \
        --evidence "$ev" --policy "$pol"
    check "$k: ... the summary says freshness was not checked" \
        grep -q "^freshness: not checked" "$T/out"
    check "$k: ... and so does stderr, on one line" one_line "$T/err"
    check "$k: ... naming it" grep -q "freshness was not checked" "$T/err"
    expect 3 "$k: no challenge, --json: a warning" "$ATLS" verify --evidence "$ev" --policy "$pol" --json
    check "$k: ... stdout is the EAR alone" jq -e .ear_status "$T/out"
    check "$k: ... the warning on stderr" grep -q "freshness was not checked" "$T/err"
    expect 0 "$k: --no-challenge: the user accepts it" "$ATLS" verify --evidence "$ev" \
        --policy "$pol" --no-challenge
    check "$k: ... and the summary still says so" grep -q "^freshness: not checked (--no-challenge)" "$T/out"
    expect 2 "$k: --challenge with --no-challenge: usage error" "$ATLS" verify --evidence "$ev" \
        --policy "$pol" --no-challenge --challenge "$CH"
    expect 2 "$k: --challenge with --raw-challenge: usage error" "$ATLS" verify --evidence "$ev" \
        --policy "$pol" --raw-challenge "$CH" --challenge "$CH"
}

# ---- sim ----
setup_cmd "$T/sim.cmw" "$ATLS" evidence --attester sim --sim-key "$T/sim.key" \
    --sim-measurements "$T/meas.json" --challenge "$CH"
run_cmd "$T/sim-ear.json" "$T/sim-ear.err" "$ATLS" verify --evidence "$T/sim.cmw" --no-challenge --json
kid=$(grep -o '"key_id": "[0-9a-f]*"' "$T/sim-ear.json" | head -1 | cut -d'"' -f4)
check "sim: the EAR names the key" [ -n "$kid" ]
printf '{"version": 1, "sim": {"keys": ["%s"], "any_measurements": true}}\n' "$kid" > "$T/sim-policy.json"
freshness sim "$T/sim.cmw" "$T/sim-policy.json"

# ---- tpm2 ----
if command -v swtpm > /dev/null; then
    start_swtpm
    setup_cmd "$T/tpm.cmw" "$ATLS" evidence --attester tpm2 --tpm-tcti "$TCTI" --challenge "$CH"
    # a strict policy for this TPM (its AK and PCRs), from policy init against it
    make_pki
    ECHO=$(free_port)
    SRV=$(free_port)
    start_backend echo "$ECHO"
    start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester tpm2 --tpm-tcti "$TCTI"
    setup_cmd "$T/tpm-policy.json" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
    freshness tpm2 "$T/tpm.cmw" "$T/tpm-policy.json"
else
    echo "skipping the tpm2 part: swtpm not installed"
fi
finish
