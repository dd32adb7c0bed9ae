# test_cli_errors: bad flags, missing or unreadable files, an unreachable backend or server, a
# malformed policy, a port in use: each is exactly one line on stderr naming the problem and
# exit code 2 — never a crash or a hang. Every subcommand has --help.
source "$(dirname "$0")/lib.sh"

make_pki
make_sim sim
ECHO=$(free_port)
SRV=$(free_port)
DEAD=$(free_port)
start_backend echo "$ECHO"
CH=$(printf 'ab%.0s' $(seq 64))
echo '{"version": 1, "sim": {"keys": [], "bogus": 1}' > "$T/malformed.json"
echo '{"version": 1, "sim": {"keys": ["00"], "unknown_key": true}}' > "$T/unknown.json"
echo 'not a certificate' > "$T/garbage.pem"

# expect2 NAME PATTERN CMD...: exit 2, exactly one stderr line matching PATTERN, empty stdout
expect2() {
    local name=$1 pat=$2 rc
    shift 2
    RUN_TIMEOUT=20 run_cmd "$T/out" "$T/err" "$@"
    rc=$RC
    if [ "$rc" -eq 2 ] && one_line "$T/err" && grep -Eq -e "$pat" "$T/err" && [ ! -s "$T/out" ]; then
        ok "$name: $(cat "$T/err")"
    else
        bad "$name (exit $rc): $(cat "$T/err")"
    fi
}
SERVE=("$ATLS" serve --listen "127.0.0.1:$SRV" --cert "$T/server.pem" --key "$T/server.key"
       --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key")

expect2 "no command" "command is required" "$ATLS"
expect2 "unknown command" "unknown command 'frobnicate'" "$ATLS" frobnicate
expect2 "serve: unknown flag" "^atls serve: unknown option '--bogus'" "${SERVE[@]}" --bogus
expect2 "serve: flag without value" "option '--listen' needs a value" "$ATLS" serve --listen
expect2 "serve: missing required options" "are required" "$ATLS" serve --listen "127.0.0.1:$SRV"
expect2 "serve: bad listen address" "--listen 'nonsense'" "$ATLS" serve --listen nonsense \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key"
expect2 "serve: port out of range" "port 0..65535" "$ATLS" serve --listen 127.0.0.1:70000 \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key"
expect2 "serve: missing certificate file" "cannot read certificate $T/nope.pem" \
    "$ATLS" serve --listen "127.0.0.1:$SRV" --cert "$T/nope.pem" --key "$T/server.key" \
    --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key"
expect2 "serve: certificate file without a certificate" "holds no PEM certificate" \
    "$ATLS" serve --listen "127.0.0.1:$SRV" --cert "$T/garbage.pem" --key "$T/server.key" \
    --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key"
expect2 "serve: key does not match certificate" "does not match" \
    "$ATLS" serve --listen "127.0.0.1:$SRV" --cert "$T/server.pem" --key "$T/sim.key" \
    --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key"
expect2 "serve: unreadable sim key" "--sim-key $T/missing.key: cannot read" \
    "$ATLS" serve --listen "127.0.0.1:$SRV" --cert "$T/server.pem" --key "$T/server.key" \
    --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/missing.key"
expect2 "serve: unknown attester" "--attester 'sgx'" "$ATLS" serve --listen "127.0.0.1:$SRV" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" --attester sgx
expect2 "serve: TPM not reachable" "tpm2 attester" "$ATLS" serve --listen "127.0.0.1:$SRV" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" --attester tpm2 \
    --tpm-tcti "swtpm:host=127.0.0.1,port=$DEAD"
expect2 "serve: unreachable backend" "backend: cannot connect to 127.0.0.1:$DEAD" \
    "$ATLS" serve --listen "127.0.0.1:$SRV" --cert "$T/server.pem" --key "$T/server.key" \
    --backend "127.0.0.1:$DEAD" --attester sim --sim-key "$T/sim.key"
expect2 "serve: malformed client policy" "policy" "${SERVE[@]}" --client-policy "$T/malformed.json"
expect2 "serve: port in use" "cannot listen on 127.0.0.1:$ECHO: Address already in use" \
    "$ATLS" serve --listen "127.0.0.1:$ECHO" --cert "$T/server.pem" --key "$T/server.key" \
    --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key"

expect2 "connect: no server" "HOST:PORT of the server is required" "$ATLS" connect --no-policy
expect2 "connect: no policy" "--policy FILE is required" "$ATLS" connect "127.0.0.1:$SRV"
expect2 "connect: malformed policy" "^atls connect: policy: " \
    "$ATLS" connect "127.0.0.1:$SRV" --policy "$T/malformed.json"
expect2 "connect: policy with an unknown key" "unknown_key" \
    "$ATLS" connect "127.0.0.1:$SRV" --policy "$T/unknown.json"
expect2 "connect: policy file missing" "$T/none.json" \
    "$ATLS" connect "127.0.0.1:$SRV" --policy "$T/none.json"
expect2 "connect: policy is a directory" "$T" "$ATLS" connect "127.0.0.1:$SRV" --policy "$T"
expect2 "connect: missing CA file" "--ca $T/none.pem" \
    "$ATLS" connect "127.0.0.1:$SRV" --ca "$T/none.pem" --no-policy
expect2 "connect: unreachable server" "cannot connect to 127.0.0.1:$DEAD" \
    "$ATLS" connect "127.0.0.1:$DEAD" --ca "$T/ca.pem" --no-policy
expect2 "connect: unknown host" "cannot resolve" \
    "$ATLS" connect "no-such-host.invalid:443" --ca "$T/ca.pem" --no-policy
expect2 "connect: bad reattest" "--reattest 'soon'" \
    "$ATLS" connect "127.0.0.1:$SRV" --no-policy -L 127.0.0.1:0 --reattest soon
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester sim --sim-key "$T/sim.key"
expect2 "connect: -L port in use" "cannot listen on 127.0.0.1:$ECHO" \
    "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --no-policy -L "127.0.0.1:$ECHO"
expect2 "policy: no subcommand" "policy init" "$ATLS" policy
expect2 "policy init: bad address" "expected HOST:PORT" "$ATLS" policy init nohostport

expect2 "verify: no evidence" "--evidence FILE is required" "$ATLS" verify
expect2 "verify: missing evidence file" "$T/none.cmw" "$ATLS" verify --evidence "$T/none.cmw"
expect2 "verify: bad challenge" "exactly 64 bytes" "$ATLS" verify --evidence "$T/garbage.pem" --challenge abcd
expect2 "verify: bad --at" "RFC 3339" "$ATLS" verify --evidence "$T/garbage.pem" --at yesterday
expect2 "verify: unknown format" "--format 'nope'" "$ATLS" verify --evidence "$T/garbage.pem" --format nope
expect2 "verify: unknown evidence" "give --format" "$ATLS" verify --evidence "$T/garbage.pem"
expect2 "verify: trust anchor without certificate or key" "no PEM certificate or public key" \
    "$ATLS" verify --evidence "$T/garbage.pem" --trust-anchor "$T/garbage.pem"
expect2 "evidence: short challenge" "exactly 64 bytes" \
    "$ATLS" evidence --attester sim --sim-key "$T/sim.key" --challenge 0011
expect2 "evidence: no attester" "are required" "$ATLS" evidence --challenge "$CH"
expect2 "evidence: tpm option with sim" "--tpm-\* options need --attester tpm2" \
    "$ATLS" evidence --attester sim --sim-key "$T/sim.key" --tpm-pcrs sha256:0 --challenge "$CH"
expect2 "evidence: bad sim measurements" "sim" "$ATLS" evidence --attester sim \
    --sim-key "$T/sim.key" --sim-measurements "$T/garbage.pem" --challenge "$CH" -o "$T/x"

for cmd in serve connect "policy init" verify evidence; do
    # shellcheck disable=SC2086
    RUN_TIMEOUT=5 run_cmd "$T/help" "$T/help.err" "$ATLS" $cmd --help
    check "atls $cmd --help exits 0 with usage" bash -c "[ $RC -eq 0 ] && grep -q '^usage: atls' '$T/help' && [ ! -s '$T/help.err' ]"
done
RUN_TIMEOUT=5 run_cmd "$T/v" "$T/v.err" "$ATLS" --version
check "atls --version exits 0 ($RC)" [ "$RC" -eq 0 ]
check "atls --version prints exactly one line" one_line "$T/v"
check "... 'atls X.Y.Z'" grep -Eq '^atls [0-9]+\.[0-9]+\.[0-9]+$' "$T/v"
check "atls --version writes nothing on stderr" [ ! -s "$T/v.err" ]
finish
