# services.sh: loopback services for the shell scripts (sourced by tests/cli/lib.sh and
# scripts/demo): free ports that no other test takes, waiting to a deadline, a private swtpm.
# Bash only; uses flock and setpriv (util-linux, on every Debian).

# Ports are handed out below the ephemeral range (32768-60999), so no outgoing connection
# takes one, and claimed in a machine-wide folder under a lock, so two tests that CTest (or two
# engineers' suites) run at the same time never get the same port. A claim is a file named
# after the port holding the claimer's pid ($$: the script, also inside $(...)); it is released
# by release_ports and is stale, free for the next claimer, once that pid is gone (a test
# killed at its time limit).
SVC_CLAIMS=${ATLS_PORT_CLAIMS:-${TMPDIR:-/tmp}/atls-port-claims}
SVC_MINE=${SVC_MINE:-} # a file listing the ports this script claimed (set by the caller)

port_busy() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# port_claimed PORT: a live process holds the claim on PORT
port_claimed() {
    local owner
    owner=$(cat "$SVC_CLAIMS/$1" 2> /dev/null) || return 1
    [ -n "$owner" ] && kill -0 "$owner" 2> /dev/null
}

# free_port [N]: prints a port P with P..P+N-1 unclaimed and not in use, now claimed by $$
free_port() {
    local n=${1:-1} p i clash lock
    mkdir -p "$SVC_CLAIMS" || return 1
    exec {lock}> "$SVC_CLAIMS/.lock"
    if ! flock -w 30 "$lock"; then
        echo "free_port: cannot lock $SVC_CLAIMS/.lock" >&2
        exec {lock}>&-
        return 1
    fi
    for _ in $(seq 500); do
        p=$((20000 + RANDOM % 12000))
        clash=0
        for ((i = 0; i < n; i++)); do
            if port_claimed $((p + i)) || port_busy $((p + i)); then clash=1; break; fi
        done
        if [ $clash -eq 0 ]; then
            for ((i = 0; i < n; i++)); do
                echo $$ > "$SVC_CLAIMS/$((p + i))"
                [ -z "$SVC_MINE" ] || echo $((p + i)) >> "$SVC_MINE"
            done
            exec {lock}>&-
            echo "$p"
            return 0
        fi
    done
    exec {lock}>&-
    echo "free_port: no free port" >&2
    return 1
}

# release_ports: drop this script's claims (those in $SVC_MINE still holding $$)
release_ports() {
    local p
    [ -n "$SVC_MINE" ] && [ -f "$SVC_MINE" ] || return 0
    while read -r p; do
        [ "$(cat "$SVC_CLAIMS/$p" 2> /dev/null)" = "$$" ] && rm -f "$SVC_CLAIMS/$p"
    done < "$SVC_MINE"
    : > "$SVC_MINE"
}

# now_us: microseconds since the epoch
now_us() { echo "${EPOCHREALTIME/./}"; }

# wait_until SECONDS CMD...: polls CMD every 50 ms until it succeeds (0) or SECONDS (may have
# a fraction: 2.5) pass (1). Used instead of a fixed sleep before looking at a log or a count.
wait_until() {
    local whole=${1%.*} frac=
    [[ $1 == *.* ]] && frac=${1#*.}
    frac=${frac}000000
    local deadline=$(($(now_us) + ${whole:-0} * 1000000 + 10#${frac:0:6}))
    shift
    while :; do
        if "$@"; then return 0; fi
        [ "$(now_us)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# wait_port PORT [SECONDS]: until something listens (default 15 s: sanitizer builds start
# slowly)
wait_port() {
    if wait_until "${2:-15}" port_busy "$1"; then return 0; fi
    echo "nothing listens on port $1" >&2
    return 1
}

# swtpm_start DIR: a private swtpm with its state in DIR, as a child of this shell (never a
# daemon, which would outlive a test killed at its time limit) under setpriv --pdeathsig, so
# the kernel kills it with this shell whatever ends it. Call it from the main shell, not from
# $(...) or a pipeline (the death signal follows the parent). Sets SWTPM_PID, SWTPM_PORT and
# TCTI. Retries when a port was taken in the meantime.
swtpm_start() {
    local dir=$1 p
    mkdir -p "$dir"
    for _ in 1 2 3 4 5; do
        p=$(free_port 2) || return 1
        setpriv --pdeathsig KILL swtpm socket --tpm2 --tpmstate "dir=$dir" \
            --server "type=tcp,port=$p,bindaddr=127.0.0.1" \
            --ctrl "type=tcp,port=$((p + 1)),bindaddr=127.0.0.1" \
            --flags not-need-init,startup-clear --log "file=$dir/log" &
        SWTPM_PID=$!
        wait_until 10 swtpm_up_or_gone "$p" || true
        if kill -0 "$SWTPM_PID" 2> /dev/null && port_busy "$p"; then
            SWTPM_PORT=$p
            TCTI="swtpm:host=127.0.0.1,port=$p"
            return 0
        fi
        kill "$SWTPM_PID" 2> /dev/null || true
        wait "$SWTPM_PID" 2> /dev/null || true
    done
    echo "swtpm did not start (log: $(tail -n 3 "$dir/log" 2> /dev/null))" >&2
    return 1
}
swtpm_up_or_gone() { port_busy "$1" || ! kill -0 "$SWTPM_PID" 2> /dev/null; }
