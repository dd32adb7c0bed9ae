# test_cli_policy: `atls policy init` then `atls connect --policy` affirms; the same policy
# against a server with another attestation key is
# contraindicated; the policy is exactly what --policy reads; EAR JSON and signed JWT output;
# policy init --evidence FILE (offline enrolment) gives the same policy as the live server, and
# refuses a file that does not verify.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
make_sim other
ECHO=$(free_port)
SRV=$(free_port)
SRV2=$(free_port)
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json"
start_serve "$T/serve2.log" "$SRV2" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/other.key" --sim-measurements "$T/meas.json"

run_cmd "$T/policy.json" "$T/policy.err" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
check "policy init exits 0" [ "$RC" -eq 0 ]
# the key id, computed without atls: SHA-256 of the DER SubjectPublicKeyInfo of the sim key
kid=$(openssl pkey -in "$T/sim.key" -pubout -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
check "the policy is JSON: version 1 and a sim section, nothing else" \
    jq -e '.version == 1 and (keys == ["sim", "version"]) and (.sim | keys == ["keys", "measurements"])' \
    "$T/policy.json"
check "the sim section pins exactly the server's attestation key ($kid)" \
    jq -e --arg k "$kid" '.sim.keys == [$k]' "$T/policy.json"
check "the sim section pins exactly the served measurements" \
    jq -e --arg f "$(printf '11%.0s' $(seq 32))" --arg k "$(printf '22%.0s' $(seq 32))" \
    '.sim.measurements == {"firmware": [$f], "kernel": [$k]}' "$T/policy.json"

rc=0
timeout 20 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    > "$T/out.txt" 2> "$T/err.txt" || rc=$?
check "connect --policy affirms: exit 0" [ "$rc" -eq 0 ]
check "the summary shows affirming" grep -q "^status: affirming" "$T/out.txt"
check "the summary says SIMULATED" grep -q "SIMULATED, not real attestation" "$T/out.txt"
check "nothing on stderr when affirming" [ ! -s "$T/err.txt" ]

rc=0
timeout 20 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" --json \
    > "$T/ear.json" || rc=$?
check "--json: exit 0" [ "$rc" -eq 0 ]
check "--json prints the EAR with ear_status affirming" jq -e '.ear_status == "affirming"' "$T/ear.json"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ear.key" 2> /dev/null
rc=0
timeout 20 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    --ear-key "$T/ear.key" > "$T/ear.jwt" || rc=$?
check "--ear-key: exit 0" [ "$rc" -eq 0 ]
check "--ear-key prints a three-part JWT" grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$T/ear.jwt"

rc=0
timeout 20 "$ATLS" connect "localhost:$SRV2" --ca "$T/ca.pem" --policy "$T/policy.json" \
    > "$T/out2.txt" 2> "$T/err2.txt" || rc=$?
check "another attestation key: contraindicated, exit 1" [ "$rc" -eq 1 ]
check "the summary shows contraindicated" grep -q "^status: contraindicated" "$T/out2.txt"
check "stderr is one line naming the untrusted key" one_line "$T/err2.txt"
check "... which says the key is not in the policy" grep -q "not in the policy" "$T/err2.txt"
cat "$T/err2.txt"

rc=0
timeout 20 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy > /dev/null || rc=$?
check "--no-policy: verified but not appraised: warning, exit 3" [ "$rc" -eq 3 ]

# wrong CA: the TLS handshake fails (exit 1), nothing is attested
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca2.key" \
    -out "$T/ca2.pem" -days 2 -subj "/CN=other CA" 2> /dev/null
rc=0
timeout 20 "$ATLS" connect "localhost:$SRV" --ca "$T/ca2.pem" --policy "$T/policy.json" \
    > /dev/null 2> "$T/err3.txt" || rc=$?
check "an untrusted server certificate: exit 1" [ "$rc" -eq 1 ]
check "one line saying the certificate did not verify" one_line "$T/err3.txt"
grep -q "certificate verification failed" "$T/err3.txt" && ok "names the verification failure" || bad "names the verification failure"
rc=0
timeout 20 "$ATLS" connect "127.0.0.1:$SRV" --servername wrong.example --ca "$T/ca.pem" \
    --policy "$T/policy.json" > /dev/null 2> "$T/err4.txt" || rc=$?
check "a hostname mismatch: exit 1" [ "$rc" -eq 1 ]
check "one line naming the hostname mismatch" grep -q "hostname mismatch" "$T/err4.txt"

# offline enrolment: the same policy from an Evidence file of the same attester
setup_cmd "$T/enrol.cmw" "$ATLS" evidence --attester sim --sim-key "$T/sim.key" \
    --sim-measurements "$T/meas.json" --challenge "$(openssl rand -hex 64)" -o "$T/enrol.cmw"
run_cmd "$T/policy-file.json" "$T/policy-file.err" "$ATLS" policy init --evidence "$T/enrol.cmw"
check "policy init --evidence: exit 0" [ "$RC" -eq 0 ]
check "policy init --evidence: the same policy as from the live server" \
    cmp "$T/policy.json" "$T/policy-file.json"
head -c 300 "$T/enrol.cmw" > "$T/cut.cmw"
run_cmd "$T/cut.out" "$T/cut.err" "$ATLS" policy init --evidence "$T/cut.cmw"
check "policy init --evidence on a truncated file: exit 1, no policy" \
    bash -c "[ $RC -eq 1 ] && [ ! -s '$T/cut.out' ]"
check "  names the file that does not verify" grep -q "cut.cmw does not verify" "$T/cut.err"
run_cmd "$T/both.out" "$T/both.err" "$ATLS" policy init "localhost:$SRV" --evidence "$T/enrol.cmw"
check "policy init: --evidence and HOST:PORT together: usage error" [ "$RC" -eq 2 ]

# mutual attestation: the server asks the client to attest under --client-policy
SRV3=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/client.key" \
    -out "$T/client.pem" -days 2 -subj "/CN=client" 2> /dev/null
timeout 20 "$ATLS" evidence --attester sim --sim-key "$T/other.key" \
    --sim-measurements "$T/meas.json" --challenge "$(printf '00%.0s' $(seq 64))" > "$T/client.cmw"
run_cmd "$T/client-ear.json" "$T/client-ear.err" "$ATLS" verify --evidence "$T/client.cmw" --json
check "the client's Evidence verifies without a policy (warning, exit 3)" [ "$RC" -eq 3 ]
kid=$(grep -o '"key_id": "[0-9a-f]*"' "$T/client-ear.json" | head -1 | cut -d'"' -f4)
printf '{"version": 1, "sim": {"keys": ["%s"], "any_measurements": true}}\n' "$kid" > "$T/client-policy.json"
start_serve "$T/serve3.log" "$SRV3" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json" --client-policy "$T/client-policy.json" \
    --client-ca "$T/client.pem"
run_cmd "$T/mutual.out" "$T/mutual.err" "$ATLS" connect "localhost:$SRV3" --ca "$T/ca.pem" \
    --policy "$T/policy.json" --cert "$T/client.pem" --key "$T/client.key" --attester sim \
    --sim-key "$T/other.key"
check "mutual attestation: the client attests to the server, exit 0" [ "$RC" -eq 0 ]
check "the server appraised the client (within 10 s)" \
    wait_until 10 log_has "$T/serve3.log" "info atls serve: appraisal id=[0-9]+ peer=127.0.0.1:[0-9]+ status=affirming policy=atls-policy:client-policy.json#"
finish
