# test_cli_tpm_recovery: atls serve with the tpm2 attester on a private swtpm as an operator
# runs it: SIGHUP four times (reloads; no TPM object leaks: swtpm has 3 object slots), the TPM
# restarted under the running serve (connections get an ERROR frame naming the TPM meanwhile,
# serve stays up and recovers by itself), SIGTERM (exit 0, no transient object left in the
# TPM), SIGINT to a one-shot connect holding an AK (flushed first), and the TCTI found without
# --tpm-tcti the way tpm2-tools finds it ($TPM2TOOLS_TCTI).
source "$(dirname "$0")/lib.sh"
command -v tpm2_getcap > /dev/null || skip "needs swtpm and tpm2-tools (tpm2_getcap not installed)"

make_pki
start_swtpm
ECHO=$(free_port)
SRV=$(free_port)
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester tpm2 --tpm-tcti "$TCTI"

attests() {
    run_cmd "$T/c.out" "$T/c.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy
    [ "$RC" -eq 3 ] # verified TPM Evidence, no policy: warning
}
transient_handles() { TPM2TOOLS_TCTI="$TCTI" tpm2_getcap handles-transient 2> "$T/getcap.err"; }

check "serve attests with the TPM (no policy: warning, exit 3)" attests

for i in 1 2 3 4; do
    kill -HUP "$SERVE_PID"
    wait_until 10 count_at_least "$i" "$T/serve.log" "info atls serve: reloaded config=" || true
done
check "four SIGHUPs: four reloads logged" count_at_least 4 "$T/serve.log" "info atls serve: reloaded config="
check "serve survives SIGHUP" kill -0 "$SERVE_PID"
check "and still attests after four SIGHUPs" attests

stop_swtpm
rc=0
attests || rc=$?
check "while the TPM is down: connect fails (exit $RC)" [ "$RC" -eq 1 ]
check "... with the server's ERROR frame naming the TPM" grep -q "TPM" "$T/c.err"
check "... in one line" one_line "$T/c.err"
check "serve is still running without its TPM" kill -0 "$SERVE_PID"
check "serve logged the failed Evidence" \
    log_has "$T/serve.log" "warn atls serve: evidence_failed id=[0-9]+ attester=tpm2 reason=\"TPM"
t0=$(now_us)
restart_swtpm
check "once swtpm is back, serve attests again (recovered within 20 s)" wait_until 20 attests
echo "recovered $((($(now_us) - t0) / 1000)) ms after swtpm came back"
check "serve logged the recovery" log_has "$T/serve.log" "info atls serve: attester_recovered attester=tpm2"
check "a second connection after recovery attests too" attests

rc=0
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || rc=$?
check "SIGTERM stops serve with exit 0 ($rc)" [ "$rc" -eq 0 ]
handles=$(transient_handles) || true
check "no transient object is left in the TPM after SIGTERM ('$handles')" [ -z "$handles" ]

# a one-shot connect holding a TPM AK (mutual attestation) while it waits for a server that
# never answers: SIGINT ends it as SIGINT does (exit 130), after the AK was flushed. Control:
# SIGKILL cannot be caught and does leave the AK behind, so the check below can see a leak.
SINK=$(free_port)
start_backend sink "$SINK" "$T/sink.out"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/client.key" \
    -out "$T/client.pem" -days 2 -subj "/CN=client" 2> /dev/null
hold_ak() {
    "$ATLS" connect "127.0.0.1:$SINK" --ca "$T/ca.pem" --no-policy --cert "$T/client.pem" \
        --key "$T/client.key" --attester tpm2 --tpm-tcti "$TCTI" --timeout 30 2> "$T/hold.err" &
    HOLD=$!
    # the AK exists once connect waits in the TLS handshake: its connection reached the sink
    wait_until 10 eval '[ -n "$(ss -Htn state established "( dport = :$SINK )" 2> /dev/null)" ]' || true
}
hold_ak
kill -INT "$HOLD"
rc=0
wait "$HOLD" || rc=$?
check "SIGINT ends a connect that holds a TPM AK as SIGINT does (exit $rc)" [ "$rc" -eq 130 ]
handles=$(transient_handles) || true
check "... after flushing its AK ('$handles')" [ -z "$handles" ]
hold_ak
kill -KILL "$HOLD"
wait "$HOLD" 2> /dev/null || true
handles=$(transient_handles) || true
check "control: SIGKILL leaves the AK behind, and the check sees it ('$handles')" [ -n "$handles" ]
for h in $handles; do
    [ "$h" = "-" ] || TPM2TOOLS_TCTI="$TCTI" tpm2_flushcontext "$h" > /dev/null 2>&1 || true
done

# no --tpm-tcti: the TCTI comes from $TPM2TOOLS_TCTI, as for tpm2-tools
run_cmd "$T/ev.cmw" "$T/ev.err" env -u ATLS_TPM2_TCTI TPM2TOOLS_TCTI="$TCTI" "$ATLS" evidence \
    --attester tpm2 --challenge "$(printf '00%.0s' $(seq 64))" -o "$T/ev.cmw"
check "atls evidence finds the TPM through \$TPM2TOOLS_TCTI (exit $RC)" [ "$RC" -eq 0 ]
handles=$(transient_handles) || true
check "... and leaves no transient object behind ('$handles')" [ -z "$handles" ]
finish
