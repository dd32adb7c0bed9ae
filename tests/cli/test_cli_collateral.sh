#!/usr/bin/env bash
# test_cli_collateral MODE: `atls collateral fetch` and `atls serve --collateral-refresh`
# against vendor_standin.py, a STAND-IN for AMD KDS / Intel PCS on 127.0.0.1 serving a
# prepared tree under the vendors' URL layout (no test reaches the internet).
#   shared  the real shared files (../shared/vectors, linked, never copied into the project):
#           Intel TCB Info / QE Identity / PCK and root CRLs / TCB signing chain for FMSPC
#           50806f000000, the go-tdx-guest Milan VCEK and ASK/ARK; the Milan CRL is GENERATED
#           here (no AMD CRL among the samples). Times fixed with --at inside the samples'
#           windows: fetch, the cache keeping what is valid, refreshing before expiry, refusing
#           what the server serves stale, URL layout (FMSPC, CHIP_ID and TCB in the URL),
#           HTTP and network errors; the fetched files verify a real quote and report.
#   live    generated collateral (tsm-kernel-standin, TDX) served by the stand-in; serve with
#           an empty --collateral-dir and --collateral-refresh fills it in the background,
#           replaces a stale item, and connect then affirms with nothing but the root.
source "$(dirname "$0")/lib.sh"
MODE=${1:-}
case $MODE in shared | live) ;; *) echo "usage: test_cli_collateral.sh shared|live"; exit 2 ;; esac
STANDIN=$(dirname "$0")/vendor_standin.py
W=$T/www
HTTP=$(free_port)
start_vendor() {
    python3 "$STANDIN" "$HTTP" "$W" "$T/vendor.log" 2> "$T/vendor.err" &
    PIDS+=($!)
    wait_port "$HTTP"
}
hits() { grep -c "$1" "$T/vendor.log" 2> /dev/null || true; }
urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read(), safe=""))' "$1"; }
expect() {
    local want=$1 name=$2
    shift 2
    run_cmd "$T/out" "$T/err" "$@"
    if [ "$RC" -eq "$want" ]; then ok "$name"; else bad "$name (exit $RC, want $want): $(head -c 400 "$T/err")"; fi
}
PCS_V4=tdx/certification/v4
# pcs_tree DIR TCBINFO QEID CHAIN PCKCRL ROOTCRL FMSPC: link the files under the PCS layout
pcs_tree() {
    mkdir -p "$W/$PCS_V4/qe" "$W/sgx/certification/v4"
    ln -sf "$2" "$W/$PCS_V4/tcb?fmspc=$7"
    printf 'TCB-Info-Issuer-Chain: %s\n' "$(urlenc "$4")" > "$W/$PCS_V4/tcb?fmspc=$7.headers"
    ln -sf "$3" "$W/$PCS_V4/qe/identity"
    printf 'SGX-Enclave-Identity-Issuer-Chain: %s\n' "$(urlenc "$4")" > "$W/$PCS_V4/qe/identity.headers"
    ln -sf "$5" "$W/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
    ln -sf "$6" "$W/IntelSGXRootCA.der"
}
URLS=(--pcs-url "http://127.0.0.1:$HTTP" --intel-root-crl-url "http://127.0.0.1:$HTTP/IntelSGXRootCA.der")

if [ "$MODE" = shared ]; then
    V=${ATLS_SHARED_VECTORS:-}
    [ -n "$V" ] && [ -f "$V/tdx/trustee_tdx_quote_4.dat" ] || skip "needs the shared vectors (ATLS_SHARED_VECTORS)"
    D=$V/tdx S=$V/sev-snp
    pcs_tree "$W" "$D/gotdxguest_sample_tcbInfo_response" "$D/gotdxguest_sample_qeIdentity_response" \
        "$D/gotdxguest_tcb_signing_issuer_chain.pem" "$D/gotdxguest_pckcrl" "$D/gotdxguest_rootcrl.der" \
        50806f000000
    # KDS: the Milan VCEK of gosevguest_attestation.bin (CHIP_ID at 0x1A0; TCB bl 2 tee 0 snp 5
    # ucode 68) and the ASK/ARK; the CRL is a GENERATED stand-in (throwaway CA, not AMD's)
    HWID=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read()[0x1a0:0x1e0].hex())' "$S/gosevguest_attestation.bin")
    mkdir -p "$W/vcek/v1/Milan" "$T/ca"
    ln -sf "$S/gosevguest_vcek.testcer" "$W/vcek/v1/Milan/$HWID?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68"
    ln -sf "$S/gosevguest_ask_ark_milan.pem" "$W/vcek/v1/Milan/cert_chain"
    : > "$T/ca/index.txt"
    echo 01 > "$T/ca/crlnumber"
    printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/ca/index.txt\ncrlnumber=%s/ca/crlnumber\ndefault_md=sha256\ndefault_crl_days=7\n' "$T" "$T" > "$T/ca/ca.cnf"
    setup_cmd "$T/ca/key.out" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/ca/ca.key" -out "$T/ca/ca.pem" -days 2 -subj "/CN=generated stand-in ARK"
    setup_cmd "$T/ca/crl.out" openssl ca -gencrl -config "$T/ca/ca.cnf" -keyfile "$T/ca/ca.key" \
        -cert "$T/ca/ca.pem" -out "$T/ca/crl.pem"
    setup_cmd "$T/ca/der.out" openssl crl -in "$T/ca/crl.pem" -outform DER -out "$W/vcek/v1/Milan/crl"
    start_vendor

    C=$T/coll
    AT=2023-06-20T00:00:00Z
    expect 0 "tdx: fetch at $AT from the PCS stand-in" "$ATLS" collateral fetch \
        --collateral-dir "$C" --evidence "$D/trustee_tdx_quote_4.dat" "${URLS[@]}" --at "$AT"
    check "tdx: five files fetched (four items and the signing chain), one line each" [ "$(grep -c '^fetched tdx-' "$T/out")" -eq 5 ]
    check "tdx: the URL carries the quote's FMSPC" log_has "$T/vendor.log" "tcb\?fmspc=50806f000000 200"
    check "tdx: the TCB signing chain is the PCS header's" \
        cmp "$C/tdx-tcb-signing-chain.pem" "$D/gotdxguest_tcb_signing_issuer_chain.pem"
    check "tdx: the PCK CRL as served" cmp "$C/tdx-pck-crl.der" "$D/gotdxguest_pckcrl"
    expect 3 "tdx: the real quote verifies with the fetched collateral (no policy: warning)" \
        "$ATLS" verify --evidence "$D/trustee_tdx_quote_4.dat" --no-challenge --json --at "$AT" \
        --trust-anchor "$D/gotdxguest_trusted_root.pem" --tcb-info "$C/tdx-tcb-info.json" \
        --qe-identity "$C/tdx-qe-identity.json" --tcb-signing-chain "$C/tdx-tcb-signing-chain.pem" \
        --crl "$C/tdx-pck-crl.der" --crl "$C/tdx-root-ca-crl.der"
    check "tdx: TCB UpToDate, revocation checked, nothing unappraised" \
        jq -e '.submods.tdx.ear_attester_claims | .tcb_status == "UpToDate" and
            .revocation_checked == true and .unappraised == []' "$T/out"

    n=$(wc -l < "$T/vendor.log")
    expect 0 "tdx: fetch again: the cache is valid" "$ATLS" collateral fetch \
        --collateral-dir "$C" --evidence "$D/trustee_tdx_quote_4.dat" "${URLS[@]}" --at "$AT"
    check "tdx: every item kept" [ "$(grep -c '^kept tdx-' "$T/out")" -eq 4 ]
    check "tdx: nothing downloaded" [ "$(wc -l < "$T/vendor.log")" -eq "$n" ]

    # 2023-07-07 12:00: the QE Identity and the PCK CRL (nextUpdate 07-08 07:2x) expire within
    # the default day; the TCB Info (07-18) and the root CRL (2024) do not
    expect 0 "tdx: a day before expiry: refreshed" "$ATLS" collateral fetch \
        --collateral-dir "$C" --evidence "$D/trustee_tdx_quote_4.dat" "${URLS[@]}" \
        --at 2023-07-07T12:00:00Z
    check "tdx: the two expiring items fetched again" \
        bash -c "grep -q '^fetched tdx-qe-identity.json' '$T/out' && grep -q '^fetched tdx-pck-crl.der' '$T/out'"
    check "tdx: the others kept" \
        bash -c "grep -q '^kept tdx-tcb-info.json' '$T/out' && grep -q '^kept tdx-root-ca-crl.der' '$T/out'"
    check "tdx: the server still serves soon-expiring ones: said so" grep -q "expires within --refresh-before" "$T/err"
    check "tdx: two more downloads" [ "$(wc -l < "$T/vendor.log")" -eq $((n + 2)) ]
    cp "$C/tdx-qe-identity.json" "$T/qe-before.json"
    expect 1 "tdx: the server's collateral is stale at 2023-07-10: refused" "$ATLS" collateral fetch \
        --collateral-dir "$C" --evidence "$D/trustee_tdx_quote_4.dat" "${URLS[@]}" \
        --at 2023-07-10T00:00:00Z
    check "  and named as stale, not stored" grep -q "tdx-qe-identity is already stale" "$T/err"
    check "  the cached file is untouched" cmp "$C/tdx-qe-identity.json" "$T/qe-before.json"
    expect 0 "tdx: --force fetches everything" "$ATLS" collateral fetch --force \
        --collateral-dir "$C" --evidence "$D/trustee_tdx_quote_4.dat" "${URLS[@]}" --at "$AT"
    check "tdx: --force: nothing kept" bash -c "! grep -q '^kept' '$T/out'"
    expect 2 "tdx: another FMSPC: the stand-in has no TCB Info for it" "$ATLS" collateral fetch \
        --collateral-dir "$T/other" --evidence "$D/trustee_tdx_quote_6.dat" "${URLS[@]}" --at "$AT"
    check "  the error names the URL and the status" grep -q "fmspc=00a06d080000: HTTP status 404" "$T/err"
    DEAD=$(free_port)
    expect 2 "tdx: PCS unreachable" "$ATLS" collateral fetch --collateral-dir "$T/dead" \
        --evidence "$D/trustee_tdx_quote_4.dat" --pcs-url "http://127.0.0.1:$DEAD" \
        --intel-root-crl-url "http://127.0.0.1:$DEAD/x.der" --at "$AT" --timeout 5
    check "  the error names the URL" grep -q "http://127.0.0.1:$DEAD/tdx/certification/v4/tcb" "$T/err"

    KDS=(--kds-url "http://127.0.0.1:$HTTP")
    expect 2 "snp: a version 2 report needs --snp-product" "$ATLS" collateral fetch \
        --collateral-dir "$T/snp" --evidence "$S/gosevguest_attestation.bin" "${KDS[@]}"
    check "  and says so" grep -q "give --snp-product" "$T/err"
    expect 0 "snp: fetch VCEK, ASK/ARK and CRL from the KDS stand-in" "$ATLS" collateral fetch \
        --collateral-dir "$T/snp" --evidence "$S/gosevguest_attestation.bin" --snp-product Milan "${KDS[@]}"
    check "snp: the URL carries CHIP_ID and the reported TCB" \
        log_has "$T/vendor.log" "/vcek/v1/Milan/$HWID\?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68 200"
    check "snp: the VCEK as served" cmp "$T/snp/snp-vcek.der" "$S/gosevguest_vcek.testcer"
    check "snp: the CRL as served" cmp "$T/snp/snp-crl.der" "$W/vcek/v1/Milan/crl"
    expect 3 "snp: the real report verifies with the fetched VCEK and chain (no policy: warning)" \
        "$ATLS" verify --evidence "$S/gosevguest_attestation.bin" --format snp --no-challenge \
        --trust-anchor "$S/gosevguest_ask_ark_milan.pem" --vcek "$T/snp/snp-vcek.der" \
        --intermediates "$T/snp/snp-cert-chain.pem"
    expect 2 "snp: --snp-product Genoa for a Milan chip: the KDS stand-in has nothing" "$ATLS" \
        collateral fetch --collateral-dir "$T/snp2" --evidence "$S/gosevguest_attestation.bin" \
        --snp-product Genoa "${KDS[@]}"
    expect 2 "no --collateral-dir" "$ATLS" collateral fetch --evidence "$S/gosevguest_attestation.bin"
    expect 2 "--evidence and --attester together" "$ATLS" collateral fetch --collateral-dir "$T/x" \
        --evidence "$S/gosevguest_attestation.bin" --attester tpm2
    finish
    exit $?
fi

# ---- live: serve fills and refreshes its directory in the background ----
TSM_STANDIN=$B/tsm-kernel-standin
[ -x "$TSM_STANDIN" ] || { bad "$TSM_STANDIN is not built"; finish; exit 1; }
make_pki
mkdir "$T/tsm" "$T/gen"
"$TSM_STANDIN" tdx "$T/tsm" "$T/gen" 2> "$T/tsm-standin.log" &
PIDS+=($!)
wait_until 60 test -f "$T/gen/ready" || { bad "the tsm stand-in did not start"; finish; exit 1; }
G=$T/gen/collateral
pcs_tree "$W" "$G/tdx-tcb-info.json" "$G/tdx-qe-identity.json" "$G/tdx-tcb-signing-chain.pem" \
    "$G/tdx-pck-crl.der" "$G/tdx-root-ca-crl.der" 00112233aabb
start_vendor
ECHO=$(free_port)
SRV=$(free_port)
start_backend echo "$ECHO"
start_serve "$T/serve.log" "$SRV" --backend "127.0.0.1:$ECHO" --attester tsm --tsm-path "$T/tsm" \
    --collateral-dir "$T/sc" --collateral-refresh 1 "${URLS[@]}"
check "serve fetched its collateral in the background" \
    wait_until 20 log_has "$T/serve.log" "collateral refresh of .*: 4 fetched"
check "  and on the next round keeps it" wait_until 20 log_has "$T/serve.log" "collateral refresh of .*: 0 fetched, 4 kept"
ANCHOR=(--trust-anchor "$T/gen/anchor.pem")
setup_cmd "$T/policy.json" "$ATLS" policy init "localhost:$SRV" --ca "$T/ca.pem" "${ANCHOR[@]}"
expect 0 "connect with nothing but the root: affirming" "$ATLS" connect "localhost:$SRV" \
    --ca "$T/ca.pem" --policy "$T/policy.json" "${ANCHOR[@]}"
# a directory holding a stale TCB Info: replaced before clients see it refused
mkdir "$T/sc2"
cp "$T/gen/stale/"* "$T/sc2/"
SRV2=$(free_port)
start_serve "$T/serve2.log" "$SRV2" --backend "127.0.0.1:$ECHO" --attester tsm --tsm-path "$T/tsm" \
    --collateral-dir "$T/sc2" --collateral-refresh 1 "${URLS[@]}"
check "serve warns that its TCB Info is stale" grep -q "tdx-tcb-info.json is stale" "$T/serve2.log"
check "the refresh replaced only the stale TCB Info" \
    wait_until 20 log_has "$T/serve2.log" "collateral refresh of .*: 1 fetched, 3 kept"
check "  with the vendor's fresh one" cmp "$T/sc2/tdx-tcb-info.json" "$G/tdx-tcb-info.json"
expect 0 "connect after the refresh: affirming" "$ATLS" connect "localhost:$SRV2" \
    --ca "$T/ca.pem" --policy "$T/policy.json" "${ANCHOR[@]}"
expect 2 "--collateral-refresh without --collateral-dir" "$ATLS" serve --listen "127.0.0.1:$(free_port)" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" --attester tsm \
    --tsm-path "$T/tsm" --collateral-refresh 5
expect 2 "--pcs-url without --collateral-refresh" "$ATLS" serve --listen "127.0.0.1:$(free_port)" \
    --cert "$T/server.pem" --key "$T/server.key" --backend "127.0.0.1:$ECHO" --attester tsm \
    --tsm-path "$T/tsm" --collateral-dir "$G" --pcs-url "http://127.0.0.1:$HTTP"
finish
