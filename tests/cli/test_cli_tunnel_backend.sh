# test_cli_tunnel_backend: `atls connect -L` behaves like ssh -L. The backend behind atls serve
# stopped under a running tunnel closes only the local connections made meanwhile, each
# reported as "backend unreachable" (never "attestation failed"), the listener stays open and
# works again once the backend is back. At start-up connect -L attests once before it listens
# and fails fast: a server that is not there (exit 2), whose backend is down (exit 2), or whose
# Evidence the policy refuses (exit 1) never gets a listener.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
make_sim other
ECHO=$(free_port)
SRV=$(free_port)
LOC=$(free_port)
start_backend echo "$ECHO"
BACKEND_PID=${PIDS[-1]}
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json"
setup_cmd "$T/policy.json" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"

"$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC" --reattest 0.5 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
wait_port "$LOC"
check "connect -L attested the server before listening" \
    log_has "$T/tunnel.log" "info atls connect: listening addr=127.0.0.1:$LOC server=localhost:$SRV reattest_s=0.5 startup_check=affirming"

# echo_once LINE: one local connection, one line echoed back
echo_once() {
    local line=
    exec 5<> "/dev/tcp/127.0.0.1/$LOC" || return 1
    echo "$1" >&5
    read -r -t 10 line <&5 || true
    exec 5>&-
    [ "$line" = "$1" ]
}
check "the tunnel echoes with the backend up" echo_once "before"
# a long-lived tunnel across the outage: it was attested and keeps its backend connection
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
echo "live" >&3
read -r -t 10 line <&3 || true
check "a live tunnel is open" [ "$line" = "live" ]

kill "$BACKEND_PID"
wait "$BACKEND_PID" 2> /dev/null || true
wait_until 5 eval '! port_busy "$ECHO"' || true
rc=0
exec 4<> "/dev/tcp/127.0.0.1/$LOC"
read -r -t 10 line <&4 || rc=$?
exec 4>&-
check "backend down: a new local connection is closed (end of stream, read exit $rc)" [ "$rc" -eq 1 ]
check "... reported as backend unreachable, listener open" \
    wait_until 5 log_has "$T/tunnel.log" "warn atls connect: tunnel_closed tunnel=[0-9]+ what=\"backend unreachable\" reason=\"peer reported error 700: backend unreachable\" listener=open"
check "... never as an attestation failure" bash -c "! grep -q 'attestation failed' '$T/tunnel.log'"
check "connect -L is still running" kill -0 "$TUN"
check "its listener still accepts" port_busy "$LOC"
check "serve logged the backend outage" \
    log_has "$T/serve.log" "warn atls serve: backend_unreachable id=[0-9]+ peer=127.0.0.1:[0-9]+ reason=\"cannot connect to 127.0.0.1:$ECHO"
# the tunnel opened before lost its backend connection with the backend process: that tunnel
# ends (end of stream), the others do not care
rc=0
read -r -t 10 line <&3 || rc=$?
check "the tunnel whose backend connection died ends with end of stream (read exit $rc)" [ "$rc" -eq 1 ]
exec 3>&-

start_backend echo "$ECHO"
check "backend back: the same listener tunnels again" wait_until 10 echo_once "after"

# start-up check: fail fast, never listen
LOC2=$(free_port)
DEAD=$(free_port)
t0=$(now_us)
run_cmd "$T/s1.out" "$T/s1.err" "$ATLS" connect "localhost:$DEAD" --ca "$T/ca.pem" \
    --policy "$T/policy.json" -L "127.0.0.1:$LOC2"
check "no server: connect -L exits 2 at once ($RC, $((($(now_us) - t0) / 1000)) ms)" [ "$RC" -eq 2 ]
check "... never listening" bash -c "! (exec 6<>/dev/tcp/127.0.0.1/$LOC2) 2> /dev/null"
SRV2=$(free_port)
NOBACK=$(free_port)
start_backend echo "$NOBACK"
start_serve "$T/serve2.log" "$SRV2" --backend "127.0.0.1:$NOBACK" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json"
kill "${PIDS[-2]}"
wait_until 5 eval '! port_busy "$NOBACK"' || true
run_cmd "$T/s2.out" "$T/s2.err" "$ATLS" connect "localhost:$SRV2" --ca "$T/ca.pem" \
    --policy "$T/policy.json" -L "127.0.0.1:$LOC2"
check "server's backend down at start-up: exit 2 ($RC)" [ "$RC" -eq 2 ]
check "... saying so" grep -q "start-up check of localhost:$SRV2: backend unreachable" "$T/s2.err"
SRV3=$(free_port)
start_serve "$T/serve3.log" "$SRV3" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/other.key" --sim-measurements "$T/meas.json"
run_cmd "$T/s3.out" "$T/s3.err" "$ATLS" connect "localhost:$SRV3" --ca "$T/ca.pem" \
    --policy "$T/policy.json" -L "127.0.0.1:$LOC2"
check "a server the policy refuses: exit 1 at start-up ($RC)" [ "$RC" -eq 1 ]
check "... as an attestation failure" grep -q "start-up check of localhost:$SRV3: attestation failed: contraindicated" "$T/s3.err"
check "... in one line" one_line "$T/s3.err"
check "... never listening" bash -c "! (exec 6<>/dev/tcp/127.0.0.1/$LOC2) 2> /dev/null"
finish
