# test_cli_demo: scripts/demo, the README's first command, as a user runs it (label swtpm): exit
# 0, "Demo OK", the first connect affirming and the second contraindicated for PCR 23, no
# sanitizer report in its output (its atls serve logs to the demo's stderr).
source "$(dirname "$0")/lib.sh"
command -v swtpm > /dev/null || skip "needs swtpm (not installed)"
command -v tpm2_pcrextend > /dev/null || skip "needs swtpm and tpm2-tools (tpm2_pcrextend not installed)"

RUN_TIMEOUT=60 run_cmd "$T/demo.out" "$T/demo.err" bash "$ATLS_SOURCE_DIR/scripts/demo" "$B"
check "scripts/demo exits 0 (exit $RC)" [ "$RC" -eq 0 ]
check "it says Demo OK" grep -q "^==> Demo OK in [0-9]* s: affirming, then contraindicated" "$T/demo.out"
check "the first connect printed an affirming EAR" grep -q '"ear_status": "affirming"' "$T/demo.out"
check "... with exit code 0" grep -q "^(exit code 0: 0 = affirming)" "$T/demo.out"
check "the second was contraindicated (exit 1)" grep -q "^(exit code 1: 1 = contraindicated)" "$T/demo.out"
check "... and said why: PCR 23" grep -Eq "PCR sha256:23 [0-9a-f]{64} is not an allowed value" "$T/demo.err"
dir=$(sed -n 's/.*throw-away CA (in \(.*\))$/\1/p' "$T/demo.out")
check "the demo names its temp dir ($dir)" [ -n "$dir" ]
check "... and removed it on exit" [ ! -e "$dir" ]
finish
