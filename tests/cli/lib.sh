# lib.sh: shared helpers for the CLI tests (sourced). Everything runs on 127.0.0.1, in a temp
# dir, and is stopped by pid from the EXIT trap (also on TERM/INT; CTest's kill at a time limit
# takes the whole process tree, and swtpm dies with the script through --pdeathsig).
#
# How a test cannot pass for the wrong reason (docs/SECURITY.md, "How the suite guards"):
#   - sanitized binaries exit 86 on a report (cmake/sanitizer_options.c), never an exit code a
#     test expects; run_cmd and check fail on 86 or a sanitizer report in the command's stderr;
#   - finish stops the background processes first (so their exit-time leak reports are
#     written), fails on any of them that exited 86, and scans every file under $T (each log,
#     each captured stderr, and the script's own stderr) for sanitizer reports;
#   - a missing binary or temp dir is a failure (exit 1), never a skip; finish fails when no
#     check ran;
#   - ports come from the lock-protected allocator of scripts/lib/services.sh (free_port), so
#     tests running in parallel never share one; wait_until polls to a deadline instead of a
#     fixed sleep.
set -euo pipefail

B=${ATLS_BUILD_DIR:?ATLS_BUILD_DIR must point at the build directory}
ATLS=$B/atls
BACKEND=$B/atls-echo-backend
PASS=0
FAIL=0
PIDS=()
SAN_EXIT=86
SAN_RE='ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: (Address|Undefined|Leak)'
for bin in "$ATLS" "$BACKEND"; do
    [ -x "$bin" ] || { echo "FAIL - $bin is not built (ATLS_BUILD_DIR=$B)"; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-cli-XXXXXX") || { echo "FAIL - mktemp -d failed"; exit 1; }
[ -d "$T" ] || { echo "FAIL - no temp dir"; exit 1; }
SVC_MINE=$T/ports
: > "$SVC_MINE"
# shellcheck source=../../scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/services.sh"
# a copy of everything the script and its foreground commands write to stderr, for finish
exec {STDERR_ORIG}>&2
exec 2> >(tee -a "$T/script.stderr" >&"$STDERR_ORIG")
TEE_PID=$!
# end_stderr_copy: stderr back to the original, the copy complete on disk (tee ends when the
# last writer is gone: up to 2 s for a stray child that still holds the pipe)
end_stderr_copy() {
    [ -n "${TEE_PID:-}" ] || return 0
    exec 2>&"$STDERR_ORIG"
    wait_until 2 eval '! kill -0 "$TEE_PID" 2> /dev/null' || kill "$TEE_PID" 2> /dev/null || true
    wait "$TEE_PID" 2> /dev/null || true
    TEE_PID=
}

# stop_all: SIGTERM to every background process, reaped; one that exited 86 is a failure
stop_all() {
    local p rc
    for p in "${PIDS[@]}"; do
        kill "$p" 2> /dev/null || true
    done
    for p in "${PIDS[@]}"; do
        rc=0
        wait "$p" 2> /dev/null || rc=$?
        if [ "$rc" -eq "$SAN_EXIT" ]; then bad "background process $p exited $SAN_EXIT (sanitizer report)"; fi
    done
    PIDS=()
}
cleanup() {
    stop_all
    end_stderr_copy
    release_ports
    [ -n "${KEEP_T:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }

# sanitizer_report FILE...: 0 (and the report printed) if any FILE holds a sanitizer report
sanitizer_report() {
    local f found=1
    for f in "$@"; do
        [ -f "$f" ] || continue
        if grep -a -q -E "$SAN_RE" "$f"; then
            found=0
            echo "sanitizer report in $f:"
            grep -a -h -A20 -E "$SAN_RE" "$f" | head -40
        fi
    done
    return $found
}

# check DESCRIPTION COMMAND...: the command must succeed (exit 86, a sanitizer's, never counts)
check() {
    local d=$1 rc=0
    shift
    "$@" || rc=$?
    if [ "$rc" -eq "$SAN_EXIT" ]; then
        bad "$d: exit $SAN_EXIT (sanitizer report)"
    elif [ "$rc" -eq 0 ]; then ok "$d"; else bad "$d"; fi
}

# run_cmd OUT ERR CMD...: runs CMD under `timeout ${RUN_TIMEOUT:-30}` with stdout to OUT and
# stderr to ERR and sets RC to its exit code. A sanitizer exit (86) or report in ERR is a
# failure of its own, whatever exit code the caller then expects. Use it for every program of
# ours that a test runs in the foreground.
run_cmd() {
    local out=$1 err=$2
    shift 2
    RC=0
    timeout "${RUN_TIMEOUT:-30}" "$@" > "$out" 2> "$err" || RC=$?
    if [ "$RC" -eq "$SAN_EXIT" ] || sanitizer_report "$err"; then
        bad "sanitizer report (exit $RC) from: $*"
    fi
}

# setup_cmd OUT CMD...: a setup step (run_cmd; stderr in OUT.err) that must exit 0: otherwise
# the test stops here with a failure, its stderr shown
setup_cmd() {
    local out=$1
    shift
    run_cmd "$out" "$out.err" "$@"
    if [ "$RC" -ne 0 ]; then
        bad "setup step failed (exit $RC): $*: $(head -c 600 "$out.err")"
        exit 1
    fi
}

# finish: stops the background processes, fails on sanitizer reports anywhere under $T, prints
# the summary; exit 0 only if every check passed and at least one ran
finish() {
    stop_all
    end_stderr_copy
    local files
    mapfile -t files < <(find "$T" -type f -size -20M ! -name ports)
    if [ "${#files[@]}" -gt 0 ] && sanitizer_report "${files[@]}"; then
        bad "sanitizer report in a log or captured stderr (see above)"
    fi
    [ "$PASS" -gt 0 ] || bad "no check ran"
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
skip() { echo "SKIPPED: $*"; exit 77; }

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
    echo) "$BACKEND" "$2" 2> "$T/backend-$2.log" & ;;
    http) "$BACKEND" --http "$2" 2> "$T/backend-$2.log" & ;;
    sink) "$BACKEND" --sink "$3" "$2" 2> "$T/backend-$2.log" & ;;
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

# start_swtpm: a private swtpm (scripts/lib/services.sh swtpm_start); sets TCTI and SWTPM_PORT.
# Skips (77) without swtpm: a test that needs it is labelled `swtpm`, and CI fails such a skip.
start_swtpm() {
    command -v swtpm > /dev/null || skip "needs swtpm (not installed)"
    swtpm_start "$T/swtpm"
    PIDS+=($SWTPM_PID)
}

# log_has FILE PATTERN: FILE has a line matching the extended regex PATTERN (for wait_until)
log_has() { grep -Eq -e "$2" "$1" 2> /dev/null; }
# count_at_least N FILE PATTERN: at least N lines of FILE match PATTERN (for wait_until)
count_at_least() { [ "$(grep -Ec -e "$3" "$2" 2> /dev/null || true)" -ge "$1" ]; }

# one_line FILE: the file holds exactly one line
one_line() { [ "$(wc -l < "$1")" -eq 1 ]; }

# stop_swtpm / restart_swtpm: the private swtpm of start_swtpm goes away (SIGTERM, reaped) and
# comes back on the same port with the same state (a TPM restarted under a running service)
stop_swtpm() {
    kill "$SWTPM_PID" 2> /dev/null || true
    wait "$SWTPM_PID" 2> /dev/null || true
    wait_until 5 eval '! port_busy "$SWTPM_PORT"' || true
}
restart_swtpm() {
    setpriv --pdeathsig KILL swtpm socket --tpm2 --tpmstate "dir=$T/swtpm" \
        --server "type=tcp,port=$SWTPM_PORT,bindaddr=127.0.0.1" \
        --ctrl "type=tcp,port=$((SWTPM_PORT + 1)),bindaddr=127.0.0.1" \
        --flags not-need-init,startup-clear --log "file=$T/swtpm/log" &
    SWTPM_PID=$!
    PIDS+=($SWTPM_PID)
    wait_port "$SWTPM_PORT" 10
}
