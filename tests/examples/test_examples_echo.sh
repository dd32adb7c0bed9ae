#!/usr/bin/env bash
# examples_echo: examples/echo/{echo,attested_echo}_{server,client}.c.
#   - the attested programs differ from the plain ones by at most 15 added lines each (diff of
#     the files after their leading comment, blank lines not counted), and use only the
#     public header <atls/ssl.h> of atls;
#   - the plain pair echoes over TLS on 127.0.0.1;
#   - the attested pair echoes with a policy from `atls policy init` against the attested
#     server (the server's sim key pinned), and with a policy for another key the client sends
#     nothing, fails saying why, and the server stays up for the next client;
#   - mixing them fails closed: a plain client gets no echo from the attested server, and the
#     attested client refuses a plain server (no atls/1).
# shellcheck source=../cli/lib.sh
source "$(dirname "$0")/../cli/lib.sh"
S=${ATLS_SOURCE_DIR:?}
SRC=$S/examples/echo
E=$B/examples
for b in echo_server echo_client attested_echo_server attested_echo_client; do
    [ -x "$E/$b" ] || { bad "$E/$b is not built"; exit 1; }
done

in_range() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
not() { ! "$@"; }

# 1. the size of the change
added_lines() {
    diff <(sed '1,/^ \*\//d' "$1") <(sed '1,/^ \*\//d' "$2") | grep '^>' | grep -vc '^>[[:space:]]*$' || true
}
for side in server client; do
    n=$(added_lines "$SRC/echo_$side.c" "$SRC/attested_echo_$side.c")
    check "attested_echo_$side adds $n lines to echo_$side (at most 15)" in_range "$n" 1 15
    includes=$(grep -ho '#include [<"][^>"]*[>"]' "$SRC/attested_echo_$side.c" | grep -E 'atls|"' | tr '\n' ' ')
    check "attested_echo_$side includes only <atls/ssl.h> of atls ($includes)" \
        [ "$includes" = "#include <atls/ssl.h> " ]
done

make_pki
make_sim sim
make_sim other
key_id() { openssl pkey -in "$1" -pubout -outform DER 2> /dev/null | sha256sum | cut -d' ' -f1; }

# start_server BINARY PORT ARGS...: in the background, until it listens
start_server() {
    local bin=$1 port=$2
    shift 2
    "$E/$bin" "$port" "$T/server.pem" "$T/server.key" "$@" > "$T/$bin-$port.out" \
        2> "$T/$bin-$port.log" &
    PIDS+=($!)
    wait_port "$port" || { bad "$bin does not listen on $port"; exit 1; }
}

# 2. the plain pair
PLAIN=$(free_port)
start_server echo_server "$PLAIN"
run_cmd "$T/plain.out" "$T/plain.err" "$E/echo_client" localhost "$PLAIN" "$T/ca.pem" "hello plain"
check "plain client: exit 0 (exit $RC; $(head -c 300 "$T/plain.err"))" [ "$RC" -eq 0 ]
check "plain client: the echo" [ "$(cat "$T/plain.out")" = "hello plain" ]

# 3. the attested pair
ATT=$(free_port)
start_server attested_echo_server "$ATT" "key=$T/sim.key"
setup_cmd "$T/policy.json" "$ATLS" policy init "localhost:$ATT" --ca "$T/ca.pem"
check "policy init pins the server's sim key" grep -q "$(key_id "$T/sim.key")" "$T/policy.json"
run_cmd "$T/att.out" "$T/att.err" "$E/attested_echo_client" localhost "$ATT" "$T/ca.pem" \
    "hello attested" "$T/policy.json"
check "attested client: exit 0 (exit $RC; $(head -c 300 "$T/att.err"))" [ "$RC" -eq 0 ]
check "attested client: the echo" [ "$(cat "$T/att.out")" = "hello attested" ]

# with a policy for another attestation key: refused before any byte is sent
sed "s/$(key_id "$T/sim.key")/$(key_id "$T/other.key")/" "$T/policy.json" > "$T/wrong.json"
check "the wrong policy differs from the good one" not cmp -s "$T/policy.json" "$T/wrong.json"
run_cmd "$T/wrong.out" "$T/wrong.err" "$E/attested_echo_client" localhost "$ATT" "$T/ca.pem" \
    "secret" "$T/wrong.json"
check "wrong policy: the client fails (exit $RC)" [ "$RC" -eq 1 ]
check "wrong policy: no echo" [ ! -s "$T/wrong.out" ]
check "wrong policy: the client says the policy refused the key ($(grep -m1 atls "$T/wrong.err"))" \
    grep -Eq ':atls:atls_write(_ex)?:attestation key not trusted:.*not in the policy' "$T/wrong.err"
check "wrong policy: the server never received the message" \
    wait_until 5 log_has "$T/attested_echo_server-$ATT.log" 'connection failed'
check "wrong policy: ... and told the client's error reason apart (peer error in its log)" \
    log_has "$T/attested_echo_server-$ATT.log" 'peer reported error'
run_cmd "$T/att2.out" "$T/att2.err" "$E/attested_echo_client" localhost "$ATT" "$T/ca.pem" \
    "again" "$T/policy.json"
check "the attested server serves the next client (exit $RC)" [ "$RC.$(cat "$T/att2.out")" = 0.again ]

# 4. mixed pairs fail closed
run_cmd "$T/mix1.out" "$T/mix1.err" "$E/echo_client" localhost "$ATT" "$T/ca.pem" "plain?"
check "plain client, attested server: no echo (exit $RC)" [ "$RC.$(cat "$T/mix1.out")" = 1. ]
run_cmd "$T/mix2.out" "$T/mix2.err" "$E/attested_echo_client" localhost "$PLAIN" "$T/ca.pem" \
    "attested?" "$T/policy.json"
check "attested client, plain server: refused (exit $RC)" [ "$RC.$(cat "$T/mix2.out")" = 1. ]
finish
