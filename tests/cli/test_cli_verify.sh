# test_cli_verify [sim|tpm2]: `atls verify` on Evidence made by `atls evidence` (sim; tpm2 on a
# private swtpm: CTest test test_cli_verify_swtpm, label swtpm, skipped without swtpm):
# affirming with a matching policy (0), warning without one (3), contraindicated with a
# mismatching policy (1), a challenge mismatch (1), tampered Evidence (1); --raw and --format.
source "$(dirname "$0")/lib.sh"
MODE=${1:-sim}
case $MODE in sim | tpm2) ;; *) echo "usage: test_cli_verify.sh [sim|tpm2]"; exit 2 ;; esac
[ "$MODE" = sim ] || command -v swtpm > /dev/null || skip "needs swtpm (not installed)"

make_pki
make_sim sim
make_sim other
CH=$(printf '5a%.0s' $(seq 64))
CH2=$(printf 'a5%.0s' $(seq 64))

# expect CODE NAME CMD...: exit code CODE
expect() {
    local want=$1 name=$2
    shift 2
    run_cmd "$T/out" "$T/err" "$@"
    if [ "$RC" -eq "$want" ]; then ok "$name"; else bad "$name (exit $RC, want $want): $(cat "$T/err")"; fi
}

# ---- sim (both modes: the tpm2 mode also needs the sim policy) ----
setup_cmd "$T/sim.cmw" "$ATLS" evidence --attester sim --sim-key "$T/sim.key" \
    --sim-measurements "$T/meas.json" --challenge "$CH"
setup_cmd "$T/sim.raw.out" "$ATLS" evidence --attester sim --sim-key "$T/sim.key" \
    --sim-measurements "$T/meas.json" --challenge "$CH" --raw -o "$T/sim.raw"
expect 3 "sim: no policy: warning" "$ATLS" verify --evidence "$T/sim.cmw" --challenge "$CH" --json
check "sim: the EAR carries every claim (measurements, nonce)" \
    grep -q "$(printf '22%.0s' $(seq 32))" "$T/out"
kid=$(grep -o '"key_id": "[0-9a-f]*"' "$T/out" | head -1 | cut -d'"' -f4)
printf '{"version": 1, "sim": {"keys": ["%s"], "measurements": {"firmware": ["%s"], "kernel": ["%s"]}}}\n' \
    "$kid" "$(printf '11%.0s' $(seq 32))" "$(printf '22%.0s' $(seq 32))" > "$T/sim-policy.json"
printf '{"version": 1, "sim": {"keys": ["%s"], "measurements": {"firmware": ["%s"], "kernel": ["%s"]}}}\n' \
    "$kid" "$(printf '33%.0s' $(seq 32))" "$(printf '22%.0s' $(seq 32))" > "$T/sim-bad.json"
check "sim: the EAR names the signing key" [ -n "$kid" ]
if [ "$MODE" = sim ]; then
expect 0 "sim: matching policy: affirming" "$ATLS" verify --evidence "$T/sim.cmw" \
    --challenge "$CH" --policy "$T/sim-policy.json"
check "sim: the summary says SIMULATED" grep -q "SIMULATED" "$T/out"
expect 1 "sim: mismatching measurement: contraindicated" "$ATLS" verify --evidence "$T/sim.cmw" \
    --challenge "$CH" --policy "$T/sim-bad.json"
check "sim: stderr names the measurement" grep -q '"firmware"' "$T/err"
expect 1 "sim: challenge mismatch" "$ATLS" verify --evidence "$T/sim.cmw" --challenge "$CH2" \
    --policy "$T/sim-policy.json"
expect 0 "sim: bare Evidence (--raw), format detected" "$ATLS" verify --evidence "$T/sim.raw" \
    --challenge "$CH" --policy "$T/sim-policy.json"
expect 0 "sim: --format sim" "$ATLS" verify --evidence "$T/sim.raw" --format sim \
    --challenge "$CH" --policy "$T/sim-policy.json"
expect 1 "sim: --format tpm2 on sim Evidence: invalid" "$ATLS" verify --evidence "$T/sim.raw" \
    --format tpm2
openssl pkey -in "$T/other.key" -pubout -out "$T/other.pub" 2> /dev/null
setup_cmd "$T/other.cmw" "$ATLS" evidence --attester sim --sim-key "$T/other.key" --challenge "$CH"
expect 1 "sim: another signing key: contraindicated" "$ATLS" verify --evidence "$T/other.cmw" \
    --challenge "$CH" --policy "$T/sim-policy.json"
# flip one byte near the end (inside the signature)
cp "$T/sim.cmw" "$T/tampered.cmw"
size=$(stat -c %s "$T/tampered.cmw")
printf '\x00' | dd of="$T/tampered.cmw" bs=1 seek=$((size - 5)) conv=notrunc 2> /dev/null
expect 1 "sim: tampered Evidence: invalid" "$ATLS" verify --evidence "$T/tampered.cmw" \
    --challenge "$CH" --policy "$T/sim-policy.json"
head -c 40 "$T/sim.cmw" > "$T/trunc.cmw"
expect 1 "sim: truncated CMW: invalid" "$ATLS" verify --evidence "$T/trunc.cmw" --format cmw
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ear.key" 2> /dev/null
expect 0 "sim: --ear-key prints a signed EAR" "$ATLS" verify --evidence "$T/sim.cmw" \
    --challenge "$CH" --policy "$T/sim-policy.json" --ear-key "$T/ear.key"
check "sim: the output is a JWT" grep -Eq '^ey[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$T/out"
expect 3 "sim: --at accepted" "$ATLS" verify --evidence "$T/sim.cmw" --at 2030-01-01T00:00:00Z
fi

# ---- tpm2 on swtpm ----
if [ "$MODE" = tpm2 ]; then
    start_swtpm
    setup_cmd "$T/tpm.cmw" "$ATLS" evidence --attester tpm2 --tpm-tcti "$TCTI" --challenge "$CH"
    expect 3 "tpm2: no policy: warning" "$ATLS" verify --evidence "$T/tpm.cmw" --challenge "$CH" --json
    check "tpm2: the EAR lists the PCR values" grep -q '"pcrs"' "$T/out"
    # the same TPM behind atls serve gives policy init the same AK and PCRs
    ECHO=$(free_port)
    SRV=$(free_port)
    start_backend echo "$ECHO"
    start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester tpm2 --tpm-tcti "$TCTI"
    setup_cmd "$T/tpm-policy.json" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
    expect 0 "tpm2: policy from policy init: affirming" "$ATLS" verify --evidence "$T/tpm.cmw" \
        --challenge "$CH" --policy "$T/tpm-policy.json"
    expect 1 "tpm2: challenge mismatch" "$ATLS" verify --evidence "$T/tpm.cmw" \
        --challenge "$CH2" --policy "$T/tpm-policy.json"
    check "tpm2: stderr names the challenge" grep -Eiq "extraData|challenge|nonce" "$T/err"
    expect 1 "tpm2: sim policy on tpm2 Evidence: contraindicated" "$ATLS" verify \
        --evidence "$T/tpm.cmw" --challenge "$CH" --policy "$T/sim-policy.json"
    # a policy whose PCR 23 reference differs
    sed "/\"23\"/,/]/ s/\"[0-9a-f]\{64\}\"/\"$(printf 'ee%.0s' $(seq 32))\"/" \
        "$T/tpm-policy.json" > "$T/tpm-bad.json"
    check "tpm2: the mismatching policy differs" bash -c "! cmp -s '$T/tpm-policy.json' '$T/tpm-bad.json'"
    expect 1 "tpm2: mismatching PCR 23: contraindicated" "$ATLS" verify --evidence "$T/tpm.cmw" \
        --challenge "$CH" --policy "$T/tpm-bad.json"
    check "tpm2: stderr names PCR 23 and the value it saw" \
        grep -Eq "PCR sha256:23 [0-9a-f]{64} is not an allowed value" "$T/err"
    setup_cmd "$T/tpm.raw" "$ATLS" evidence --attester tpm2 --tpm-tcti "$TCTI" --challenge "$CH" --raw
    expect 0 "tpm2: bare Evidence, format detected" "$ATLS" verify --evidence "$T/tpm.raw" \
        --challenge "$CH" --policy "$T/tpm-policy.json"
fi
finish
