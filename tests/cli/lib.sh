# lib.sh: shared helpers for the CLI tests (sourced). Everything runs on 127.0.0.1, in a temp
# dir, and is stopped by pid from the EXIT trap.
set -euo pipefail

B=${ATLS_BUILD_DIR:?ATLS_BUILD_DIR must point at the build directory}
ATLS=$B/atls
BACKEND=$B/atls-echo-backend
PASS=0
FAIL=0
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-cli-XXXXXX")
PIDS=()
: > "$T/ports"

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$T"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
# check DESCRIPTION COMMAND...: the command must succeed
check() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else bad "$d"; fi
}
finish() {
    # sanitizer reports in any log of a background process (ATLS_SANITIZE builds)
    if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log 2> /dev/null; then
        bad "sanitizer report in a log (see above)"
        grep -h -A20 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log | head -60
    fi
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
skip() { echo "SKIPPED: $*"; exit 77; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port [N]: a port P with P..P+N-1 not in use and not handed out before by this test
free_port() {
    local n=${1:-1} p i
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768-60999)
        local clash=0
        for ((i = 0; i < n; i++)); do
            if grep -qx "$((p + i))" "$T/ports" || port_busy $((p + i)); then clash=1; fi
        done
        if [ $clash -eq 0 ]; then
            for ((i = 0; i < n; i++)); do echo $((p + i)) >> "$T/ports"; done
            echo "$p"
            return 0
        fi
    done
    echo "no free port" >&2
    return 1
}

# wait_port PORT: until something listens (15 s: sanitizer builds start slowly)
wait_port() {
    for _ in $(seq 300); do
        if port_busy "$1"; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2
    tail -n 5 "$T"/*.log >&2 2> /dev/null || true
    return 1
}

# make_pki: CA and a server certificate for localhost / 127.0.0.1 in $T
make_pki() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
        -out "$T/ca.pem" -days 2 -subj "/CN=atls test CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/server.key" \
        -out "$T/server.csr" -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$T/ext.cnf"
    openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
        -out "$T/server.pem" -days 2 -extfile "$T/ext.cnf" 2>/dev/null
}

# make_sim NAME: a sim signing key $T/NAME.key and measurements $T/meas.json
make_sim() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null
    [ -f "$T/meas.json" ] || printf '{"firmware": "%s", "kernel": "%s"}\n' \
        "$(printf '11%.0s' $(seq 32))" "$(printf '22%.0s' $(seq 32))" > "$T/meas.json"
}

# start_backend MODE PORT [ARG]: MODE echo|http|sink (ARG: the sink file)
start_backend() {
    case $1 in
    echo) "$BACKEND" "$2" & ;;
    http) "$BACKEND" --http "$2" & ;;
    sink) "$BACKEND" --sink "$3" "$2" & ;;
    esac
    PIDS+=($!)
    wait_port "$2"
}

# start_serve LOG PORT ARGS...: atls serve -v in the background; sets SERVE_PID
start_serve() {
    local log=$1 port=$2
    shift 2
    "$ATLS" serve -v --listen "127.0.0.1:$port" --cert "$T/server.pem" --key "$T/server.key" "$@" \
        2> "$log" &
    SERVE_PID=$!
    PIDS+=($SERVE_PID)
    wait_port "$port"
}

# start_swtpm: a private swtpm; sets TCTI and SWTPM_PORT
start_swtpm() {
    command -v swtpm > /dev/null || skip "swtpm not installed"
    local d p
    d=$(mktemp -d "$T/swtpm-XXXXXX")
    p=$(free_port 2)
    swtpm socket --tpm2 --tpmstate "dir=$d" --server "type=tcp,port=$p,bindaddr=127.0.0.1" \
        --ctrl "type=tcp,port=$((p + 1)),bindaddr=127.0.0.1" --flags not-need-init,startup-clear \
        --daemon --pid "file=$d/pid" --log "file=$d/log"
    for _ in $(seq 100); do [ -s "$d/pid" ] && break; sleep 0.02; done
    PIDS+=($(cat "$d/pid"))
    wait_port "$p"
    SWTPM_PORT=$p
    TCTI="swtpm:host=127.0.0.1,port=$p"
}

# one_line FILE: the file holds exactly one line
one_line() { [ "$(wc -l < "$1")" -eq 1 ]; }
