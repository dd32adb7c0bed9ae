# test_cli_serve_ops: atls serve as an operator runs it. --listen 127.0.0.1:0 logs the port it
# was given; --backend unix:/path reaches a Unix-domain socket; --log-format json writes one
# JSON object per line (parsed with jq): one per connection (peer, ALPN, attested or plain),
# per Evidence produced, per appraisal (status, policy id, reason), per refusal; --metrics
# serves the Prometheus text format (scraped with curl, parsed by the python3 prometheus_client
# parser: an independent reader of the format) with counts that match what was done.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c 'import prometheus_client.parser' 2> /dev/null || {
    bad "python3-prometheus-client is not installed (scripts/setup-deps installs it)"; finish; }
command -v jq > /dev/null || { bad "jq is not installed (scripts/setup-deps installs it)"; finish; }

make_pki
make_sim sim
make_sim csim
make_sim other
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/client.key" \
    -out "$T/client.pem" -days 2 -subj "/CN=client" -addext "extendedKeyUsage=clientAuth" 2> /dev/null
setup_cmd "$T/csim.cmw" "$ATLS" evidence --attester sim --sim-key "$T/csim.key" \
    --challenge "$(printf '00%.0s' $(seq 64))" -o "$T/csim.cmw"
run_cmd "$T/csim.json" "$T/csimv.err" "$ATLS" verify --evidence "$T/csim.cmw" --json
ckid=$(jq -r '.. | objects | select(has("key_id")) | .key_id' "$T/csim.json" | head -1)
printf '{"version": 1, "sim": {"keys": ["%s"], "any_measurements": true}}\n' "$ckid" > "$T/client-policy.json"

"$BACKEND" "unix:$T/echo.sock" 2> "$T/backend.log" &
PIDS+=($!)
wait_until 5 test -S "$T/echo.sock" || true
MP=$(free_port)
"$ATLS" serve --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key" \
    --backend "unix:$T/echo.sock" --attester sim --sim-key "$T/sim.key" \
    --sim-measurements "$T/meas.json" --client-policy "$T/client-policy.json" \
    --client-ca "$T/client.pem" --log-format json --metrics "127.0.0.1:$MP" 2> "$T/serve.json" &
SERVE_PID=$!
PIDS+=($SERVE_PID)
check "serve logs where it listens" wait_until 15 log_has "$T/serve.json" '"event":"listening"'
addr=$(jq -r 'select(.event == "listening") | .addr' "$T/serve.json")
SRV=${addr##*:}
check "--listen 127.0.0.1:0: the log names the port it was given ($addr)" \
    bash -c "[[ '$addr' =~ ^127\\.0\\.0\\.1:[0-9]+$ ]] && [ '$SRV' -gt 0 ]"
check "... and serve accepts there" port_busy "$SRV"
check "the log names the unix backend" \
    jq -e --arg b "unix:$T/echo.sock" 'select(.event == "listening") | .backend == $b' "$T/serve.json"

# attested connections with mutual attestation, through the Unix-domain backend
MUTUAL=(--cert "$T/client.pem" --key "$T/client.key" --attester sim --sim-key "$T/csim.key")
run_cmd "$T/m.out" "$T/m.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy "${MUTUAL[@]}"
check "an attested client with an accepted key gets through (warning without policy: $RC)" [ "$RC" -eq 3 ]
LOC=$(free_port)
"$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy "${MUTUAL[@]}" \
    -L "127.0.0.1:$LOC" 2> "$T/tunnel.log" &
PIDS+=($!)
wait_port "$LOC"
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
echo "through the unix socket" >&3
read -r -t 10 line <&3 || true
exec 3>&-
check "DATA reaches the Unix-domain echo backend and comes back" [ "$line" = "through the unix socket" ]
run_cmd "$T/bad.out" "$T/bad.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy \
    --cert "$T/client.pem" --key "$T/client.key" --attester sim --sim-key "$T/other.key"
check "a client key the policy does not know is refused ($RC)" [ "$RC" -eq 1 ]
run_cmd "$T/nocert.out" "$T/nocert.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy
check "a client without a certificate is refused ($RC)" [ "$RC" -eq 1 ]
out=$(printf 'plain ping\n' | timeout 10 openssl s_client -connect "127.0.0.1:$SRV" \
    -CAfile "$T/ca.pem" -quiet 2> /dev/null | head -1) || true
check "a plain TLS client reaches the unix backend too" [ "$out" = "plain ping" ]
wait_until 5 log_has "$T/serve.json" '"mode":"plain"' || true

# the log: every line one JSON object with a time, a level, the command and an event
check "every log line is JSON" bash -c "jq -e . '$T/serve.json' > /dev/null"
check "every line has an RFC 3339 UTC time with milliseconds and a level" bash -c "[ -z \"\$(jq -c 'select((.time | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z\$\") | not) or ([.level] | inside([\"debug\", \"info\", \"warn\", \"error\"]) | not) or .cmd != \"serve\" or (.event | type) != \"string\")' '$T/serve.json')\" ]"
count() { jq -c "select($1)" "$T/serve.json" | wc -l; }
n=$(count '.event == "connection" and .mode == "attested" and .alpn == "atls/1" and (.peer | test("^127[.]0[.]0[.]1:[0-9]+$")) and (.id | type) == "number"')
check "one connection line per attested connection, with peer and ALPN ($n >= 4)" [ "$n" -ge 4 ]
n=$(count '.event == "connection" and .mode == "plain" and .alpn == "-"')
check "one connection line for the plain client ($n)" [ "$n" -eq 1 ]
n=$(count '.event == "evidence" and .attester == "sim" and .bytes > 0 and (.ms | type) == "number" and (.id | type) == "number"')
check "one line per Evidence produced ($n >= 3)" [ "$n" -ge 3 ]
n=$(count '.event == "appraisal" and .status == "affirming" and (.policy | test("^atls-policy:client-policy.json#[0-9a-f]+$")) and .reason == null')
check "appraisal lines: affirming, with the policy id ($n >= 2)" [ "$n" -ge 2 ]
n=$(count '.event == "appraisal" and .status == "contraindicated" and (.reason | test("not in the policy")) and (.policy | test("^atls-policy:"))')
check "appraisal lines: contraindicated, with the policy id and the reason ($n)" [ "$n" -eq 1 ]
n=$(count '.event == "refused" and (.reason | test("no certificate|no TLS certificate")) and .alpn == "atls/1"')
check "a refusal line for the client without a certificate ($n)" [ "$n" -eq 1 ]

# metrics
curl -sS -D "$T/m.head" "http://127.0.0.1:$MP/metrics" > "$T/m.txt"
check "the endpoint answers with the Prometheus text format 0.0.4" \
    grep -qi "^content-type: text/plain; version=0.0.4" "$T/m.head"
$PY - "$T/m.txt" > "$T/m.parsed" 2> "$T/m.pyerr" << 'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        print("%s{%s} %s" % (s.name, labels, repr(float(s.value))))
PYEOF
check "the python prometheus_client parser reads the scrape" [ -s "$T/m.parsed" ]
val() { awk -v k="$1" '$1 == k { print int($2) }' "$T/m.parsed"; }
att=$(val 'atls_connections_total{mode="attested"}')
pl=$(val 'atls_connections_total{mode="plain"}')
ref=$(val 'atls_connections_total{mode="refused"}')
hs=$(val 'atls_handshake_seconds_count{}')
echo "metrics: attested=$att plain=$pl refused=$ref handshakes=$hs"
check "attested connections counted ($att >= 4)" [ "${att:-0}" -ge 4 ]
check "the plain connection counted ($pl)" [ "${pl:-0}" -eq 1 ]
check "the refusal counted ($ref)" [ "${ref:-0}" -eq 1 ]
check "one handshake latency per completed handshake ($hs = $att + $pl + $ref)" \
    [ "${hs:-0}" -eq $((att + pl + ref)) ]
check "appraisals by status: affirming ($(val 'atls_appraisals_total{status="affirming"}'))" \
    [ "$(val 'atls_appraisals_total{status="affirming"}')" -ge 2 ]
check "appraisals by status: contraindicated" [ "$(val 'atls_appraisals_total{status="contraindicated"}')" -eq 1 ]
ev=$(val 'atls_evidence_produced_total{}')
check "Evidence produced ($ev) = Evidence lines in the log" \
    [ "$ev" -eq "$(count '.event == "evidence"')" ]
check "Evidence latency histogram: one observation each" [ "$(val 'atls_evidence_seconds_count{}')" -eq "$ev" ]
check "the +Inf bucket holds every observation" [ "$(val 'atls_evidence_seconds_bucket{le="+Inf"}')" -eq "$ev" ]
check "client attestation latency observed" [ "$(val 'atls_attestation_seconds_count{}')" -ge 3 ]
check "the open-connections gauge drops back to 0" \
    wait_until 10 bash -c "[ \"\$(curl -s http://127.0.0.1:$MP/metrics | awk '\$1 == \"atls_connections_open\" {print \$2}')\" = 0 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MP/other")
check "another path is 404 ($code)" [ "$code" = 404 ]
finish
