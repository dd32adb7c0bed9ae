# test_attack_demo: scripts/attack-demo (linked from the README) as a user runs it: exit 0,
# "Demo OK", each of the four steps with its verdict in order (diversion and relay succeed
# against the INSECURE baseline and fail against atls), the evidence of each verdict (S2 and A
# received the secrets; atls refused by name), no sanitizer report, its temp dir removed.
source "$(dirname "$0")/lib.sh"
command -v jq > /dev/null || { bad "jq is needed (scripts/setup-deps installs it)"; finish; exit 1; }

RUN_TIMEOUT=60 run_cmd "$T/demo.out" "$T/demo.err" bash "$ATLS_SOURCE_DIR/scripts/attack-demo" "$B"
check "scripts/attack-demo exits 0 (exit $RC)" [ "$RC" -eq 0 ]
check "it says Demo OK" grep -q "^==> Demo OK: both attacks succeed against the INSECURE baseline and fail against atls." "$T/demo.out"
grep -E "^ATTACK (SUCCEEDS|DEFEATED|FAILED)" "$T/demo.out" > "$T/verdicts" || true
cat > "$T/expected" <<'V'
ATTACK SUCCEEDS: diversion against the RA-only baseline
ATTACK DEFEATED: diversion against atls
ATTACK SUCCEEDS: relay against the baseline's binder #6
ATTACK DEFEATED: relay against atls
V
check "the four verdicts, in order" diff "$T/expected" "$T/verdicts"
check "no outcome was unexpected" bash -c "! grep -q UNEXPECTED '$T/demo.out'"
check "the diverted client attested S2 (affirming)" grep -q "^    INSECURE: status: affirming" "$T/demo.out"
check "... and S2 received its secret" grep -q "S2's backend received the secret" "$T/demo.out"
check "atls refused S2 for its name" grep -q "certificate verification failed: hostname mismatch" "$T/demo.out"
check "A relayed S1's fresh Evidence once" [ "$(grep -c "A: opened my own handshake to S1" "$T/demo.out")" -eq 1 ]
check "... and read the baseline client's secret" grep -q "A: read the victim's secret: \"password hunter2\"" "$T/demo.out"
check "against atls A sent a valid authenticator around S1's Evidence" grep -q "A: fetched S1's fresh Evidence" "$T/demo.out"
check "... which the client refused (challenge)" grep -q "A: the victim refused: .*challenge" "$T/demo.out"
check "... and A read nothing there" [ "$(grep -c "A: read the victim's secret" "$T/demo.out")" -eq 1 ]
dir=$(sed -n 's/^==> Setting up (in \(.*\)): .*/\1/p' "$T/demo.out")
check "the demo names its temp dir ($dir)" [ -n "$dir" ]
check "... and removed it on exit" [ ! -e "$dir" ]
finish
