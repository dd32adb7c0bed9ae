# test_cli_slow_reader: a local client that stops reading is not mistaken for a server that stops
# attesting. Data backs up from the tunnel to the server and the backend, and the answer to the
# outstanding request waits behind data the client has not read: that time does not count
# against the server (docs/cli.md). When the client reads again, everything arrives intact and
# re-attestation goes on every interval.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
ECHO=$(free_port)
SRV=$(free_port)
LOC=$(free_port)
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json"
setup_cmd "$T/policy.json" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
"$ATLS" connect -v "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC" --reattest 0.5 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
wait_port "$LOC"

# 16 MB goes out in the background; nothing is read back for 4 s
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
head -c 16000000 /dev/zero >&3 &
WRITER=$!
PIDS+=($WRITER)
sleep 5
check "the tunnel is still running after 10 intervals without the client reading" kill -0 "$TUN"
got=$(timeout 60 head -c 16000000 <&3 | wc -c)
check "all 16 MB came back once the client read again" [ "$got" -eq 16000000 ]
before=$(grep -c "appraisal tunnel=[0-9][0-9]* status=affirming" "$T/tunnel.log" || true)
echo "ping" >&3
read -r -t 10 line <&3 || true
check "the tunnel still carries data" [ "$line" = "ping" ]
# three more appraisals at a 0.5 s interval: 1.5 s; polled to a 5 s deadline
t0=$(now_us)
wait_until 5 count_at_least $((before + 3)) "$T/tunnel.log" "appraisal tunnel=[0-9][0-9]* status=affirming" || true
after=$(grep -c "appraisal tunnel=[0-9][0-9]* status=affirming" "$T/tunnel.log" || true)
echo "appraisals after the client caught up: $((after - before)) in $((($(now_us) - t0) / 1000)) ms"
check "re-attestation goes on every interval once the client reads" [ $((after - before)) -ge 3 ]
exec 3>&-
check "no attestation failure was reported" bash -c "! grep -q 'attestation failed\|no fresh Evidence' '$T/tunnel.log'"
finish
