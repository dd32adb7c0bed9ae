# test_cli_intra: `atls serve|connect --intra`, the INSECURE intra-handshake baseline on the
# command line: reachable only by name (no default binder, nothing in a policy file selects it),
# every line it prints says INSECURE, RA-only checks no certificate and no name, x509 checks
# both, a binder mismatch and a policy mismatch fail the handshake, there is no re-attestation,
# ordinary TLS clients see an ordinary server (x509) or a self-signed one (ra-only), and the
# atls commands without --intra are unchanged.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
make_sim other
HTTP=$(free_port)
X=$(free_port)
R=$(free_port)
A=$(free_port)
start_backend http "$HTTP"
SIM=(--attester sim --sim-key "$T/sim.key" --sim-measurements "$T/meas.json")

# ---- reachable only by name --------------------------------------------------------------
run_cmd "$T/o" "$T/e" "$ATLS" serve --intra x509 --listen "127.0.0.1:$X" --backend "127.0.0.1:$HTTP" "${SIM[@]}"
check "serve --intra without --binder: usage error (exit 2)" [ "$RC" -eq 2 ]
check "... no default binder, and the message says INSECURE" grep -q "INSECURE: --intra and --binder are both required" "$T/e"
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra x509 --binder 9 "127.0.0.1:$X" --no-policy
check "an unknown binder is refused" grep -q "INSECURE: --binder '9': expected 1..7, hs or none" "$T/e"
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra tls "127.0.0.1:$X" --no-policy
check "an unknown mode is refused" grep -q "INSECURE: --intra 'tls': expected ra-only or x509" "$T/e"
printf '{"version": 1, "intra": "ra-only", "sim": {"keys": ["%s"], "any_measurements": true}}\n' \
    "$(printf '00%.0s' $(seq 32))" > "$T/intra-policy.json"
run_cmd "$T/o" "$T/e" "$ATLS" connect "127.0.0.1:$X" --policy "$T/intra-policy.json"
check "a policy file cannot select it (unknown key \"intra\", exit 2)" \
    bash -c "[ $RC -eq 2 ] && grep -q 'unknown key \"intra\"' '$T/e'"
run_cmd "$T/o" "$T/e" "$ATLS" serve --intra ra-only --binder 6 --listen "127.0.0.1:$R" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$HTTP" "${SIM[@]}"
check "ra-only refuses --cert (it presents a throw-away certificate)" grep -q "INSECURE: ra-only presents a throw-away" "$T/e"
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra ra-only --binder 6 "127.0.0.1:$R" --ca "$T/ca.pem" --no-policy
check "ra-only connect refuses --ca (it checks no certificate)" grep -q "INSECURE: ra-only checks no certificate and no name" "$T/e"
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra x509 --binder 6 "127.0.0.1:$X" --no-policy --reattest 5
check "--reattest is refused, with the reason" grep -q "INSECURE: --reattest: the intra-handshake baseline cannot re-attest" "$T/e"
for cmd in serve connect; do
    "$ATLS" "$cmd" --help > "$T/help.$cmd"
    check "atls $cmd --help names --intra as INSECURE" grep -q -- "--intra ra-only|x509       INSECURE" "$T/help.$cmd"
done
"$ATLS" serve --intra x509 --binder hs --help > "$T/help.intra"
check "serve --intra ... --help is the baseline's own help" grep -q "^INSECURE, for comparison only" "$T/help.intra"

# ---- the servers --------------------------------------------------------------------------
"$ATLS" serve --intra x509 --binder hs --listen "127.0.0.1:$X" --cert "$T/server.pem" \
    --key "$T/server.key" --backend "127.0.0.1:$HTTP" "${SIM[@]}" -v 2> "$T/serve-x.log" &
PIDS+=($!)
"$ATLS" serve --intra ra-only --binder 6 --listen "127.0.0.1:$R" --backend "127.0.0.1:$HTTP" \
    "${SIM[@]}" -v 2> "$T/serve-r.log" &
PIDS+=($!)
wait_until 10 log_has "$T/serve-x.log" "INSECURE: listening"
wait_until 10 log_has "$T/serve-r.log" "INSECURE: listening"
check "serve says what it is at start" grep -q "^atls serve: INSECURE intra-handshake baseline (draft-fossati-tls-attestation-08, x509, binder hs" "$T/serve-x.log"
check "ra-only serve names its throw-away key" grep -Eq "INSECURE: ra-only identity: throw-away self-signed key [0-9a-f]{64}" "$T/serve-r.log"

# a strict policy from a first, policy-less look (the baseline appraises with the same pipeline)
run_cmd "$T/first.out" "$T/first.err" "$ATLS" connect --intra x509 --binder hs "127.0.0.1:$X" \
    --ca "$T/ca.pem" --servername localhost --no-policy --json
check "x509, no policy: verified, a warning (exit 3)" [ "$RC" -eq 3 ]
key_id=$(grep -o '"key_id": "[0-9a-f]*"' "$T/first.out" | head -1 | grep -o '[0-9a-f]\{64\}')
check "the Evidence names the sim key" [ -n "$key_id" ]
printf '{"version": 1, "sim": {"keys": ["%s"], "measurements": {"firmware": ["%s"], "kernel": ["%s"]}}}\n' \
    "$key_id" "$(printf '11%.0s' $(seq 32))" "$(printf '22%.0s' $(seq 32))" > "$T/policy.json"
other_id=$(openssl pkey -in "$T/other.key" -pubout -outform DER 2> /dev/null | sha256sum | cut -d' ' -f1)
sed "s/$key_id/$other_id/" "$T/policy.json" > "$T/other-policy.json"

run_cmd "$T/o" "$T/e" "$ATLS" connect --intra x509 --binder hs "127.0.0.1:$X" --ca "$T/ca.pem" \
    --servername localhost --policy "$T/policy.json"
check "x509 + policy: affirming (exit 0)" [ "$RC" -eq 0 ]
check "every line of its output says INSECURE" bash -c "[ -s '$T/o' ] && ! grep -v '^INSECURE: ' '$T/o'"
check "... and every line on stderr too" bash -c "! grep -v '^atls connect: INSECURE' '$T/e'"
check "it says there is no re-attestation" grep -q "^INSECURE: appraised once, inside the handshake; this connection is never re-attested" "$T/o"
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra x509 --binder hs "127.0.0.1:$X" --ca "$T/ca.pem" \
    --servername other.test --policy "$T/policy.json"
check "x509 checks the name (exit 1)" bash -c "[ $RC -eq 1 ] && grep -q 'hostname mismatch' '$T/e'"
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra x509 --binder 6 "127.0.0.1:$X" --ca "$T/ca.pem" \
    --servername localhost --policy "$T/policy.json"
check "a binder mismatch fails the handshake, by name (exit 1)" bash -c "[ $RC -eq 1 ] && grep -q 'INSECURE: handshake .* failed (the server saw only a TLS alert): sim: eat_nonce' '$T/e'"
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra x509 --binder hs "127.0.0.1:$X" --ca "$T/ca.pem" \
    --servername localhost --policy "$T/other-policy.json"
check "another attestation key fails the handshake (exit 1)" bash -c "[ $RC -eq 1 ] && grep -q 'is not in the policy' '$T/e'"
check "serve logged the failed handshakes" wait_until 5 log_has "$T/serve-x.log" "INSECURE: connection [0-9]+ from .*: handshake failed"
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra ra-only --binder 6 "127.0.0.1:$R" --policy "$T/policy.json"
check "ra-only: affirming with no certificate check at all (exit 0)" [ "$RC" -eq 0 ]
run_cmd "$T/o" "$T/e" "$ATLS" connect --intra x509 --binder 6 "127.0.0.1:$R" --ca "$T/ca.pem" \
    --servername localhost --policy "$T/policy.json"
check "an x509 client finds no CERT_ATTESTATION type at an ra-only server (exit 1)" [ "$RC" -eq 1 ]

# ---- ordinary clients ----------------------------------------------------------------------
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client -connect "127.0.0.1:$X" \
    -servername localhost -CAfile "$T/ca.pem" -verify_return_error -quiet -ign_eof 2>&1) || true
check "openssl s_client through the x509 baseline gets the HTTP response" grep -q "HTTP/1.0 200 OK" <<< "$out"
check "... and was sent no Evidence (it did not ask)" wait_until 5 log_has "$T/serve-x.log" "0 bytes of Evidence \(none asked for\)"
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client -connect "127.0.0.1:$R" \
    -CAfile "$T/ca.pem" -verify_return_error -quiet -ign_eof 2>&1) || true
check "openssl s_client refuses the ra-only server's self-signed certificate" grep -qi "self.signed\|verify error" <<< "$out"
out=$(timeout 20 curl -sS --cacert "$T/ca.pem" "https://localhost:$X/" 2>&1) || true
check "curl through the x509 baseline gets the backend's answer" grep -q "hello from the atls echo backend" <<< "$out"

# ---- the tunnel: one handshake per local connection ---------------------------------------
"$ATLS" connect --intra x509 --binder hs "127.0.0.1:$X" --ca "$T/ca.pem" --servername localhost \
    --policy "$T/policy.json" -L "127.0.0.1:$A" -v 2> "$T/tunnel.log" &
PIDS+=($!)
wait_until 10 log_has "$T/tunnel.log" "INSECURE: listening on"
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$A; cat >&3; cat <&3") || true
check "data flows through the tunnel" grep -q "hello from the atls echo backend" <<< "$out"
check "the tunnel says when it appraised, and that it never re-attests" wait_until 5 log_has "$T/tunnel.log" "INSECURE: tunnel 1: server appraised affirming at its handshake; never re-attested"
check "every tunnel line says INSECURE" bash -c "! grep -v '^atls connect: INSECURE' '$T/tunnel.log'"
check "every serve line says INSECURE" bash -c "! grep -v '^atls serve: INSECURE' '$T/serve-x.log' '$T/serve-r.log' | grep -v '^--$'"
finish
