# test_cli_garbage: a client that negotiates atls/1 and then sends garbage frames gets an
# ERROR frame and is closed, while another attested connection carries on.
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
"$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC" 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
wait_port "$LOC"
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
echo "first" >&3
read -r -t 10 line <&3 || true
check "the good connection works before" [ "$line" = "first" ]

# garbage NAME BYTES CODE REASON: BYTES (printf format) after an atls/1 handshake; everything
# the server sends back must be exactly one ERROR frame (PROTOCOL.md 3: type 0x03, uint24
# length of the rest, uint16 code, the UTF-8 reason) with that code and reason, and then the
# server must close the connection (s_client -ign_eof ends only then).
garbage() {
    local name=$1 bytes=$2 code=$3 reason=$4 rc=0 hex n len got_code
    printf "$bytes" > "$T/g.in"
    timeout 15 openssl s_client -connect "127.0.0.1:$SRV" -CAfile "$T/ca.pem" -alpn atls/1 \
        -quiet -ign_eof < "$T/g.in" > "$T/g.out" 2> "$T/g.err" || rc=$?
    hex=$(od -An -v -tx1 "$T/g.out" | tr -d ' \n')
    n=$(stat -c %s "$T/g.out")
    len=-1 got_code=-1
    if [ "$n" -ge 6 ]; then len=$((16#${hex:2:6})) got_code=$((16#${hex:8:4})); fi
    echo "$name: $n bytes back: ${hex:0:40}..."
    check "$name: the server closed the connection after its reply" [ "$rc" -ne 124 ]
    check "$name: the reply is an ERROR frame (type 0x03)" [ "${hex:0:2}" = "03" ]
    check "$name: exactly one frame: its length $len is the rest of the reply ($n - 4)" \
        [ "$len" -eq $((n - 4)) ]
    check "$name: code $code ($got_code)" [ "$got_code" -eq "$code" ]
    check "$name: reason '$reason'" [ "$(tail -c +7 "$T/g.out")" = "$reason" ]
}
# frame type 0x07 does not exist (atls/1 allows 0x00..0x03): ATLS_ERR_PROTOCOL_FRAME = 406
garbage "unknown frame type" '\x07\x00\x00\x01X' 406 "atls/1: unknown frame type 0x07"
garbage "oversized frame" '\x00\xff\xff\xff' 406 \
    "atls/1: frame of 16777215 bytes exceeds the 262144-byte limit"
# ATLS_ERR_DECODE_TRUNCATED = 201: neither payload is a complete handshake message
garbage "unsolicited AUTHENTICATOR" '\x02\x00\x00\x04junk' 201 \
    "EA message: handshake message truncated"
garbage "malformed REQUEST" '\x01\x00\x00\x03abc' 201 "EA request: handshake message truncated"
check "serve logged why it closed the bad client" \
    wait_until 10 log_has "$T/serve.log" "warn atls serve: closed id=[0-9]+ reason=\"atls/1: unknown frame type 0x07\""

echo "second" >&3
read -r -t 10 line <&3 || true
check "the good connection carries on" [ "$line" = "second" ]
exec 3>&-
check "serve is still running" kill -0 "$SERVE_PID"
check "the tunnel is still running" kill -0 "$TUN"
run_cmd "$T/last.out" "$T/last.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json"
check "new attested connections still affirm" [ "$RC" -eq 0 ]
finish
