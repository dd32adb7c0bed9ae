# test_cli_client_reattest: `atls serve --client-policy` with --client-ca re-attests its clients
# the way `atls connect -L --reattest` re-attests servers; a client policy without a client CA
# is refused at start-up; a client that does not authenticate in TLS is not attested.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
# the client's certificate, from the same test CA, for client authentication
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/client.key" \
    -out "$T/client.csr" -subj "/CN=client" 2> /dev/null
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > "$T/client-ext.cnf"
openssl x509 -req -in "$T/client.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -out "$T/client.pem" -days 2 -extfile "$T/client-ext.cnf" 2> /dev/null
# the server's sim key, pinned by the client's policy
setup_cmd "$T/s.cmw" "$ATLS" evidence --attester sim --sim-key "$T/sim.key" \
    --challenge "$(printf '00%.0s' $(seq 64))"
run_cmd "$T/s.json" "$T/s.json.err" "$ATLS" verify --evidence "$T/s.cmw" --no-challenge --json
skid=$(grep -o '"key_id": "[0-9a-f]*"' "$T/s.json" | head -1 | cut -d'"' -f4)
check "the server's sim key id is known" [ -n "$skid" ]
printf '{"version": 1, "sim": {"keys": ["%s"], "any_measurements": true}}\n' "$skid" > "$T/server-policy.json"
# the client attests with its own sim key, pinned by the server's client policy
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/csim.key" 2> /dev/null
setup_cmd "$T/csim.cmw" "$ATLS" evidence --attester sim --sim-key "$T/csim.key" \
    --challenge "$(printf '00%.0s' $(seq 64))"
run_cmd "$T/csim.json" "$T/csim.json.err" "$ATLS" verify --evidence "$T/csim.cmw" --no-challenge --json
ckid=$(grep -o '"key_id": "[0-9a-f]*"' "$T/csim.json" | head -1 | cut -d'"' -f4)
check "the client's sim key id is known" [ -n "$ckid" ]
printf '{"version": 1, "sim": {"keys": ["%s"], "any_measurements": true}}\n' "$ckid" > "$T/client-policy.json"

ECHO=$(free_port)
SRV=$(free_port)
LOC=$(free_port)
start_backend echo "$ECHO"

run_cmd "$T/nocafail.out" "$T/nocafail.err" "$ATLS" serve --listen "127.0.0.1:$SRV" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --client-policy "$T/client-policy.json"
check "--client-policy without --client-ca: usage error (exit 2)" [ "$RC" -eq 2 ]
check "... naming --client-ca" grep -q -- "--client-ca" "$T/nocafail.err"

start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json" \
    --client-policy "$T/client-policy.json" --client-ca "$T/ca.pem" --reattest 0.5

"$ATLS" connect -v "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/server-policy.json" \
    --cert "$T/client.pem" --key "$T/client.key" --attester sim --sim-key "$T/csim.key" \
    -L "127.0.0.1:$LOC" --reattest 60 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
wait_port "$LOC"
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
echo "hello" >&3
read -r -t 10 line <&3 || true
check "data flows once the client attested" [ "$line" = "hello" ]
# the server asks again every 0.5 s: a third appraisal within a few seconds
check "serve re-attested the client (3 appraisals within 10 s)" \
    wait_until 10 count_at_least 3 "$T/serve.log" "info atls serve: appraisal id=[0-9]+ peer=127.0.0.1:[0-9]+ status=affirming policy=atls-policy:client-policy.json#[0-9a-f]+ reason=-"
echo "again" >&3
read -r -t 10 line <&3 || true
check "data still flows after the re-attestations" [ "$line" = "again" ]
exec 3>&-
check "the tunnel is still up" kill -0 "$TUN"

# a client without a TLS certificate is not attested, and gets no data through
run_cmd "$T/nocert.out" "$T/nocert.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
    --policy "$T/server-policy.json"
check "a client without a certificate fails (exit 1)" [ "$RC" -eq 1 ]
check "serve is still running" kill -0 "$SERVE_PID"
finish
