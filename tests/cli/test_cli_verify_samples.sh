# test_cli_verify_samples: `atls verify --format cca|snp|tdx ... --json` on the shared
# third-party samples, with fixed --at times where certificates have expired; asserts exit
# codes and known fields of the EAR. Label shared: skipped (77) without the vectors folder, a
# failure without the atls binary (lib.sh).
source "$(dirname "$0")/lib.sh"
V=${ATLS_SHARED_VECTORS:-}
if [ -z "$V" ] || [ ! -d "$V/cca" ] || [ ! -d "$V/sev-snp" ] || [ ! -d "$V/tdx" ]; then
    skip "needs the shared vectors (ATLS_SHARED_VECTORS=${V:-unset})"
fi
A=$ATLS
fails=0
pass=0
set +e # the checks below count failures themselves

# run EXPECTED_EXIT NAME ARGS...: atls verify ARGS --json > $T/out.json (run_cmd: a sanitizer
# report fails on its own)
run() {
    local want=$1 name=$2; shift 2
    run_cmd "$T/out.json" "$T/err.txt" "$A" verify "$@" --json
    local got=$RC
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $name: exit $got, expected $want: $(cat "$T/err.txt")"; fails=$((fails + 1))
    else
        pass=$((pass + 1))
    fi
}

# field NAME SUBMOD PATH EXPECTED: the claim at PATH (dot-separated; numbers index arrays) of
# submod SUBMOD in $T/out.json equals EXPECTED
field() {
    local name=$1 sub=$2 path=$3 want=$4 got
    # jq path: .a.b.0 -> .["a"]["b"][0]
    local jqpath
    jqpath=$(printf '%s' "$path" | awk -F. '{for (i = 1; i <= NF; i++) printf($i ~ /^[0-9]+$/ ? "[%s]" : "[\"%s\"]", $i)}')
    got=$(jq -r ".submods[\"$sub\"].ear_attester_claims$jqpath" "$T/out.json")
    if [ "$got" != "$want" ]; then
        echo "FAIL: $name: $path = '$got', expected '$want'"; fails=$((fails + 1))
    else
        pass=$((pass + 1))
    fi
}

status_is() {
    local name=$1 want=$2 got
    got=$(jq -r .ear_status "$T/out.json")
    if [ "$got" != "$want" ]; then
        echo "FAIL: $name: ear_status $got, expected $want"; fails=$((fails + 1))
    else
        pass=$((pass + 1))
    fi
}

# ---- Arm CCA ----
CPAK=$V/cca/derived_tfm_cpak_p384_pub.pem
openssl ecparam -name secp384r1 -genkey -noout -out "$T/wrong.key" 2>/dev/null
openssl ec -in "$T/wrong.key" -pubout -out "$T/wrong.pem" 2>/dev/null
for tok in ccatoken_tfrmm_cca_token.cbor trustee_cca-example-token.cbor \
           rustccatoken_cca-token-draft-ffm-00.cbor; do
    run 3 "cca $tok (no policy: warning)" --evidence "$V/cca/$tok" --format cca --trust-anchor "$CPAK"
    status_is "cca $tok" warning
    field "cca $tok" cca platform.lifecycle 12291
    field "cca $tok" cca platform.implementation_id \
        7f454c4602010100000000000000000003003e00010000005058000000000000
    field "cca $tok" cca key_id 0928f896cb02326566530a62a1e36329a12d0a4a308f4fc81e8ff5560bca6bca
    run 3 "cca $tok other CPAK file" --evidence "$V/cca/$tok" --format cca \
        --trust-anchor "$V/cca/ccatoken_tfrmm_cca_platform_pub.pem"
    run 1 "cca $tok wrong CPAK" --evidence "$V/cca/$tok" --format cca --trust-anchor "$T/wrong.pem"
    run 1 "cca $tok wrong challenge" --evidence "$V/cca/$tok" --format cca --trust-anchor "$CPAK" \
        --raw-challenge "$(printf '00%.0s' $(seq 64))"
done
run 3 "cca tf-rmm" --evidence "$V/cca/ccatoken_tfrmm_cca_token.cbor" --format cca --trust-anchor "$CPAK"
field "cca tf-rmm" cca realm.public_key_form sec1_point
field "cca tf-rmm" cca platform.sw_components.0.type BL
field "cca tf-rmm" cca platform.sw_components.0.version 3.4.2
run 3 "cca tf-rmm right challenge" --evidence "$V/cca/ccatoken_tfrmm_cca_token.cbor" --format cca \
    --trust-anchor "$CPAK" --raw-challenge "$(printf 'ab%.0s' $(seq 64))"
run 3 "cca rust" --evidence "$V/cca/rustccatoken_cca-token-draft-ffm-00.cbor" --format cca \
    --trust-anchor "$CPAK"
field "cca rust" cca realm.public_key_form cose_key
field "cca rust" cca realm.profile "tag:arm.com,2023:realm#1.0.0"
field "cca rust" cca realm.initial_measurement \
    311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49
field "cca rust" cca platform.sw_components.12.type SOC_FW_CONFIG
run 3 "cca trustee" --evidence "$V/cca/trustee_cca-example-token.cbor" --format cca \
    --trust-anchor "$CPAK"
field "cca trustee" cca realm.hash_algo sha-512
# with a policy: affirming, and a mismatch
cat > "$T/ok.json" <<'P'
{"version": 1, "cca": {"realm_initial_measurements": ["311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49"], "lifecycles": ["secured"]}}
P
cat > "$T/bad.json" <<'P'
{"version": 1, "cca": {"any_realm_initial_measurement": true, "rem0": ["0000000000000000000000000000000000000000000000000000000000000000"]}}
P
run 0 "cca rust policy" --evidence "$V/cca/rustccatoken_cca-token-draft-ffm-00.cbor" --no-challenge --format cca \
    --trust-anchor "$CPAK" --policy "$T/ok.json"
status_is "cca rust policy" affirming
run 1 "cca rust policy mismatch" --evidence "$V/cca/rustccatoken_cca-token-draft-ffm-00.cbor" \
    --format cca --trust-anchor "$CPAK" --policy "$T/bad.json"
run 2 "cca missing evidence file" --evidence "$T/nope.cbor" --format cca --trust-anchor "$CPAK"

# ---- AMD SEV-SNP ----
S=$V/sev-snp
run 3 "snp go-sev-guest" --evidence "$S/gosevguest_attestation.bin" --format snp \
    --trust-anchor "$S/gosevguest_ask_ark_milan.pem" --vcek "$S/gosevguest_vcek.testcer" \
    --at 2025-01-01T00:00:00Z
field "snp go-sev-guest" snp signer vcek
field "snp go-sev-guest" snp version 2
field "snp go-sev-guest" snp measurement \
    b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01
run 3 "snp trustee vcek" --evidence "$S/trustee_test-report.bin" --format snp \
    --trust-anchor "$S/trustee_milan_ask_ark_asvk.pem" --vcek "$S/trustee_test-vcek.der" \
    --at 2025-01-01T00:00:00Z
field "snp trustee vcek" snp signer vcek
run 3 "snp trustee vlek" --evidence "$S/trustee_test-vlek-report.bin" --format snp \
    --trust-anchor "$S/trustee_milan_ask_ark_asvk.pem" --vcek "$S/trustee_test-vlek.der" \
    --at 2025-06-01T00:00:00Z
field "snp trustee vlek" snp signer vlek
field "snp trustee vlek" snp version 3
run 1 "snp wrong root" --evidence "$S/gosevguest_attestation.bin" --format snp \
    --trust-anchor "$S/gosevguest_ask_ark_genoa.pem" --vcek "$S/gosevguest_vcek.testcer" \
    --at 2025-01-01T00:00:00Z
run 1 "snp wrong challenge" --evidence "$S/gosevguest_attestation.bin" --format snp \
    --trust-anchor "$S/gosevguest_ask_ark_milan.pem" --vcek "$S/gosevguest_vcek.testcer" \
    --at 2025-01-01T00:00:00Z --raw-challenge "$(printf '00%.0s' $(seq 64))"

# ---- Intel TDX ----
D=$V/tdx
# some sample files carry bytes after the quote: the CLI cuts them where sig_data_len says
while read -r q at fmspc ver; do
    run_file="$D/$q"
    run 3 "tdx $q" --evidence "$run_file" --format tdx \
        --trust-anchor "$D/gotdxguest_trusted_root.pem" --at "$at"
    field "tdx $q" tdx fmspc "$fmspc"
    field "tdx $q" tdx quote_version "$ver"
    field "tdx $q" tdx tcb_status NotEvaluated
    # no collateral, no CRLs: the downgrade is visible, nothing unchecked is claimed
    field "tdx $q" tdx unappraised.0 tcb_info
    field "tdx $q" tdx revocation_checked false
    run 1 "tdx $q wrong root" --evidence "$run_file" --format tdx \
        --trust-anchor "$S/gosevguest_ask_ark_milan.pem" --at "$at"
    run 1 "tdx $q wrong challenge" --evidence "$run_file" --format tdx \
        --trust-anchor "$D/gotdxguest_trusted_root.pem" --at "$at" \
        --raw-challenge "$(printf '00%.0s' $(seq 64))"
done <<'L'
gotdxguest_tdx_prod_quote_SPR_E4.dat 2025-01-01T00:00:00Z 50806f000000 4
gotdxguest_quote_v5_sample.dat 2026-02-10T05:06:40Z 90c06f000000 5
trustee_tdx_quote_4.dat 2025-01-01T00:00:00Z 50806f000000 4
trustee_tdx_quote_6.dat 2025-11-01T12:26:40Z 00a06d080000 4
trustee_az-tdx-vtpm_td-quote.bin 2025-01-01T00:00:00Z 00806f050000 4
L

# with its collateral and both (DER) CRLs, at a time all of them are valid: every tier
run 3 "tdx quote_4 with collateral" --evidence "$D/trustee_tdx_quote_4.dat" --format tdx \
    --trust-anchor "$D/gotdxguest_trusted_root.pem" --at 2023-06-20T08:33:20Z \
    --tcb-info "$D/gotdxguest_sample_tcbInfo_response" \
    --qe-identity "$D/gotdxguest_sample_qeIdentity_response" \
    --tcb-signing-chain "$D/gotdxguest_tcb_signing_issuer_chain.pem" \
    --crl "$D/gotdxguest_rootcrl.der" --crl "$D/gotdxguest_pckcrl"
field "tdx quote_4 with collateral" tdx tcb_status UpToDate
field "tdx quote_4 with collateral" tdx revocation_checked true
hw=$(jq -r '.submods.tdx.ear_trustworthiness_vector.hardware' "$T/out.json")
if [ "$hw" = 2 ]; then pass=$((pass + 1)); else
    echo "FAIL: tdx quote_4 with collateral: hardware $hw, expected 2"; fails=$((fails + 1)); fi

PASS=$((PASS + pass))
FAIL=$((FAIL + fails))
finish
