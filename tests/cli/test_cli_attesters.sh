#!/usr/bin/env bash
# test_cli_attesters [swtpm]: --attester tsm|azure|auto from the CLI.
#   (no argument) tsm and auto on this machine (no configfs-tsm here: the errors must say what
#     is missing) and on a prepared directory without a provider; option mix-ups.
#   swtpm: Azure's paravisor MOCKED on a private swtpm: an RSA AK at 0x81000003 and an
#     HCL-format report made by azure-paravisor-mock (generated SNP report + runtime data
#     naming that AK) in NV 0x01400001; `atls evidence --attester azure` and `--attester auto`
#     then `atls verify` with the mock's ARK, each link of the chain broken once; `atls serve
#     --attester azure` with the ASK/ARK and CRL stapled, `policy init` and `connect` with only
#     the mock's ARK.
source "$(dirname "$0")/lib.sh"
MODE=${1:-}
case $MODE in "" | swtpm) ;; *) echo "usage: test_cli_attesters.sh [swtpm]"; exit 2 ;; esac
CH=$(openssl rand -hex 64)
expect() {
    local want=$1 name=$2
    shift 2
    run_cmd "$T/out" "$T/err" "$@"
    if [ "$RC" -eq "$want" ]; then ok "$name"; else bad "$name (exit $RC, want $want): $(cat "$T/err")"; fi
}
has_err() { if grep -Eq -e "$2" "$T/err"; then ok "$1"; else bad "$1: stderr was: $(cat "$T/err")"; fi; }

if [ -z "$MODE" ]; then
    if [ ! -d /sys/kernel/config/tsm/report ]; then
        expect 2 "tsm without configfs-tsm: usage error" "$ATLS" evidence --attester tsm --challenge "$CH"
        has_err "tsm: the error names what is missing" "configfs is not mounted|no configfs-tsm|CONFIG_TSM_REPORTS"
        has_err "tsm: the error gives the kernel version" "kernel $(uname -r | sed 's/[.+]/\\&/g')"
    fi
    mkdir "$T/standin"
    expect 2 "tsm on a prepared directory without provider" "$ATLS" evidence --attester tsm \
        --tsm-path "$T/standin" --challenge "$CH"
    has_err "tsm: no provider named" "has no provider"
    check "tsm: the probe entry was removed" bash -c "[ -z \"\$(ls -A '$T/standin')\" ]"
    expect 2 "tsm: missing --tsm-path" "$ATLS" evidence --attester tsm --tsm-path "$T/nope" --challenge "$CH"
    has_err "tsm: names the missing directory" "$T/nope does not exist"
    expect 2 "tsm: bad privlevel" "$ATLS" evidence --attester tsm --tsm-privlevel 4 --challenge "$CH"
    has_err "tsm: privlevel range" "expected 0..3"
    # no TCTI named: auto and --with-tpm use tpm2-tss's default search, which ends with a
    # simulator on localhost:2321; a private network namespace keeps any TPM simulator of this
    # machine out of sight (as test_cli_tpm_default_tcti does)
    NS=()
    unshare -rn true 2> /dev/null && NS=(unshare -rn)
    NOENV=(env -u ATLS_TPM2_TCTI -u TPM2TOOLS_TCTI -u TCTI)
    if [ ! -e /dev/tpmrm0 ] && [ ! -e /dev/tpm0 ] && [ ${#NS[@]} -gt 0 ]; then
        expect 2 "auto with nothing to attest with" "${NS[@]}" "${NOENV[@]}" "$ATLS" evidence \
            --attester auto --tsm-path "$T/standin" --challenge "$CH"
        has_err "auto: says what it looked for" "nothing to attest with.*no TPM: .*default search"
    fi
    expect 2 "auto never picks sim" "$ATLS" evidence --attester auto --sim-key x --challenge "$CH"
    expect 2 "--tsm-* with tpm2" "$ATLS" evidence --attester tpm2 --tsm-path "$T/standin" --challenge "$CH"
    has_err "--tsm-* needs tsm" "need --attester tsm"
    expect 2 "--azure-* with tsm" "$ATLS" evidence --attester tsm --azure-certs x --challenge "$CH"
    has_err "--azure-* needs azure" "need --attester azure"
    expect 2 "unknown attester" "$ATLS" evidence --attester nitro --challenge "$CH"
    has_err "unknown attester: lists the names" "sim, tpm2, tsm, azure or auto"
    finish
    exit $?
fi

# ---- Azure, paravisor MOCKED on swtpm ----
command -v tpm2_createprimary > /dev/null || skip "needs tpm2-tools"
MOCK=$B/azure-paravisor-mock
[ -x "$MOCK" ] || { bad "$MOCK is not built"; finish; exit 1; }
start_swtpm
export TPM2TOOLS_TCTI=$TCTI
setup_cmd "$T/tpm.log" tpm2_createprimary -Q -C o -G rsa2048:rsassa-sha256:null \
    -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' -c "$T/ak.ctx"
setup_cmd "$T/tpm.log" tpm2_evictcontrol -Q -C o -c "$T/ak.ctx" 0x81000003
setup_cmd "$T/tpm.log" tpm2_flushcontext -t # no resource manager: free the transient slot
setup_cmd "$T/tpm.log" tpm2_readpublic -Q -c 0x81000003 -f pem -o "$T/ak.pem"
mkdir "$T/mock"
setup_cmd "$T/mock.log" "$MOCK" "$T/ak.pem" "$T/mock"
setup_cmd "$T/tpm.log" tpm2_nvdefine -Q 0x01400001 -C o -s "$(stat -c %s "$T/mock/hcl.bin")" -a 'ownerread|ownerwrite'
setup_cmd "$T/tpm.log" tpm2_nvwrite -Q 0x01400001 -C o -i "$T/mock/hcl.bin"

VERIFY=(--trust-anchor "$T/mock/ark.pem" --intermediates "$T/mock/ask.pem" --crl "$T/mock/ark-crl.pem")
expect 0 "azure: evidence from the mocked Azure vTPM" "$ATLS" evidence --attester azure \
    --tpm-tcti "$TCTI" --azure-certs "$T/mock/vcek.pem" --challenge "$CH" -o "$T/az.cmw"
expect 3 "azure: verified, no policy: warning" "$ATLS" verify --evidence "$T/az.cmw" \
    --challenge "$CH" "${VERIFY[@]}" --json
check "azure: the EAR names the TEE and the vTPM PCRs" grep -q '"tee": "snp"' "$T/out"
check "azure: the EAR carries the runtime data" grep -q 'vm-configuration' "$T/out"
# through serve and connect: the Evidence bound to each live connection; the relying party
# first with the mock's whole chain, then with nothing but the ARK (ASK/ARK and CRL stapled)
make_pki
ECHO=$(free_port)
SRV=$(free_port)
start_backend echo "$ECHO"
mkdir "$T/coll"
setup_cmd "$T/coll.log" openssl crl -in "$T/mock/ark-crl.pem" -outform DER -out "$T/coll/snp-crl.der"
cat "$T/mock/ask.pem" "$T/mock/ark.pem" > "$T/coll/snp-cert-chain.pem"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester azure --tpm-tcti "$TCTI" \
    --azure-certs "$T/mock/vcek.pem" --collateral-dir "$T/coll"
expect 0 "azure serve: policy init with the mock's chain" "$ATLS" policy init "localhost:$SRV" \
    --ca "$T/ca.pem" "${VERIFY[@]}"
cp "$T/out" "$T/az-policy.json"
check "azure serve: the policy has an azure section" jq -e '.azure.snp and .azure.pcrs' "$T/az-policy.json"
expect 0 "azure serve: connect with only the mock's ARK (the rest stapled): affirming" \
    "$ATLS" connect "localhost:$SRV" --ca "$T/ca.pem" --policy "$T/az-policy.json" \
    --trust-anchor "$T/mock/ark.pem" --json
check "azure serve: the azure submod affirmed, hardware 2" \
    jq -e '.submods.azure.ear_status == "affirming" and
        .submods.azure.ear_trustworthiness_vector.hardware == 2' "$T/out"
expect 1 "azure serve: connect without any root: refused" "$ATLS" connect "localhost:$SRV" \
    --ca "$T/ca.pem" --policy "$T/az-policy.json"
# serve holds the swtpm's one connection: stop it before the next TPM commands
kill "$SERVE_PID" 2> /dev/null
wait "$SERVE_PID" 2> /dev/null || true

# each link broken
expect 1 "azure: another challenge" "$ATLS" verify --evidence "$T/az.cmw" \
    --challenge "$(openssl rand -hex 64)" "${VERIFY[@]}"
has_err "azure: the quote's challenge named" "extraData|challenge"
expect 1 "azure: without the mock's ARK" "$ATLS" verify --evidence "$T/az.cmw" --challenge "$CH"
# a quote from another AK than the runtime data names
setup_cmd "$T/tpm.log" tpm2_evictcontrol -Q -C o -c 0x81000003
setup_cmd "$T/tpm.log" tpm2_flushcontext -t
setup_cmd "$T/tpm.log" tpm2_createprimary -Q -C e -G rsa2048:rsassa-sha256:null \
    -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' -c "$T/ak2.ctx"
setup_cmd "$T/tpm.log" tpm2_evictcontrol -Q -C o -c "$T/ak2.ctx" 0x81000003
expect 0 "azure: evidence with a swapped AK" "$ATLS" evidence --attester azure \
    --tpm-tcti "$TCTI" --azure-certs "$T/mock/vcek.pem" --challenge "$CH" -o "$T/az3.cmw"
expect 1 "azure: swapped AK: invalid" "$ATLS" verify --evidence "$T/az3.cmw" \
    --challenge "$CH" "${VERIFY[@]}"
has_err "azure: the AK link named" "not signed by the AK in the runtime data"
# auto finds the HCL report
expect 0 "auto: picks azure on the mocked Azure vTPM" "$ATLS" evidence --attester auto \
    --tsm-path "$T/nope" --tpm-tcti "$TCTI" --azure-certs "$T/mock/vcek.pem" --challenge "$CH" -o "$T/az4.cmw"
has_err "auto: says it took azure" "using azure \(HCL report for SEV-SNP"
# no HCL report: auto falls back to tpm2, azure says what is missing
setup_cmd "$T/tpm.log" tpm2_nvundefine -Q 0x01400001 -C o
expect 2 "azure without the HCL report" "$ATLS" evidence --attester azure --tpm-tcti "$TCTI" --challenge "$CH"
has_err "azure: not an Azure CVM named" "no HCL report in vTPM NV 0x01400001"
expect 0 "auto: falls back to tpm2" "$ATLS" evidence --attester auto --tsm-path "$T/nope" \
    --tpm-tcti "$TCTI" --challenge "$CH" -o "$T/tpm.cmw"
has_err "auto: says it took tpm2" "using tpm2"
# `atls serve --attester auto` with no other attester option: the TPM the default search finds
# ($ATLS_TPM2_TCTI here; /dev/tpmrm0 on a real machine), no configfs-tsm on this machine
SRV2=$(free_port)
ATLS_TPM2_TCTI=$TCTI start_serve "$T/serve-auto.log" "$SRV2" --backend "127.0.0.1:$ECHO" \
    --attester auto
check "serve --attester auto: says it took tpm2" log_has "$T/serve-auto.log" "using tpm2"
expect 0 "serve --attester auto: policy init" "$ATLS" policy init "localhost:$SRV2" --ca "$T/ca.pem"
cp "$T/out" "$T/auto-policy.json"
expect 0 "serve --attester auto: connect affirms" "$ATLS" connect "localhost:$SRV2" \
    --ca "$T/ca.pem" --policy "$T/auto-policy.json"
finish
