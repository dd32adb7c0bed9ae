# test_cli_reattest: atls serve with the tpm2 attester on a private swtpm; policy init, then a
# -L tunnel re-attesting every second. Extending PCR 23 mid-session makes the next appraisal
# fail: the tunnel and its listener close within one interval, the reason is on stderr, exit 1.
source "$(dirname "$0")/lib.sh"
command -v tpm2_pcrextend > /dev/null || skip "needs swtpm and tpm2-tools (tpm2_pcrextend not installed)"

make_pki
start_swtpm
ECHO=$(free_port)
SRV=$(free_port)
LOC=$(free_port)
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester tpm2 --tpm-tcti "$TCTI"

run_cmd "$T/policy.json" "$T/policy.err" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
check "policy init against the TPM server succeeds" [ "$RC" -eq 0 ]
check "the policy pins the AK and PCR 23" grep -q '"23"' "$T/policy.json"
check "the policy pins the AK key" grep -q '"ak_keys"' "$T/policy.json"
rc=0
timeout 30 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    > "$T/ear.txt" 2>&1 || rc=$?
check "connect --policy affirms (exit 0)" [ "$rc" -eq 0 ]
check "the summary says tpm2 and affirming" grep -q "status: affirming" "$T/ear.txt"

"$ATLS" connect -v "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC" --reattest 1 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
wait_port "$LOC"
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
echo "before" >&3
read -r -t 10 line <&3 || true
check "data flows through the attested tunnel" [ "$line" = "before" ]
# the first appraisal is at connect, more for the port probe and every second: wait (to a
# deadline, not a fixed time) for two more than there are now
n0=$(grep -c "appraisal tunnel=[0-9][0-9]* status=affirming" "$T/tunnel.log" || true)
wait_until 15 count_at_least $((n0 + 2)) "$T/tunnel.log" "appraisal tunnel=[0-9][0-9]* status=affirming" || true
n=$(grep -c "appraisal tunnel=[0-9][0-9]* status=affirming" "$T/tunnel.log" || true)
check "re-attestation happened ($n0 then $n affirming appraisals)" [ "$n" -ge $((n0 + 2)) ]

TPM2TOOLS_TCTI="$TCTI" tpm2_pcrextend \
    "23:sha256=$(printf 'ee%.0s' $(seq 32))" > /dev/null
t0=$(date +%s%N)
rc=0
timeout 10 bash -c "while kill -0 $TUN 2>/dev/null; do sleep 0.05; done" || rc=$?
wait "$TUN" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
echo "the tunnel closed $ms ms after the PCR extend"
check "connect exits with 1 after the failed re-attestation" [ "$rc" -eq 1 ]
check "it closed within one interval (+ quote time): $ms ms" [ "$ms" -lt 2500 ]
check "the reason is on stderr and names the PCR" grep -Eq "error atls connect: tunnel_closed tunnel=[0-9]+ what=\"attestation failed\" reason=\"contraindicated: .*(pcr|PCR).*23.* listener=closing" "$T/tunnel.log"
# closed means end of stream (read's exit 1, at once), not a read timeout (exit > 128)
rc=0
echo "after" >&3 2> /dev/null || true
t1=$(now_us)
read -r -t 5 line <&3 || rc=$?
check "the local connection was closed: end of stream (read exit $rc, not a timeout)" [ "$rc" -eq 1 ]
check "... at once ($((($(now_us) - t1) / 1000)) ms)" [ $(($(now_us) - t1)) -lt 4000000 ]
exec 3>&-
check "the listener is closed" bash -c "! (exec 4<>/dev/tcp/127.0.0.1/$LOC) 2>/dev/null"
run_cmd "$T/after.out" "$T/after.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
    --policy "$T/policy.json"
check "a new connect is contraindicated (exit 1)" [ "$RC" -eq 1 ]
check "with one line naming the reason" one_line "$T/after.err"
cat "$T/after.err"
check "serve is still running" kill -0 "$SERVE_PID"
finish
