# test_cli_connect_errors: `atls connect` says what went wrong the way an operator needs it:
# a handshake that times out says timeout, https://HOST:PORT is understood and other URLs are
# refused with how to write them, a server without TLS 1.3 is named as such (openssl s_server
# -tls1_2), a server that is not TLS (an SSH-like banner) is named as such, and a server that requires mutual
# attestation and refuses this client is a failure (exit 1), never "affirming".
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
make_sim other
SINK=$(free_port)
ECHO=$(free_port)
SRV=$(free_port)
SRV_M=$(free_port)
TLS12=$(free_port)
start_backend sink "$SINK" "$T/sink.out"
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json"

# a TCP server that never answers: the handshake times out (--timeout 1)
t0=$(now_us)
run_cmd "$T/to.out" "$T/to.err" "$ATLS" connect "127.0.0.1:$SINK" --ca "$T/ca.pem" --no-policy \
    --timeout 1
ms=$((($(now_us) - t0) / 1000))
check "handshake timeout: exit 1 ($RC)" [ "$RC" -eq 1 ]
check "... the line says it timed out" grep -q "TLS handshake with 127.0.0.1:$SINK timed out" "$T/to.err"
check "... in one line" one_line "$T/to.err"
check "... after about the timeout ($ms ms)" [ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ]

# URLs
run_cmd "$T/u1.out" "$T/u1.err" "$ATLS" connect "https://localhost:$SRV" --ca "$T/ca.pem" --no-policy
check "https://localhost:PORT is understood (exit 3, verified without policy: $RC)" [ "$RC" -eq 3 ]
run_cmd "$T/u2.out" "$T/u2.err" "$ATLS" connect "https://localhost:$SRV/" --ca "$T/ca.pem" --no-policy
check "https://localhost:PORT/ too ($RC)" [ "$RC" -eq 3 ]
run_cmd "$T/u3.out" "$T/u3.err" "$ATLS" connect "http://localhost:$SRV" --ca "$T/ca.pem" --no-policy
check "http:// is refused (exit 2: $RC)" [ "$RC" -eq 2 ]
check "... saying how to write it" grep -q "write it as HOST:PORT (e.g. example.com:443)" "$T/u3.err"
run_cmd "$T/u4.out" "$T/u4.err" "$ATLS" connect "https://localhost:$SRV/api" --ca "$T/ca.pem" --no-policy
check "a URL with a path is refused (exit 2: $RC)" [ "$RC" -eq 2 ]
check "... saying how to write it" grep -q "write HOST:PORT (e.g. localhost:$SRV)" "$T/u4.err"
run_cmd "$T/u5.out" "$T/u5.err" "$ATLS" policy init "https://localhost:$SRV" --ca "$T/ca.pem"
check "policy init understands https:// too ($RC)" [ "$RC" -eq 0 ]
run_cmd "$T/u6.out" "$T/u6.err" "$ATLS" connect "https://127.0.0.1" --ca "$T/ca.pem" --no-policy --timeout 2
check "https://HOST means port 443" grep -q "127.0.0.1:443" "$T/u6.err"

# a TLS 1.2-only server
openssl s_server -accept "127.0.0.1:$TLS12" -cert "$T/server.pem" -key "$T/server.key" -tls1_2 \
    -quiet -naccept 4 > /dev/null 2> "$T/s_server.log" &
PIDS+=($!)
wait_port "$TLS12"
run_cmd "$T/t12.out" "$T/t12.err" "$ATLS" connect "localhost:$TLS12" --ca "$T/ca.pem" --no-policy
check "TLS 1.2-only server: exit 1 ($RC)" [ "$RC" -eq 1 ]
check "... named as a server without TLS 1.3" grep -q "the server does not offer TLS 1.3" "$T/t12.err"
check "... in one line" one_line "$T/t12.err"

# not TLS at all: a server that greets with a banner, as SSH does (a python3 stand-in)
BANNER=$(free_port)
python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
while True:
    c, _ = s.accept(); c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n"); c.close()' "$BANNER" &
PIDS+=($!)
wait_port "$BANNER"
run_cmd "$T/ssh.out" "$T/ssh.err" "$ATLS" connect "127.0.0.1:$BANNER" --ca "$T/ca.pem" --no-policy --timeout 3
check "an SSH-like server: exit 1 ($RC)" [ "$RC" -eq 1 ]
check "... named as not TLS" grep -q "the server did not answer with TLS" "$T/ssh.err"

# mutual attestation refused by the server: never affirming
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/client.key" \
    -out "$T/client.pem" -days 2 -subj "/CN=client" -addext "extendedKeyUsage=clientAuth" 2> /dev/null
setup_cmd "$T/policy.json" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
run_cmd "$T/sim.cmw" "$T/sim.err" "$ATLS" evidence --attester sim --sim-key "$T/sim.key" \
    --challenge "$(printf '00%.0s' $(seq 64))" -o "$T/sim.cmw"
run_cmd "$T/sim.json" "$T/simv.err" "$ATLS" verify --evidence "$T/sim.cmw" --json
kid=$(grep -o '"key_id": "[0-9a-f]*"' "$T/sim.json" | head -1 | cut -d'"' -f4)
printf '{"version": 1, "sim": {"keys": ["%s"], "any_measurements": true}}\n' "$kid" > "$T/client-policy.json"
start_serve "$T/serve_m.log" "$SRV_M" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json" \
    --client-policy "$T/client-policy.json" --client-ca "$T/client.pem"
run_cmd "$T/m1.out" "$T/m1.err" "$ATLS" connect "localhost:$SRV_M" --ca "$T/ca.pem" \
    --policy "$T/policy.json" --cert "$T/client.pem" --key "$T/client.key" --attester sim \
    --sim-key "$T/sim.key"
check "mutual attestation with an accepted client key affirms (exit 0: $RC)" [ "$RC" -eq 0 ]
run_cmd "$T/m2.out" "$T/m2.err" "$ATLS" connect "localhost:$SRV_M" --ca "$T/ca.pem" \
    --policy "$T/policy.json" --cert "$T/client.pem" --key "$T/client.key" --attester sim \
    --sim-key "$T/other.key"
check "the server refuses a client key its policy does not know: exit 1 ($RC)" [ "$RC" -eq 1 ]
check "... reported as the server refusing this client" \
    grep -q "attestation failed: the server refused this client's attestation" "$T/m2.err"
check "... never as affirming" bash -c "! grep -qi affirming '$T/m2.out' '$T/m2.err'"
check "... and the server logged the contraindicated appraisal" \
    wait_until 5 log_has "$T/serve_m.log" "warn atls serve: appraisal id=[0-9]+ peer=127.0.0.1:[0-9]+ status=contraindicated"
run_cmd "$T/m3.out" "$T/m3.err" "$ATLS" connect "localhost:$SRV_M" --ca "$T/ca.pem" \
    --policy "$T/policy.json" --cert "$T/client.pem" --key "$T/client.key"
check "a client that cannot attest at all: exit 1 ($RC)" [ "$RC" -eq 1 ]
check "... never affirming" bash -c "! grep -qi affirming '$T/m3.out' '$T/m3.err'"
finish
