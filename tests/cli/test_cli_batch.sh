# test_cli_batch: atls serve --batch on|off (sim attester). The default batches (said in the log)
# and eight concurrent clients each get an affirming appraisal of Evidence bound to their own
# connection; --batch off answers with plain Evidence, also affirming for the same policy;
# a bad value is refused with exit 2 and one line naming the option.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
ECHO=$(free_port)
start_backend echo "$ECHO"
SIM=(--attester sim --sim-key "$T/sim.key" --sim-measurements "$T/meas.json")

SRV=$(free_port)
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" "${SIM[@]}"
check "serve batches by default (its log says so)" log_has "$T/serve.log" "info atls serve: listening addr=127.0.0.1:$SRV backend=127.0.0.1:$ECHO attester=sim batch=on "
run_cmd "$T/policy.json" "$T/policy.err" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
check "policy init from batched Evidence succeeds" [ "$RC" -eq 0 ]
check "... and pins the sim key" grep -q '"keys"' "$T/policy.json"
pids=()
for i in 1 2 3 4 5 6 7 8; do
    timeout 30 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
        > "$T/c$i.out" 2> "$T/c$i.err" &
    pids+=($!)
done
ok_n=0
for i in "${!pids[@]}"; do
    if wait "${pids[$i]}" && grep -q "status: affirming" "$T/c$((i + 1)).out"; then
        ok_n=$((ok_n + 1))
    fi
done
check "8 concurrent clients of the batching server all affirm ($ok_n)" [ "$ok_n" -eq 8 ]
kill "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
check "serve stops cleanly on SIGTERM (exit $rc)" [ "$rc" -eq 0 ]

SRV2=$(free_port)
start_serve "$T/serve2.log" "$SRV2" --backend "127.0.0.1:$ECHO" "${SIM[@]}" --batch off
check "--batch off: the log says batch=off" log_has "$T/serve2.log" "info atls serve: listening .* batch=off "
run_cmd "$T/c.out" "$T/c.err" "$ATLS" connect "localhost:$SRV2" --ca "$T/ca.pem" \
    --policy "$T/policy.json"
check "--batch off: the same policy affirms plain Evidence (exit $RC)" [ "$RC" -eq 0 ]

run_cmd "$T/bad.out" "$T/bad.err" "$ATLS" serve --listen "127.0.0.1:$(free_port)" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" "${SIM[@]}" \
    --batch maybe
check "--batch maybe: exit 2 ($RC)" [ "$RC" -eq 2 ]
check "... with one line" one_line "$T/bad.err"
check "... naming --batch" grep -q -- "--batch 'maybe'" "$T/bad.err"
finish
