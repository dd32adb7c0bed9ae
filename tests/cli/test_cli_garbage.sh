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
timeout 20 "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem" > "$T/policy.json"
"$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC" 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
wait_port "$LOC"
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
echo "first" >&3
read -r -t 10 line <&3 || true
check "the good connection works before" [ "$line" = "first" ]

# garbage: frame type 0x07 does not exist (atls/1 allows 0x00..0x03)
garbage() {
    printf "$1" | timeout 15 openssl s_client -connect "127.0.0.1:$SRV" -CAfile "$T/ca.pem" \
        -alpn atls/1 -quiet -ign_eof 2> /dev/null | od -An -v -tx1 | tr -d ' \n'
}
hex=$(garbage '\x07\x00\x00\x01X') || true
echo "reply to an unknown frame type: ${hex:0:24}..."
check "unknown frame type: the reply is an ERROR frame (type 0x03)" [ "${hex:0:2}" = "03" ]
check "... with code 406 (ATLS_ERR_PROTOCOL_FRAME)" [ "${hex:8:4}" = "0196" ]
reason=$(printf '%s' "${hex:12}" | sed 's/\(..\)/\\x\1/g')
check "... whose reason names the frame type" grep -q "unknown frame type 0x07" <<< "$(printf "$reason")"

hex=$(garbage '\x00\xff\xff\xff') || true
check "oversized frame: ERROR frame" [ "${hex:0:2}" = "03" ]
hex=$(garbage '\x02\x00\x00\x04junk') || true
check "unsolicited AUTHENTICATOR: ERROR frame" [ "${hex:0:2}" = "03" ]
hex=$(garbage '\x01\x00\x00\x03abc') || true
check "malformed REQUEST: ERROR frame" [ "${hex:0:2}" = "03" ]
for _ in $(seq 50); do
    grep -q "closed: atls/1: unknown frame type" "$T/serve.log" && break
    sleep 0.1
done
check "serve logged why it closed the bad client" grep -q "closed: atls/1: unknown frame type" "$T/serve.log"

echo "second" >&3
read -r -t 10 line <&3 || true
check "the good connection carries on" [ "$line" = "second" ]
exec 3>&-
check "serve is still running" kill -0 "$SERVE_PID"
check "the tunnel is still running" kill -0 "$TUN"
rc=0
timeout 20 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" > /dev/null || rc=$?
check "new attested connections still affirm" [ "$rc" -eq 0 ]
finish
