# test_cli_serve_events: atls serve on its event loop (docs/cli.md "Concurrency model"):
#   - the listening line names the workers and the descriptor limit it raised;
#   - Evidence is produced off the I/O path: with ONE worker and a quote that takes 1.5 s (sim
#     --sim-quote-latency), another connection's data keeps flowing while an attestation is in
#     progress (its echo round trips stay far below the quote time), with --batch on and off;
#   - 40 concurrent attested clients on that one worker all affirm (one or two quotes);
#   - a start-up failure after the workers started (--metrics on a busy port) exits 2 at once;
#   - --workers 0, 257 or x and --sim-quote-latency 5s: exit 2 with one line naming the option.
source "$(dirname "$0")/lib.sh"
CLIENTS=$(dirname "$0")/tls_clients.py

make_pki
make_sim sim
ECHO=$(free_port)
start_backend echo "$ECHO"
SIM=(--attester sim --sim-key "$T/sim.key" --sim-measurements "$T/meas.json")
now_ms() { echo $(($(date +%s%N) / 1000000)); }

for batch in on off; do
    SRV=$(free_port)
    start_serve "$T/serve-$batch.log" "$SRV" --backend "127.0.0.1:$ECHO" "${SIM[@]}" \
        --sim-quote-latency 1500 --workers 1 --batch "$batch"
    check "batch $batch: the listening line names 1 worker and the descriptor limit" \
        log_has "$T/serve-$batch.log" "listening .* batch=$batch .*workers=1 nofile=[0-9]+ nofile_before=[0-9]+ max_connections=[0-9]+"
    if [ ! -f "$T/policy.json" ]; then
        run_cmd "$T/policy.json" "$T/policy.err" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
        check "policy init through the slow quote source (exit $RC)" [ "$RC" -eq 0 ]
    fi
    python3 "$CLIENTS" rtt "$SRV" "$T/ca.pem" 3.5 > "$T/rtt-$batch.out" 2> "$T/rtt-$batch.err" &
    rtt_pid=$!
    sleep 0.5
    t0=$(now_ms)
    run_cmd "$T/c-$batch.out" "$T/c-$batch.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
        --policy "$T/policy.json"
    took=$(($(now_ms) - t0))
    check "batch $batch: the attested client affirms (exit $RC)" [ "$RC" -eq 0 ]
    check "batch $batch: ... after the slow quote ($took ms >= 1400)" [ "$took" -ge 1400 ]
    rc=0
    wait "$rtt_pid" || rc=$?
    read -r rounds worst < <(sed -n 's/^rounds=\([0-9]*\) max_ms=\([0-9]*\)$/\1 \2/p' "$T/rtt-$batch.out")
    check "batch $batch: the plain connection echoed throughout (exit $rc, ${rounds:-0} rounds)" \
        [ "$rc" -eq 0 ] && [ "${rounds:-0}" -ge 50 ]
    check "batch $batch: ... its slowest round trip ${worst:-?} ms < 300 ms while the quote ran" \
        [ "${worst:-9999}" -lt 300 ]
    if [ "$batch" = on ]; then
        pids=()
        for i in $(seq 40); do
            timeout 60 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
                > "$T/m$i.out" 2> "$T/m$i.err" &
            pids+=($!)
        done
        ok_n=0
        for i in "${!pids[@]}"; do
            if wait "${pids[$i]}" && grep -q "status: affirming" "$T/m$((i + 1)).out"; then
                ok_n=$((ok_n + 1))
            fi
        done
        check "40 concurrent attested clients on one worker all affirm ($ok_n)" [ "$ok_n" -eq 40 ]
    fi
    kill "$SERVE_PID"
    rc=0
    wait "$SERVE_PID" || rc=$?
    check "batch $batch: serve stops cleanly on SIGTERM (exit $rc)" [ "$rc" -eq 0 ]
done

for bad in 0 257 x; do
    run_cmd "$T/bad.out" "$T/bad.err" "$ATLS" serve --listen "127.0.0.1:$(free_port)" \
        --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" "${SIM[@]}" \
        --workers "$bad"
    check "--workers $bad: exit 2 ($RC)" [ "$RC" -eq 2 ]
    check "... with one line naming --workers" one_line "$T/bad.err"
    check "... naming --workers" grep -q -- "--workers '$bad'" "$T/bad.err"
done
# a start-up failure after the workers started (the metrics port is taken) still ends at once
run_cmd "$T/busy.out" "$T/busy.err" timeout 10 "$ATLS" serve --listen "127.0.0.1:$(free_port)" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" "${SIM[@]}" \
    --metrics "127.0.0.1:$ECHO"
check "--metrics on a busy port: exit 2 at once, workers ended ($RC)" [ "$RC" -eq 2 ]
run_cmd "$T/bad.out" "$T/bad.err" "$ATLS" serve --listen "127.0.0.1:$(free_port)" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" "${SIM[@]}" \
    --sim-quote-latency 5s
check "--sim-quote-latency 5s: exit 2 ($RC), one line naming the option" \
    [ "$RC" -eq 2 ] && one_line "$T/bad.err" && grep -q -- "--sim-quote-latency '5s'" "$T/bad.err"
finish
