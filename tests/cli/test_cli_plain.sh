# test_cli_plain: ordinary TLS clients (curl, openssl s_client) go through `atls serve` to an
# HTTP backend unchanged; --require-attestation refuses them.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
HTTP=$(free_port)
SRV=$(free_port)
SRV2=$(free_port)
start_backend http "$HTTP"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$HTTP" --attester sim --sim-key "$T/sim.key"

out=$(timeout 20 curl -sS --cacert "$T/ca.pem" "https://localhost:$SRV/" 2>&1) || true
check "curl --cacert through atls serve gets the backend's answer" \
    grep -q "hello from the atls echo backend" <<< "$out"
out=$(timeout 20 curl -sS --cacert "$T/ca.pem" "https://127.0.0.1:$SRV/" 2>&1) || true
check "curl to the IP address (IP SAN) works too" grep -q "hello from the atls" <<< "$out"

out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client -connect "127.0.0.1:$SRV" \
    -servername localhost -CAfile "$T/ca.pem" -verify_return_error -quiet -ign_eof 2>&1) || true
check "openssl s_client through atls serve gets the HTTP response" \
    grep -q "HTTP/1.0 200 OK" <<< "$out"
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client -connect "127.0.0.1:$SRV" \
    -CAfile "$T/ca.pem" -alpn http/1.1 -quiet -ign_eof 2>&1) || true
check "a client offering another ALPN protocol gets plain TLS" grep -q "200 OK" <<< "$out"
out=$(echo | timeout 20 openssl s_client -connect "127.0.0.1:$SRV" -CAfile "$T/ca.pem" \
    -tls1_2 2>&1) || true
check "TLS 1.2 is refused (TLS 1.3 only)" grep -Eqi "protocol version|Cipher is \(NONE\)" <<< "$out"
check "serve logged the plain connections" grep -Eq "info atls serve: connection id=[0-9]+ peer=127.0.0.1:[0-9]+ alpn=- mode=plain" "$T/serve.log"

start_serve "$T/serve2.log" "$SRV2" --backend "127.0.0.1:$HTTP" --attester sim \
    --sim-key "$T/sim.key" --require-attestation
rc=0
out=$(timeout 20 curl -sS --cacert "$T/ca.pem" "https://localhost:$SRV2/" 2>&1) || rc=$?
check "--require-attestation: curl gets no answer" [ "$rc" -ne 0 ]
check "--require-attestation: one log line says why" \
    grep -Eq "warn atls serve: refused id=[0-9]+ peer=127.0.0.1:[0-9]+ alpn=- reason=\"the client did not negotiate atls/1" "$T/serve2.log"
rc=0
timeout 20 "$ATLS" connect "localhost:$SRV2" --ca "$T/ca.pem" --no-policy > /dev/null 2>&1 || rc=$?
check "--require-attestation: an atls client still gets through (warning, exit 3)" [ "$rc" -eq 3 ]

# SIGTERM: clean stop, exit 0
kill -TERM "$SERVE_PID"
rc=0
timeout 10 bash -c "while kill -0 $SERVE_PID 2>/dev/null; do sleep 0.05; done" || rc=$?
wait "$SERVE_PID" || rc=$?
check "SIGTERM stops atls serve with exit 0" [ "$rc" -eq 0 ]
finish
