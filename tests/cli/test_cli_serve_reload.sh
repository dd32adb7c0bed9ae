# test_cli_serve_reload: SIGHUP makes atls serve reload its certificate, key and client policy
# atomically, like nginx: new connections get the new certificate and policy at once, a live
# attested connection keeps the configuration it started with (it goes on being re-attested
# under its own policy, and carries data), and a reload that fails (a key that does not match
# the certificate, a broken policy) changes nothing, not even the part that would have loaded,
# and one log line says why. Every log line (text format) has a timestamp and a level.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
make_sim k1
make_sim k2
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/server2.key" \
    -out "$T/server2.csr" -subj "/CN=localhost" 2> /dev/null
openssl x509 -req -in "$T/server2.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
    -out "$T/server2.pem" -days 2 -extfile "$T/ext.cnf" 2> /dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/client.key" \
    -out "$T/client.pem" -days 2 -subj "/CN=client" -addext "extendedKeyUsage=clientAuth" 2> /dev/null
# client_policy KEY: a policy accepting the sim key KEY (its key id from atls verify)
client_policy() {
    "$ATLS" evidence --attester sim --sim-key "$T/$1.key" --challenge "$(printf '00%.0s' $(seq 64))" \
        -o "$T/$1.cmw" && "$ATLS" verify --evidence "$T/$1.cmw" --json > "$T/$1.ear" 2> /dev/null || true
    printf '{"version": 1, "sim": {"keys": ["%s"], "any_measurements": true}}\n' \
        "$(grep -o '"key_id": "[0-9a-f]*"' "$T/$1.ear" | head -1 | cut -d'"' -f4)"
}
client_policy k1 > "$T/policy-k1.json"
client_policy k2 > "$T/policy-k2.json"
cp "$T/server.pem" "$T/cur.pem"
cp "$T/server.key" "$T/cur.key"
cp "$T/policy-k1.json" "$T/client-policy.json"
fp_of() { openssl x509 -noout -fingerprint -sha256 -in "$1"; }
served_fp() {
    timeout 10 openssl s_client -connect "127.0.0.1:$SRV" -CAfile "$T/ca.pem" < /dev/null 2> /dev/null |
        openssl x509 -noout -fingerprint -sha256 2> /dev/null
}
# attest_as KEY: a one-shot mutual attestation with sim key KEY; sets RC
attest_as() {
    run_cmd "$T/a.out" "$T/a.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy \
        --cert "$T/client.pem" --key "$T/client.key" --attester sim --sim-key "$T/$1.key"
}
hup_and_wait() { # hup_and_wait PATTERN: SIGHUP, then PATTERN in the log within 10 s
    kill -HUP "$SERVE_PID"
    wait_until 10 log_has "$T/serve.log" "$1"
}

ECHO=$(free_port)
SRV=$(free_port)
LOC=$(free_port)
start_backend echo "$ECHO"
"$ATLS" serve --listen "127.0.0.1:$SRV" --cert "$T/cur.pem" --key "$T/cur.key" \
    --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key" \
    --client-policy "$T/client-policy.json" --client-ca "$T/client.pem" --reattest 0.5 \
    2> "$T/serve.log" &
SERVE_PID=$!
PIDS+=($SERVE_PID)
wait_port "$SRV"
check "serve presents the first certificate" [ "$(served_fp)" = "$(fp_of "$T/server.pem")" ]
attest_as k1
check "the first client policy accepts k1 ($RC)" [ "$RC" -eq 3 ]

# a live attested connection (k1) across the reloads
"$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy --cert "$T/client.pem" \
    --key "$T/client.key" --attester sim --sim-key "$T/k1.key" -L "127.0.0.1:$LOC" \
    2> "$T/tunnel.log" &
PIDS+=($!)
wait_port "$LOC"
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
echo "before" >&3
read -r -t 10 line <&3 || true
check "the live connection carries data" [ "$line" = "before" ]
live_id=$(grep -Eo "info atls serve: connection id=[0-9]+" "$T/serve.log" | tail -1 | grep -Eo "[0-9]+$")

cp "$T/server2.pem" "$T/cur.pem"
cp "$T/server2.key" "$T/cur.key"
cp "$T/policy-k2.json" "$T/client-policy.json"
check "SIGHUP: reloaded, configuration 2" hup_and_wait "info atls serve: reloaded config=2 cert=\"/CN=localhost\" client_policy=atls-policy:client-policy.json#"
check "new connections get the new certificate" [ "$(served_fp)" = "$(fp_of "$T/server2.pem")" ]
attest_as k1
check "... and the new client policy: k1 refused ($RC)" [ "$RC" -eq 1 ]
attest_as k2
check "... k2 accepted ($RC)" [ "$RC" -eq 3 ]
n0=$(grep -Ec "appraisal id=$live_id .*status=affirming" "$T/serve.log" || true)
check "the live connection goes on being re-attested under the policy it started with" \
    wait_until 10 count_at_least $((n0 + 2)) "$T/serve.log" "appraisal id=$live_id .*status=affirming"
echo "after reload" >&3
read -r -t 10 line <&3 || true
check "... and still carries data" [ "$line" = "after reload" ]

# a failed reload: the first certificate with the second key, and the k1 policy
cp "$T/server.pem" "$T/cur.pem"
cp "$T/policy-k1.json" "$T/client-policy.json"
check "a reload whose key does not match: one error line saying why, the running one kept" \
    hup_and_wait "error atls serve: reload_failed reason=\"--key $T/cur.key does not match --cert $T/cur.pem\" config=2 keeping=\"the running configuration\""
check "serve is still running" kill -0 "$SERVE_PID"
check "the certificate did not change" [ "$(served_fp)" = "$(fp_of "$T/server2.pem")" ]
attest_as k1
check "nor did the client policy that would have loaded: k1 still refused ($RC)" [ "$RC" -eq 1 ]
attest_as k2
check "k2 still accepted ($RC)" [ "$RC" -eq 3 ]
cp "$T/server2.pem" "$T/cur.pem"
printf '{"version": 1, "sim": {"keys": []' > "$T/client-policy.json"
check "a broken policy: the reload fails naming the policy" \
    hup_and_wait "error atls serve: reload_failed reason=\"policy: .*client-policy.json"
cp "$T/policy-k1.json" "$T/client-policy.json"
check "fixed files: the next SIGHUP reloads (configuration 3)" hup_and_wait "info atls serve: reloaded config=3"
attest_as k1
check "k1 accepted again ($RC)" [ "$RC" -eq 3 ]
echo "end" >&3
read -r -t 10 line <&3 || true
check "the live connection survived every reload" [ "$line" = "end" ]
exec 3>&-
bad_lines=$(grep -Evc '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (debug|info|warn|error) atls serve: ' "$T/serve.log" || true)
check "every log line starts with a timestamp and a level ($bad_lines without)" [ "$bad_lines" -eq 0 ]
rc=0
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || rc=$?
check "SIGTERM: exit 0 ($rc)" [ "$rc" -eq 0 ]
finish
