# soak: a bounded soak test of `atls serve` (sim attester) on loopback.
#
# N attested connections (soak_attest, one client process) each re-attest every R seconds
# (evenly spread) against a strict policy while a 64-byte numbered message is echoed on each
# once a second and checked byte for byte. Besides them, 20 good clients (soak_pump echo) talk
# through one `atls connect -L --reattest 1` listener, so each has its own attested TLS
# connection to serve that re-attests every second while 512-byte messages are echoed and
# checked byte for byte. Meanwhile misbehaving clients hit serve
# directly: garbage frames after a real atls/1 handshake, half-open TCP connections that never
# handshake, TLS connections that handshake and never send, and slow readers (through a second
# tunnel). Asserted:
#   - the N connections see no failure (appraisal, echo, close) and no late answer, and
#     re-attested as scheduled; good tunnel clients see no failure and the tunnel never fails a
#     re-attestation;
#   - serve's fd count and RSS do not grow between the first and last third of the run
#     after a 10 s ramp (sampled every second; bounds: +16 fds, +8 MiB), and serve is still
#     alive;
#   - serve answers a fresh attested connection at the end.
# Environment: SOAK_N (default 200), SOAK_T seconds (default 60), SOAK_REATTEST seconds (default
# 5), SOAK_REPORT=FILE to append the figures (Markdown) to FILE. Run by `ctest -L soak` and
# scripts/soak (make soak: 1 000 connections, 600 s); not in `make test`.
source "$ATLS_SOURCE_DIR/tests/cli/lib.sh"

N=${SOAK_N:-200}
DUR=${SOAK_T:-60}
REATT=${SOAK_REATTEST:-5}
TUN_N=20
PUMP=$B/tests/soak/soak_pump
[ -x "$PUMP" ] || PUMP=$(find "$B" -name soak_pump -type f -perm -u+x | head -n1)
[ -x "$PUMP" ] || { echo "soak_pump not built"; exit 1; }
ATTEST=$B/tests/soak/soak_attest
[ -x "$ATTEST" ] || { echo "soak_attest not built"; exit 1; }
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true

make_pki
make_sim sim
ECHO=$(free_port)
SRV=$(free_port)
LOC=$(free_port)
LOC_SLOW=$(free_port)
start_backend echo "$ECHO"
# room for the N connections, the tunnels' and the misbehaving ones (beyond it serve refuses)
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/meas.json" --max-connections $((N + 500))
timeout 20 "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem" > "$T/policy.json"

"$ATLS" connect -v "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC" --reattest 1 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
"$ATLS" connect -v "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC_SLOW" --reattest 1 2> "$T/tunnel_slow.log" &
TUN_SLOW=$!
PIDS+=($TUN_SLOW)
wait_port "$LOC"
wait_port "$LOC_SLOW"

fds() { ls "/proc/$SERVE_PID/fd" 2> /dev/null | wc -l; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status" 2> /dev/null || echo 0; }

# the attested connections, the good clients and the slow readers run for DUR seconds
"$ATTEST" "$SRV" "$N" $((REATT * 1000)) "$DUR" "$T/ca.pem" "$T/policy.json" 1000 \
    > "$T/attest.out" 2> "$T/attest.err" &
MANY=$!
PIDS+=($MANY)
"$PUMP" echo "$LOC" "$TUN_N" "$DUR" > "$T/good.out" 2> "$T/good.err" &
GOOD=$!
PIDS+=($GOOD)
"$PUMP" slow "$LOC_SLOW" 5 "$DUR" > "$T/slow.out" 2> "$T/slow.err" &
PIDS+=($!)

# misbehaving clients, in a loop until the end of the run
printf 'GARBAGE\x00\x00\x00\xffnot a frame at all%.0s' $(seq 200) > "$T/garbage"
misbehave() {
    local end=$(($(date +%s) + DUR - 2)) i=0 fdv
    local -a held=()
    while [ "$(date +%s)" -lt "$end" ]; do
        i=$((i + 1))
        # garbage frames after a real atls/1 handshake
        timeout 5 openssl s_client -connect "127.0.0.1:$SRV" -alpn atls/1 -quiet \
            < "$T/garbage" > /dev/null 2>&1 || true
        # half-open: TCP connect, never handshake (kept open for a while, then dropped)
        exec {fdv}<> "/dev/tcp/127.0.0.1/$SRV" && held+=("$fdv")
        # handshake and never send
        (sleep 8 | timeout 10 openssl s_client -connect "127.0.0.1:$SRV" -alpn atls/1 -quiet \
            > /dev/null 2>&1 || true) &
        if [ ${#held[@]} -ge 10 ]; then
            for fdv in "${held[@]}"; do exec {fdv}>&-; done
            held=()
        fi
        sleep 0.5
    done
    for fdv in "${held[@]}"; do exec {fdv}>&-; done
    wait
    echo "$i" > "$T/misbehave.count"
}
misbehave &
MIS=$!
PIDS+=($MIS)

# sample serve's fds and RSS every second
: > "$T/samples"
start=$(date +%s)
while kill -0 "$GOOD" 2> /dev/null; do
    echo "$(($(date +%s) - start)) $(fds) $(rss)" >> "$T/samples"
    sleep 1
done
good_rc=0
wait "$GOOD" || good_rc=$?
many_rc=0
wait "$MANY" || many_rc=$?
MANYLINE=$(cat "$T/attest.out")
many_field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" "$T/attest.out" | head -n1; }
answered=$(many_field answered)
expected=$((N * DUR / REATT * 9 / 10))
wait "$MIS" 2> /dev/null || true

# first and last third: the maximum of each
# the first WARM seconds are the ramp (connections opening, the misbehaving clients' silent
# connections accumulating up to their steady number): compared are the thirds of the rest
WARM=$((DUR >= 40 ? 10 : 0))
awk -v w="$WARM" '$1 >= w' "$T/samples" > "$T/steady"
S=$(wc -l < "$T/steady")
third=$((S / 3))
[ "$third" -ge 1 ] || third=1
read -r fd1 rss1 <<< "$(head -n "$third" "$T/steady" | awk '{if($2>f)f=$2; if($3>r)r=$3} END {print f+0, r+0}')"
read -r fd3 rss3 <<< "$(tail -n "$third" "$T/steady" | awk '{if($2>f)f=$2; if($3>r)r=$3} END {print f+0, r+0}')"
read -r fdm rssm <<< "$(sed -n "$(($(wc -l < "$T/samples") / 2))p" "$T/samples" | awk '{print $2, $3}')"
fd0=$(head -n1 "$T/samples" | awk '{print $2}')
rss0=$(head -n1 "$T/samples" | awk '{print $3}')
fdz=$(tail -n1 "$T/samples" | awk '{print $2}')
rssz=$(tail -n1 "$T/samples" | awk '{print $3}')

GOODLINE=$(cat "$T/good.out")
echo "attested connections: $MANYLINE"
{ grep -v 'attested connections$' "$T/attest.err" || true; } | sed -n 1,10p
echo "good clients: $GOODLINE"
sed -n 1,10p "$T/good.err"
reatt=$(grep -c "appraisal tunnel=[^ ]* status=affirming" "$T/tunnel.log" || true)
reatt_slow=$(grep -c "appraisal tunnel=[^ ]* status=affirming" "$T/tunnel_slow.log" || true)
tfail=$(grep "appraisal tunnel=" "$T/tunnel.log" | grep -vc "appraisal tunnel=[^ ]* status=affirming" || true)
{ grep "appraisal tunnel=" "$T/tunnel.log" | grep -v "appraisal tunnel=[^ ]* status=affirming" || true; } | sed -n 1,5p
mis=$(cat "$T/misbehave.count" 2> /dev/null || echo 0)
slow_state=running
kill -0 "$TUN_SLOW" 2> /dev/null || slow_state="exited: $(tail -n1 "$T/tunnel_slow.log")"
echo "re-attestations: $reatt (good tunnel) + $reatt_slow (slow-reader tunnel, $slow_state); tunnel failures: $tfail"
echo "misbehaving rounds: $mis (each: 1 garbage, 1 half-open, 1 silent TLS connection)"
echo "serve fds start/middle/end: $fd0/$fdm/$fdz (max first third $fd1, last third $fd3)"
echo "serve RSS KiB start/middle/end: $rss0/$rssm/$rssz (max first third $rss1, last third $rss3)"

check "$N attested connections: no failure, no late answer ($MANYLINE)" [ "$many_rc" -eq 0 ]
check "... all $N opened and open at the end" grep -q "opened=$N .*open_at_end=$N " "$T/attest.out"
check "... re-attested as scheduled (${answered:-0} answered, at least $expected)" \
    [ "${answered:-0}" -ge "$expected" ]
check "good clients: no failure ($GOODLINE)" [ "$good_rc" -eq 0 ]
check "good clients made round trips" grep -qE "roundtrips=[1-9]" "$T/good.out"
check "the tunnel re-attested ($reatt appraisals, at least $TUN_N)" [ "$reatt" -ge "$TUN_N" ]
check "no appraisal of the tunnel failed ($tfail)" [ "$tfail" -eq 0 ]
check "the tunnel process is still running" kill -0 "$TUN"
check "serve is still running" kill -0 "$SERVE_PID"
check "fd count bounded: last third max $fd3 <= first third max $fd1 + 16" [ "$fd3" -le $((fd1 + 16)) ]
check "RSS bounded: last third max $rss3 KiB <= first third max $rss1 KiB + 8 MiB" \
    [ "$rss3" -le $((rss1 + 8192)) ]
check "a fresh attested connection at the end is affirmed" \
    timeout 20 "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" > /dev/null
if [ -n "${SOAK_REPORT:-}" ]; then
    {
        echo "| N attested connections | $N (one soak_attest process), each re-attesting every $REATT s against a strict policy, a 64-byte echo each second |"
        echo "| T | $DUR s |"
        echo "| attested connections | $MANYLINE |"
        echo "| good tunnel clients | $TUN_N (one \`atls connect -L --reattest 1\` listener; each an attested TLS connection): $GOODLINE |"
        echo "| re-attestations (affirming) | $reatt on the good tunnel, $reatt_slow on the slow-reader tunnel ($slow_state; informational); failed on the good tunnel: $tfail |"
        echo "| misbehaving clients | $mis rounds of: garbage frames after an atls/1 handshake, a half-open TCP connection, a TLS connection that never sends; 5 slow readers throughout |"
        echo "| serve fds start / middle / end | $fd0 / $fdm / $fdz (max of first third $fd1, of last third $fd3) |"
        echo "| serve RSS start / middle / end | $rss0 / $rssm / $rssz KiB (max of first third $rss1, of last third $rss3) |"
        echo "| fresh attested connection at the end | $( [ "$FAIL" -eq 0 ] && echo affirmed || echo 'see log') |"
        echo "| result | $PASS checks passed, $FAIL failed |"
    } >> "$SOAK_REPORT"
fi
finish
