#!/usr/bin/env bash
# binding_vectors.sh: the interoperability vectors of docs/vectors/binding.json computed without
# atls, with the openssl command line only (HKDF for the TLS exporter, dgst for the hashes), so
# the committed bytes do not depend on src/tls/binding being right.
#
#   binding_vectors.sh check [FILE]      recompute every value of FILE and compare (the test)
#   binding_vectors.sh generate [FILE]   write FILE from the fixed inputs below
#
# What is computed (docs/PROTOCOL.md section 2.3; RFC 8446 sections 7.1 and 7.5;
# draft-fossati-seat-expat-04 section 5):
#   exported_value = HKDF-Expand-Label(Derive-Secret(exporter_master_secret,
#                        "EXPORTER-cmw-attestation", ""), "exporter", H(context), 32)
#   binding        = H(spki || exported_value)
#   aik_pub_hash   = H(spki)
#   challenge      = SHA-512(role label || 0x00 || binding || aik_pub_hash)
set -euo pipefail

mode=${1:-check}
file=${2:-${ATLS_SOURCE_DIR:-$(dirname "$0")/../../..}/docs/vectors/binding.json}
LABEL="EXPORTER-cmw-attestation"

hex() { od -An -v -tx1 | tr -d ' \n'; }
bin() { local h=$1; printf '%b' "$(printf '%s' "$h" | sed 's/../\\x&/g')"; }
ascii_hex() { printf '%s' "$1" | hex; }
# dgst ALG HEX: digest of the bytes
dgst() { bin "$2" | openssl dgst "-$1" -binary | hex; }
# hkdf_expand_label ALG SECRET LABEL CONTEXT_HEX LEN (RFC 8446 section 7.1)
hkdf_expand_label() {
    local alg=$1 secret=$2 label="tls13 $3" ctx=$4 len=$5
    local info
    info=$(printf '%04x%02x' "$len" "${#label}")$(ascii_hex "$label")$(printf '%02x' $((${#ctx} / 2)))$ctx
    openssl kdf -keylen "$len" -kdfopt "digest:$alg" -kdfopt mode:EXPAND_ONLY \
        -kdfopt "hexkey:$secret" -kdfopt "hexinfo:$info" HKDF | tr -d ':\n' | tr 'A-F' 'a-f'
}
hash_len() { case $1 in SHA256) echo 32 ;; SHA384) echo 48 ;; esac; }
# exporter ALG SECRET CONTEXT_HEX (RFC 8446 section 7.5)
exporter() {
    local alg=$1 secret=$2 ctx=$3 n
    n=$(hash_len "$alg")
    local empty derived
    empty=$(printf '' | openssl dgst "-${alg,,}" -binary | hex)
    derived=$(hkdf_expand_label "$alg" "$secret" "$LABEL" "$empty" "$n")
    hkdf_expand_label "$alg" "$derived" exporter "$(dgst "${alg,,}" "$ctx")" 32
}
role_label() { case $1 in server) echo "atls/1 server evidence" ;; client) echo "atls/1 client evidence" ;; esac; }
# derive ALG ROLE SECRET CONTEXT SPKI: prints "exported binding aik challenge"
derive() {
    local alg=$1 role=$2 secret=$3 ctx=$4 spki=$5 a=${1,,}
    local ev b aik ch
    ev=$(exporter "$alg" "$secret" "$ctx")
    b=$(dgst "$a" "$spki$ev")
    aik=$(dgst "$a" "$spki")
    ch=$(dgst sha512 "$(ascii_hex "$(role_label "$role")")00$b$aik")
    echo "$ev $b $aik $ch"
}

SPKI_P256=3059301306072a8648ce3d020106082a8648ce3d03010703420004ea8955242f9a368cde3778c735536d545d8dbaad1b013f75f4944eacab698dac733bd67023cf418692dd72439070520e2519540b669a377a37054a93a297bb2b
SPKI_P384=3076301006072a8648ce3d020106052b8104002203620004ab65c7956bb9644829936155f0216dbc1ed54b7eee2978d2a80e8b16ae5ac146a1b8ffe53b4c4ea98c8a240a3bf5b864d2f6356689014f1ccb35c74855aa710c3d26292c4a75ecf60308c2842e1f49f9710091138dfb550d3b5cee29617de3be
# an atls/1 context: 16-byte prefix || uint64 counter || 16-byte tail (docs/PROTOCOL.md 2.1)
CTX=000102030405060708090a0b0c0d0e0f0000000000000001202122232425262728292a2b2c2d2e2f
seq_hex() { local i s=""; for ((i = $1; i < $1 + $2; i++)); do s+=$(printf '%02x' "$i"); done; echo "$s"; }

generate() {
    local out=$1 first=1
    {
        echo '{'
        echo '  "description": "atls binding vectors (docs/PROTOCOL.md section 2.3), computed by tests/tls/binding/binding_vectors.sh with the openssl command line; all byte strings in lowercase hex",'
        echo "  \"exporter_label\": \"$LABEL\","
        echo '  "vectors": ['
        for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384; do
            local alg=SHA256 spki=$SPKI_P256 secret
            secret=$(seq_hex 160 32)
            if [ "$suite" = TLS_AES_256_GCM_SHA384 ]; then
                alg=SHA384 spki=$SPKI_P384 secret=$(seq_hex 192 48)
            fi
            for role in server client; do
                read -r ev b aik ch < <(derive "$alg" "$role" "$secret" "$CTX" "$spki")
                [ $first -eq 1 ] || echo ','
                first=0
                cat <<J
    {
      "cipher_suite": "$suite",
      "hash": "${alg,,}",
      "role": "$role",
      "role_label": "$(role_label "$role")",
      "exporter_master_secret": "$secret",
      "certificate_request_context": "$CTX",
      "spki": "$spki",
      "exported_value": "$ev",
      "binding": "$b",
      "aik_pub_hash": "$aik",
      "challenge": "$ch"
    }
J
            done
        done
        echo '  ]'
        echo '}'
    } | jq . > "$out"
}

check() {
    local f=$1 n fails=0 i
    command -v jq > /dev/null || { echo "SKIPPED: jq is not installed"; exit 77; }
    [ "$(jq -r .exporter_label "$f")" = "$LABEL" ] || { echo "FAIL - exporter label"; fails=1; }
    n=$(jq '.vectors | length' "$f")
    [ "$n" -eq 4 ] || { echo "FAIL - expected 4 vectors, found $n"; exit 1; }
    for ((i = 0; i < n; i++)); do
        local v=".vectors[$i]" alg suite role
        suite=$(jq -r "$v.cipher_suite" "$f")
        alg=$(jq -r "$v.hash" "$f" | tr 'a-z' 'A-Z')
        role=$(jq -r "$v.role" "$f")
        read -r ev b aik ch < <(derive "$alg" "$role" "$(jq -r "$v.exporter_master_secret" "$f")" \
            "$(jq -r "$v.certificate_request_context" "$f")" "$(jq -r "$v.spki" "$f")")
        for field in exported_value:$ev binding:$b aik_pub_hash:$aik challenge:$ch; do
            local name=${field%%:*} want=${field#*:}
            if [ "$(jq -r "$v.$name" "$f")" = "$want" ]; then
                echo "ok - $suite $role $name"
            else
                echo "FAIL - $suite $role $name: file has $(jq -r "$v.$name" "$f"), openssl gives $want"
                fails=$((fails + 1))
            fi
        done
    done
    # the two directions must differ for the same inputs
    [ "$(jq -r '.vectors[0].challenge' "$f")" != "$(jq -r '.vectors[1].challenge' "$f")" ] ||
        { echo "FAIL - server and client challenges are equal"; fails=$((fails + 1)); }
    [ "$fails" -eq 0 ]
}

case $mode in
generate) generate "$file" ;;
check) check "$file" ;;
*) echo "usage: $0 check|generate [FILE]" >&2; exit 2 ;;
esac
