#!/usr/bin/env bash
# test_cli_tsm MODE: `atls serve --attester tsm` end to end on loopback, through `atls policy init`
# and `atls connect`, for one configfs-tsm provider. This machine is no confidential VM: a
# PREPARED DIRECTORY stands in for /sys/kernel/config/tsm/report and tsm-kernel-standin (a
# STAND-IN for the kernel, tests/evidence/tsm/tsm_kernel_standin.c) answers each report request
# with Evidence from the project's generators over the 64 bytes the attester wrote to inblob:
# the Evidence is bound to the live connection that asked. Its PKIs are made at start (nothing
# is AMD's, Intel's or Arm's).
#   snp        SEV-SNP, VCEK chain in auxblob, ARK CRL stapled from --collateral-dir
#   snp-noaux  SEV-SNP without auxblob: the VCEK and ASK arrive only stapled
#   tdx        TDX, TCB Info / QE Identity / signing chain / both CRLs stapled
#   cca        Arm CCA (no collateral: the CPAK is pinned)
#   tdx-tpm    TDX with --with-tpm on a private swtpm: TD quote and TPM quote in one collection
# Each mode: a strict policy from `policy init` (live) equals the one from `policy init
# --evidence` (offline); `connect` with nothing but the root affirms; without the root it fails;
# stale stapled collateral is refused with its own error; `--attester auto` picks tsm.
source "$(dirname "$0")/lib.sh"
MODE=${1:-}
case $MODE in
snp | tdx | cca | tdx-tpm) PROV=${MODE%-tpm} ;;
snp-noaux) PROV=snp ;;
*) echo "usage: test_cli_tsm.sh snp|snp-noaux|tdx|cca|tdx-tpm"; exit 2 ;;
esac
STANDIN=$B/tsm-kernel-standin
[ -x "$STANDIN" ] || { echo "FAIL - $STANDIN is not built"; exit 1; }
TPM=()
if [ "$MODE" = tdx-tpm ]; then
    start_swtpm
    TPM=(--with-tpm --tpm-tcti "$TCTI")
fi
TPM_RP=()

make_pki
mkdir "$T/tsm" "$T/vendor"
"$STANDIN" "$PROV" "$T/tsm" "$T/vendor" $([ "$MODE" = snp-noaux ] && echo --no-auxblob) \
    2> "$T/standin.log" &
PIDS+=($!)
wait_until 60 test -f "$T/vendor/ready" || { bad "the stand-in did not start: $(cat "$T/standin.log")"; finish; exit 1; }
COLL=()
[ "$PROV" = cca ] || COLL=(--collateral-dir "$T/vendor/collateral")
# TDX: the TD's CC event log (the stand-in's quotes carry its replay in RTMR0..3)
CCEL=()
[ "$PROV" = tdx ] && CCEL=(--tsm-ccel-log "$T/vendor/ccel-log.bin" \
    --tsm-ccel-table "$T/vendor/ccel-table.bin")
ANCHOR=(--trust-anchor "$T/vendor/anchor.pem")
# the swtpm AK has no certificate: the TEE root is not its CA, the policy pins it
[ "$MODE" = tdx-tpm ] && ANCHOR+=(--tpm-ak-ca none)
ECHO=$(free_port)
SRV=$(free_port)
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester tsm --tsm-path "$T/tsm" \
    "${COLL[@]}" "${TPM[@]}" "${CCEL[@]}"
check "serve names the provider the stand-in registers" \
    wait_until 10 log_has "$T/serve.log" "configfs-tsm provider ${PROV/snp/sev}_guest|provider arm_cca_guest"

# ---- enrolment: live and offline give the same strict policy ----
run_cmd "$T/policy.json" "$T/policy.err" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem" \
    "${ANCHOR[@]}"
check "policy init against the live server: exit 0" [ "$RC" -eq 0 ]
SECTIONS='["'$PROV'", "version"]'
[ "$MODE" = tdx-tpm ] && SECTIONS='["tdx", "tpm2", "version"]'
check "the policy has exactly the sections $SECTIONS" \
    jq -e --argjson k "$SECTIONS" 'keys == $k' "$T/policy.json"
CH=$(openssl rand -hex 64)
setup_cmd "$T/ev.out" "$ATLS" evidence --attester tsm --tsm-path "$T/tsm" "${COLL[@]}" "${TPM[@]}" \
    "${CCEL[@]}" --challenge "$CH" -o "$T/ev.cmw"
check "the stand-in's entries are all removed" bash -c "[ -z \"\$(ls -A '$T/tsm')\" ]"
run_cmd "$T/policy-file.json" "$T/policy-file.err" "$ATLS" policy init --evidence "$T/ev.cmw" \
    "${ANCHOR[@]}"
check "policy init --evidence: exit 0" [ "$RC" -eq 0 ]
# (with a TPM too: the same PCRs, the same endorsement-primary AK)
check "policy init --evidence gives the live server's policy" \
    cmp "$T/policy.json" "$T/policy-file.json"

# ---- connect: nothing but the root and the policy ----
run_cmd "$T/ear.json" "$T/connect.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
    --policy "$T/policy.json" "${ANCHOR[@]}" --json
check "connect with only the root and the policy: affirming, exit 0" [ "$RC" -eq 0 ]
check "the EAR: the tsm submod affirming, its Evidence type $PROV" \
    jq -e --arg t "$PROV" '.submods.tsm.ear_status == "affirming" and
        .submods.tsm.ear_attester_claims.evidence_type == $t' "$T/ear.json"
if [ "$PROV" != cca ]; then
    check "the EAR: hardware affirmed (revocation checked with the stapled CRLs)" \
        jq -e '.submods.tsm.ear_trustworthiness_vector.hardware == 2 and
            .submods.tsm.ear_attester_claims.revocation_checked == true' "$T/ear.json"
fi
if [ "$PROV" = tdx ]; then
    check "the EAR: the CC event log replayed to RTMR0..3 of the TD quote" \
        jq -e '.submods.tsm.ear_attester_claims.eventlogs.ccel.covered == [0,1,2,3] and
            (.submods.tsm.ear_attester_claims.eventlogs.ccel.events | length) == 5' "$T/ear.json"
    check "the policy has the CCEL's events (tdx.eventlog: its kernel command line)" \
        jq -e '.tdx.eventlog.kernel_cmdlines == ["console=hvc0 root=/dev/vda1"]' "$T/policy.json"
    check "the offline Evidence carries the CC event log" jq -e '.ccel' <(
        "$ATLS" verify --evidence "$T/ev.cmw" --challenge "$CH" "${ANCHOR[@]}" --json 2>/dev/null |
            jq '.submods.tsm.ear_attester_claims.eventlogs')
    # the log without its last event: RTMR2 no longer replays
    python3 -c 'import sys; d=open(sys.argv[1],"rb").read().rstrip(b"\xff"); open(sys.argv[2],"wb").write(d[:-110])' \
        "$T/vendor/ccel-log.bin" "$T/short-ccel.bin"
    SRV5=$(free_port)
    start_serve "$T/serve5.log" "$SRV5" --backend "127.0.0.1:$ECHO" --attester tsm \
        --tsm-path "$T/tsm" "${COLL[@]}" "${TPM[@]}" --tsm-ccel-log "$T/short-ccel.bin" \
        --tsm-ccel-table none
    run_cmd "$T/short.out" "$T/short.err" "$ATLS" connect "localhost:$SRV5" --ca "$T/ca.pem" \
        --policy "$T/policy.json" "${ANCHOR[@]}"
    check "a CC event log that does not replay to the quote's RTMRs: refused (exit 1)" [ "$RC" -eq 1 ]
    check "  with the replay error naming RTMR2" grep -q "ccel log replays sha384 RTMR2" "$T/short.err"
    # (each serve holds an AK on the swtpm, which has few object slots: one at a time)
    kill "$SERVE_PID"; wait "$SERVE_PID" 2> /dev/null || :
    SRV6=$(free_port)
    start_serve "$T/serve6.log" "$SRV6" --backend "127.0.0.1:$ECHO" --attester tsm \
        --tsm-path "$T/tsm" "${COLL[@]}" "${TPM[@]}" --tsm-ccel-log none
    run_cmd "$T/nolog.out" "$T/nolog.err" "$ATLS" connect "localhost:$SRV6" --ca "$T/ca.pem" \
        --policy "$T/policy.json" "${ANCHOR[@]}"
    check "no CC event log and a policy with tdx.eventlog: refused (exit 1)" [ "$RC" -eq 1 ]
    check "  saying no event log came" grep -q "no firmware event log came with the Evidence" "$T/nolog.err"
    kill "$SERVE_PID"; wait "$SERVE_PID" 2> /dev/null || :
fi
if [ "$MODE" = tdx ]; then
    # re-attestation on one connection (--batch off: per-connection answers): the CC event log
    # goes out with the first answer only, the client replays it again from its state
    SRV7=$(free_port)
    LOC=$(free_port)
    start_serve "$T/serve7.log" "$SRV7" --backend "127.0.0.1:$ECHO" --attester tsm \
        --tsm-path "$T/tsm" "${COLL[@]}" "${CCEL[@]}" --batch off
    "$ATLS" connect -v "localhost:$SRV7" --ca "$T/ca.pem" --policy "$T/policy.json" \
        "${ANCHOR[@]}" -L "127.0.0.1:$LOC" --reattest 1 2> "$T/tunnel7.log" &
    TUN=$!
    PIDS+=($TUN)
    wait_port "$LOC"
    exec 3<> "/dev/tcp/127.0.0.1/$LOC"
    echo "hello" >&3
    read -r -t 10 line <&3 || true
    check "data flows through the attested tunnel" [ "$line" = "hello" ]
    # (connect's start-up check and wait_port's probe are connections of their own: the
    # tunnel's is the last one)
    tunnel_appraisals() {
        local id
        id=$(grep -o 'appraisal tunnel=[0-9]* status=affirming' "$T/tunnel7.log" | tail -1 | grep -o '[0-9]*')
        [ -n "$id" ] && count_at_least 3 "$T/tunnel7.log" "appraisal tunnel=$id status=affirming"
    }
    wait_until 20 tunnel_appraisals || true
    check "three appraisals on the tunnel's connection, each affirming" tunnel_appraisals
    conn=$(grep -o 'evidence id=[0-9]*' "$T/serve7.log" | tail -1 | cut -d= -f2)
    mapfile -t sizes < <(grep -o "evidence id=$conn .*bytes=[0-9]*" "$T/serve7.log" | grep -o 'bytes=[0-9]*' | cut -d= -f2)
    sizes_shrink() {
        [ "${#sizes[@]}" -ge 3 ] && [ "${sizes[0]}" -gt $((sizes[1] + 400)) ] &&
            [ "${sizes[1]}" -eq "${sizes[2]}" ]
    }
    check "the first answer carries the CC event log, later ones do not (${sizes[*]:0:3} bytes)" \
        sizes_shrink
    check "the tunnel is still up" kill -0 "$TUN"
    exec 3>&-
    kill "$TUN" "$SERVE_PID"; wait "$TUN" "$SERVE_PID" 2> /dev/null || :
fi
if [ "$MODE" = tdx-tpm ]; then
    check "the EAR: the TPM quote is a second submod, affirming" \
        jq -e '.submods.tpm2.ear_status == "affirming" and (.submods | length) == 2' "$T/ear.json"
    jq 'del(.tpm2)' "$T/policy.json" > "$T/no-tpm.json"
    run_cmd "$T/no-tpm.out" "$T/no-tpm.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
        --policy "$T/no-tpm.json" "${ANCHOR[@]}"
    check "a policy without a tpm2 section refuses the collection (exit 1)" [ "$RC" -eq 1 ]
    check "  and says why" grep -q 'no "tpm2" section' "$T/no-tpm.err"
fi
run_cmd "$T/noroot.out" "$T/noroot.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
    --policy "$T/policy.json"
check "connect without the root: not affirmed (exit 1)" [ "$RC" -eq 1 ]
run_cmd "$T/offline.out" "$T/offline.err" "$ATLS" verify --evidence "$T/ev.cmw" --challenge "$CH" \
    --policy "$T/policy.json" "${ANCHOR[@]}"
check "the offline Evidence verifies with only the root and the policy (exit 0)" [ "$RC" -eq 0 ]
if [ "$PROV" != cca ] || jq -e '.cca.require_challenge' "$T/policy.json" > /dev/null; then
    run_cmd "$T/offline2.out" "$T/offline2.err" "$ATLS" verify --evidence "$T/ev.cmw" \
        --no-challenge --policy "$T/policy.json" "${ANCHOR[@]}"
    check "  without its challenge the enrolled policy refuses it (exit 1)" [ "$RC" -eq 1 ]
fi

# ---- stale stapled collateral: its own error, on the client ----
if [ "$PROV" != cca ]; then
    SRV2=$(free_port)
    start_serve "$T/serve2.log" "$SRV2" --backend "127.0.0.1:$ECHO" --attester tsm \
        --tsm-path "$T/tsm" --collateral-dir "$T/vendor/stale" "${TPM[@]}"
    check "serve warns at start that an item of its collateral is stale" \
        grep -q "is stale: clients will refuse it" "$T/serve2.log"
    run_cmd "$T/stale.out" "$T/stale.err" "$ATLS" connect "localhost:$SRV2" --ca "$T/ca.pem" \
        --policy "$T/policy.json" "${ANCHOR[@]}" --json
    check "stale stapled collateral: refused (exit 1)" [ "$RC" -eq 1 ]
    check "  with the stale-collateral error naming the item" \
        grep -Eq 'stapled "(snp-crl|tdx-tcb-info)" \((CRL|tcbInfo)\) is stale' "$T/stale.err"
fi
if [ "$MODE" = snp-noaux ]; then
    SRV3=$(free_port)
    start_serve "$T/serve3.log" "$SRV3" --backend "127.0.0.1:$ECHO" --attester tsm \
        --tsm-path "$T/tsm"
    run_cmd "$T/novcek.out" "$T/novcek.err" "$ATLS" connect "localhost:$SRV3" --ca "$T/ca.pem" \
        --policy "$T/policy.json" "${ANCHOR[@]}"
    check "no auxblob and nothing stapled: no VCEK, not affirmed (exit 1)" [ "$RC" -eq 1 ]
    check "  and says the VCEK is missing" grep -q "no VCEK/VLEK certificate" "$T/novcek.err"
fi

# ---- --attester auto: configfs-tsm (here its stand-in) is what the machine has ----
if [ "$MODE" != tdx-tpm ]; then
    SRV4=$(free_port)
    start_serve "$T/serve4.log" "$SRV4" --backend "127.0.0.1:$ECHO" --attester auto \
        --tsm-path "$T/tsm" "${COLL[@]}" "${CCEL[@]}"
    check "serve --attester auto says it took tsm" log_has "$T/serve4.log" "--attester auto: using tsm"
    run_cmd "$T/auto.out" "$T/auto.err" "$ATLS" connect "localhost:$SRV4" --ca "$T/ca.pem" \
        --policy "$T/policy.json" "${ANCHOR[@]}"
    check "connect to serve --attester auto: affirming (exit 0)" [ "$RC" -eq 0 ]
fi
if [ "$MODE" = tdx-tpm ]; then
    run_cmd "$T/akca.out" "$T/akca.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
        --policy "$T/policy.json" --trust-anchor "$T/vendor/anchor.pem"
    check "without --tpm-ak-ca the TEE root is taken as AK CA: refused (exit 1)" [ "$RC" -eq 1 ]
    check "  and the error points at --tpm-ak-ca" grep -q -- "--tpm-ak-ca" "$T/akca.err"
fi
check "the stand-in reported no error" bash -c "! grep -q . '$T/standin.log'"
finish
