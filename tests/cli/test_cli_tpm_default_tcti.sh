# test_cli_tpm_default_tcti: with neither --tpm-tcti nor a TCTI variable, the tpm2 attester
# finds the TPM with tpm2-tss's default search, as tpm2-tools does (tabrmd, /dev/tpmrm0,
# /dev/tpm0, then a simulator on localhost:2321). This machine has no TPM device, so the test
# runs in a private network namespace (unshare -rn, its own loopback: nothing else on the
# machine can hold or see port 2321) with swtpm on that default port; without swtpm the
# search fails with a line that names what it tried.
source "$(dirname "$0")/lib.sh"
command -v swtpm > /dev/null || skip "needs swtpm (not installed)"
unshare -rn true 2> /dev/null || skip "needs unprivileged network namespaces (unshare -rn)"

CH=$(printf '00%.0s' $(seq 64))
NOENV=(env -u ATLS_TPM2_TCTI -u TPM2TOOLS_TCTI -u TCTI)
# in_ns SCRIPT: bash SCRIPT in a fresh user + network namespace with loopback up
in_ns() { unshare -rn bash -c 'ip link set lo up && source "$1"' _ "$1"; }

cat > "$T/none.sh" << INNER
[ -e /dev/tpmrm0 ] || [ -e /dev/tpm0 ] && { echo "has a TPM device"; exit 77; }
${NOENV[*]} "$ATLS" evidence --attester tpm2 --challenge $CH -o "$T/none.cmw" 2> "$T/none.err"
echo "rc=\$?" > "$T/none.rc"
INNER
in_ns "$T/none.sh" || true
check "no TPM anywhere: exit 2" grep -q "^rc=2$" "$T/none.rc"
check "... one line naming the default search and how to choose a TCTI" \
    grep -q "none found by the default search (resource manager tabrmd, device:/dev/tpmrm0, device:/dev/tpm0, swtpm and mssim on localhost:2321).*--tpm-tcti" "$T/none.err"
check "... exactly one line" one_line "$T/none.err"

mkdir -p "$T/tpm"
cat > "$T/found.sh" << INNER
swtpm socket --tpm2 --tpmstate dir="$T/tpm" --server type=tcp,port=2321,bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=2322,bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
    --log file="$T/tpm/log" &
pid=\$!
for _ in \$(seq 100); do (exec 3<> /dev/tcp/127.0.0.1/2321) 2> /dev/null && break; sleep 0.05; done
${NOENV[*]} "$ATLS" evidence --attester tpm2 --challenge $CH -o "$T/found.cmw" 2> "$T/found.err"
echo "rc=\$?" > "$T/found.rc"
${NOENV[*]} "$ATLS" verify --evidence "$T/found.cmw" --challenge $CH > "$T/verify.out" 2>&1
echo "rc=\$?" > "$T/verify.rc"
kill \$pid; wait \$pid
INNER
in_ns "$T/found.sh" || true
check "the default search finds the TPM on localhost:2321: atls evidence exits 0" \
    grep -q "^rc=0$" "$T/found.rc"
check "... and its Evidence verifies (no policy: warning, exit 3)" grep -q "^rc=3$" "$T/verify.rc"
check "... as tpm2 Evidence" grep -q "tpm2" "$T/verify.out"
finish
