# test_cli_tunnel: an attested `atls connect -L` tunnel carries 100 MB intact (SHA-256 at both
# ends), echoes both ways, and re-attests while data flows.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
SINK=$(free_port)
ECHO=$(free_port)
SRV=$(free_port)
SRV_E=$(free_port)
LOC=$(free_port)
LOC_E=$(free_port)
start_backend sink "$SINK" "$T/sink.out"
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$SINK" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json"
setup_cmd "$T/policy.json" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"

"$ATLS" connect -v "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC" --reattest 1 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
wait_port "$LOC"

head -c 100000000 /dev/urandom > "$T/data"
want=$(sha256sum "$T/data" | cut -d' ' -f1)
start=$(date +%s)
timeout 90 bash -c "cat '$T/data' > /dev/tcp/127.0.0.1/$LOC"
wait_until 30 test -s "$T/sink.out" || true
got=$(cut -d' ' -f1 "$T/sink.out" 2>/dev/null || true)
bytes=$(cut -d' ' -f2 "$T/sink.out" 2>/dev/null || true)
echo "100 MB in $(($(date +%s) - start)) s"
check "the backend received 100000000 bytes" [ "$bytes" = "100000000" ]
check "SHA-256 at the backend equals SHA-256 of what was sent" [ "$got" = "$want" ]
check "the tunnel was attested before forwarding" grep -Eq "info atls connect: tunnel tunnel=1 peer=127.0.0.1:[0-9]+ server=localhost:[0-9]+ status=affirming" "$T/tunnel.log"
check "the tunnel is still running" kill -0 "$TUN"

# echo both ways through a second server, with re-attestation every second meanwhile
start_serve "$T/serve_e.log" "$SRV_E" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json"
"$ATLS" connect -v "localhost:$SRV_E" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC_E" --reattest 0.5 2> "$T/tunnel_e.log" &
TUN_E=$!
PIDS+=($TUN_E)
wait_port "$LOC_E"
exec 3<> "/dev/tcp/127.0.0.1/$LOC_E"
okc=0
for i in 1 2 3 4 5 6; do
    echo "line $i" >&3
    read -r -t 5 line <&3 || true
    [ "$line" = "line $i" ] && okc=$((okc + 1))
    sleep 0.4
done
exec 3>&-
check "6 lines echoed intact across re-attestations" [ "$okc" -eq 6 ]
wait_until 5 count_at_least 4 "$T/tunnel_e.log" "appraisal tunnel=[0-9][0-9]* status=affirming" || true
n=$(grep -c "appraisal tunnel=[0-9][0-9]* status=affirming" "$T/tunnel_e.log" || true)
check "the tunnel re-attested while data flowed ($n appraisals)" [ "$n" -ge 4 ]
finish
