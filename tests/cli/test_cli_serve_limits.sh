# test_cli_serve_limits: atls serve and its descriptor limit (docs/cli.md "Concurrency model"),
# run under prlimit with a soft limit of 48 and a hard one of 64:
#   - serve raises the soft limit to the hard one and says so on the listening line;
#   - it lowers the connection ceiling to what the descriptors allow (two per connection) and
#     logs that (`limit`);
#   - opening more connections than fit: the excess are refused at once, each with a `refused`
#     line naming the descriptor limit, while every accepted one completes its handshake and
#     keeps echoing (no handshake fails halfway, no backend connect fails for want of a
#     descriptor);
#   - once they close, an attested client is served again.
source "$(dirname "$0")/lib.sh"
CLIENTS=$(dirname "$0")/tls_clients.py

make_pki
make_sim sim
ECHO=$(free_port)
start_backend echo "$ECHO"
SIM=(--attester sim --sim-key "$T/sim.key" --sim-measurements "$T/meas.json")

SRV=$(free_port)
prlimit --nofile=48:64 "$ATLS" serve -v --listen "127.0.0.1:$SRV" --cert "$T/server.pem" \
    --key "$T/server.key" --backend "127.0.0.1:$ECHO" "${SIM[@]}" 2> "$T/serve.log" &
SERVE_PID=$!
PIDS+=($SERVE_PID)
wait_port "$SRV"
check "the soft limit was raised to the hard one (listening line)" \
    log_has "$T/serve.log" "listening .* nofile=64 nofile_before=48 "
max=$(sed -n 's/.*listening .* max_connections=\([0-9]*\).*/\1/p' "$T/serve.log")
check "the ceiling fits the descriptors (max_connections=${max:-?}, two per connection)" \
    [ -n "$max" ] && [ "$max" -ge 4 ] && [ "$max" -le 30 ]
check "... and the lowered ceiling is logged" \
    log_has "$T/serve.log" "warn atls serve: limit max_connections=$max asked=1024 "
extra=6
python3 "$CLIENTS" hold "$SRV" "$T/ca.pem" $((max + extra)) > "$T/hold.out" 2> "$T/hold.err" || true
read -r acc ref still < <(sed -n 's/^accepted=\([0-9]*\) refused=\([0-9]*\) still=\([0-9]*\)$/\1 \2 \3/p' "$T/hold.out")
check "all $max that fit were accepted (${acc:-?})" [ "${acc:-0}" -eq "$max" ]
check "the $extra beyond were refused (${ref:-?})" [ "${ref:-0}" -eq "$extra" ]
check "every accepted connection still echoes after the refusals (${still:-?})" \
    [ "${still:-0}" -eq "$max" ]
check "each refusal has a log line naming the descriptor limit" \
    count_at_least "$extra" "$T/serve.log" "warn atls serve: refused .*reason=\"descriptor limit reached"
check "no handshake failed and no backend connect failed" \
    bash -c "! grep -Eq 'handshake_failed|backend_unreachable' '$T/serve.log'"
wait_until 10 log_has "$T/serve.log" "closed id=$max "
run_cmd "$T/policy.json" "$T/policy.err" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
check "afterwards an attested client is served again (exit $RC)" [ "$RC" -eq 0 ]
kill "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
check "serve stops cleanly on SIGTERM (exit $rc)" [ "$rc" -eq 0 ]
finish
