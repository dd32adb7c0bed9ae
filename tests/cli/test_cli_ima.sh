# test_cli_ima: runtime measurements on a live connection. atls serve with the tpm2 attester on
# a private swtpm sends its IMA measurement list (a file the test writes as the kernel would,
# extending PCR 10 on the swtpm for each entry); policy init builds an IMA allow list from the
# known-good list; a -L tunnel re-attests every second. A new measurement of a file the allow
# list (a Keylime-style allowlist_file) names keeps it affirming; a file it does not name makes
# the next re-attestation contraindicated: the tunnel closes and says which file.
source "$(dirname "$0")/lib.sh"
command -v tpm2_pcrextend > /dev/null || skip "needs swtpm and tpm2-tools (tpm2_pcrextend not installed)"
command -v python3 > /dev/null || { bad "python3 missing (scripts/setup-deps installs it)"; exit 1; }
APPEND="python3 $(dirname "$0")/ima_append.py"

make_pki
start_swtpm
# measure PATH: append its entry to the list and extend PCR 10 the way the kernel does
measure() {
    local d
    d=$($APPEND "$T/ima.bin" "$1" 2>> "$T/digests.txt")
    TPM2TOOLS_TCTI="$TCTI" tpm2_pcrextend "10:sha256=$d" > /dev/null
}
: > "$T/ima.bin"
measure boot_aggregate
measure /usr/bin/bash
measure /usr/lib/libc.so.6

SRV=$(free_port)
ECHO=$(free_port)
LOC=$(free_port)
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester tpm2 --tpm-tcti "$TCTI" \
    --tpm-pcrs sha256:0-7,10 --ima-log "$T/ima.bin"

run_cmd "$T/policy0.json" "$T/policy.err" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem"
check "policy init against the IMA-measuring server succeeds" [ "$RC" -eq 0 ]
check "the policy has an IMA allow list with the measured files" \
    jq -e '.tpm2.ima.allowlist["/usr/bin/bash"] | length == 1' "$T/policy0.json"
check "... and boot_aggregate" jq -e '.tpm2.ima.allowlist | has("boot_aggregate")' "$T/policy0.json"
check "PCR 10 is not pinned (its events are the policy)" \
    jq -e '.tpm2.pcrs.sha256 | has("10") | not' "$T/policy0.json"
# the distribution's list of good files, read at each appraisal (Keylime runtime policy layout)
printf '{"digests": {"/usr/bin/allowed-later": ["%s"]}, "excludes": ["^/tmp/"]}\n' \
    "$(printf '/usr/bin/allowed-later' | sha256sum | cut -d' ' -f1)" > "$T/allow.json"
jq --arg f "$T/allow.json" '.tpm2.ima.allowlist_file = $f' "$T/policy0.json" > "$T/policy.json"

run_cmd "$T/ear.txt" "$T/ear.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
    --policy "$T/policy.json"
check "connect --policy affirms (exit $RC)" [ "$RC" -eq 0 ]
check "the summary says affirming" grep -q "status: affirming" "$T/ear.txt"

# ---- offline: atls evidence carries the logs in its CMW; atls verify and policy init read them ----
CH=$(openssl rand -hex 64)
setup_cmd "$T/ev.out" "$ATLS" evidence --attester tpm2 --tpm-tcti "$TCTI" --tpm-pcrs sha256:0-7,10 \
    --ima-log "$T/ima.bin" --challenge "$CH" -o "$T/ev.cmw"
run_cmd "$T/v.json" "$T/v.err" "$ATLS" verify --evidence "$T/ev.cmw" --challenge "$CH" \
    --policy "$T/policy.json" --json
check "atls verify: the offline CMW with its IMA list affirms (exit $RC)" [ "$RC" -eq 0 ]
check "  its IMA list replayed to the quoted PCR 10, every entry covered" \
    jq -e '.submods.tpm2.ear_attester_claims.eventlogs.ima | .covered == [10] and
        .complete and (.events | length) == 3' "$T/v.json"
run_cmd "$T/policy-file.json" "$T/policy-file.err" "$ATLS" policy init --evidence "$T/ev.cmw"
check "policy init --evidence gives the live server's IMA allow list and PCRs" \
    bash -c "cmp <(jq -S '.tpm2 | {ima, pcrs}' '$T/policy0.json') <(jq -S '.tpm2 | {ima, pcrs}' '$T/policy-file.json')"
# Debian's python3 has python3-cbor2 (scripts/setup-deps)
/usr/bin/python3 -c 'import cbor2, sys
c = cbor2.load(open(sys.argv[1], "rb")); del c["ima-log"]; open(sys.argv[2], "wb").write(cbor2.dumps(c))' \
    "$T/ev.cmw" "$T/no-ima.cmw"
run_cmd "$T/noima.out" "$T/noima.err" "$ATLS" verify --evidence "$T/no-ima.cmw" --challenge "$CH" \
    --policy "$T/policy.json"
check "the CMW without its IMA list: the ima policy refuses it (exit 1)" [ "$RC" -eq 1 ]
check "  saying no IMA list came" grep -q "no IMA measurement list came with the Evidence" "$T/noima.err"

"$ATLS" connect -v "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/policy.json" \
    -L "127.0.0.1:$LOC" --reattest 1 2> "$T/tunnel.log" &
TUN=$!
PIDS+=($TUN)
wait_port "$LOC"
exec 3<> "/dev/tcp/127.0.0.1/$LOC"
echo "before" >&3
read -r -t 10 line <&3 || true
check "data flows through the attested tunnel" [ "$line" = "before" ]

# allowed: a file of the allow-list file, an excluded path, a file that ran before
measure /usr/bin/allowed-later
measure /tmp/scratch
measure /usr/bin/bash
n0=$(grep -c "appraisal tunnel=[0-9][0-9]* status=affirming" "$T/tunnel.log" || true)
wait_until 15 count_at_least $((n0 + 2)) "$T/tunnel.log" "appraisal tunnel=[0-9][0-9]* status=affirming" || true
n=$(grep -c "appraisal tunnel=[0-9][0-9]* status=affirming" "$T/tunnel.log" || true)
check "after allowed measurements re-attestation stays affirming ($n0 then $n)" [ "$n" -ge $((n0 + 2)) ]
check "the tunnel is still up" kill -0 "$TUN"
echo "middle" >&3
read -r -t 10 line <&3 || true
check "data still flows" [ "$line" = "middle" ]

measure /usr/bin/evil
rc=0
timeout 15 bash -c "while kill -0 $TUN 2>/dev/null; do sleep 0.05; done" || rc=$?
wait "$TUN" || rc=$?
check "connect exits with 1 after the disallowed measurement (exit $rc)" [ "$rc" -eq 1 ]
check "the reason names the file" grep -Eq "tunnel_closed tunnel=[0-9]+ what=\"attestation failed\" reason=\"contraindicated: .*/usr/bin/evil.*not in the allow list.* listener=closing" "$T/tunnel.log"
exec 3>&-
run_cmd "$T/after.out" "$T/after.err" "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" \
    --policy "$T/policy.json"
check "a new connection is contraindicated too (exit $RC): the file stays in the history" [ "$RC" -eq 1 ]
check "with one line naming the file" grep -q "/usr/bin/evil" "$T/after.err"
check "serve is still running" kill -0 "$SERVE_PID"
finish
