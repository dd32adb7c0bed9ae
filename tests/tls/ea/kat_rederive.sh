#!/usr/bin/env bash
# kat_rederive.sh [--print]: re-derives the expected bytes of test_ea_kat.c (kat_expected.h)
# without atls: bash, od and the openssl command line only, from the inputs written in
# test_ea_kat.c (the Ed25519 key and certificate, the request of protocol-notes 1.2, HC = 00 01
# 02 ..., FK = 80 81 82 ...). Compares every KAT_* string of kat_expected.h with what it
# computes; exit 0 only if all four match. --print writes the derived values instead.
# Run by the suite as test_ea_kat_rederive.
#
# RFC 9261 section 5.2 (the authenticator is Certificate || CertificateVerify || Finished):
#   Certificate       = 0x0b || u24 len || u8 32 || context || u24 len || entry
#                       entry = u24 len || cert DER || u16 len || (u16 0xff00 || u16 4 || "atls")
#   CertificateVerify = 0x0f || u24 len || u16 0x0807 (ed25519) || u16 len || signature over
#                       0x20 * 64 || "Exported Authenticator" || 0x00 || Hash(HC || Req || Cert)
#                       (RFC 8446 4.4.3 with the context string of RFC 9261 5.2.2)
#   Finished          = 0x14 || u24 hash_len || HMAC(FK, Hash(HC || Req || Cert || CV))
#   empty authenticator (5.2.3): Finished only, over Hash(HC || Req || Certificate with the
#                       request's context and an empty certificate list)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$here/test_ea_kat.c
want=$here/kat_expected.h
print=0
[ "${1:-}" = --print ] && print=1
W=$(mktemp -d "${TMPDIR:-/tmp}/atls-kat-XXXXXX") || { echo "FAIL: mktemp -d"; exit 1; }
trap 'rm -rf "$W"' EXIT

# c_string NAME FILE: the concatenated C string literals of `NAME[] =` / `#define NAME` up to ';'
# or the end of the macro, with \n as newlines
c_string() {
    awk -v name="$1" '
        $0 ~ "(char " name "\\[\\] =|#define " name "( |$))" { on = 1; next }
        on { line = $0
             while (match(line, /"[^"]*"/)) {
                 printf "%s", substr(line, RSTART + 1, RLENGTH - 2)
                 line = substr(line, RSTART + RLENGTH)
             }
             if ($0 ~ /;[[:space:]]*$/ || $0 !~ /(\\|")[[:space:]]*$/) on = 0 }' "$2" |
        sed 's/\\n/\n/g'
}
hex() { od -An -v -tx1 | tr -d ' \n'; }              # stdin bytes -> lowercase hex
unhex() { printf '%b' "$(sed 's/../\\x&/g')"; }      # stdin hex -> bytes
u8() { printf '%02x' "$1"; }
u16() { printf '%04x' "$1"; }
u24() { printf '%06x' "$1"; }
counting() { # counting FROM N: hex of the bytes FROM, FROM+1, ... (N of them)
    local i
    for ((i = 0; i < $2; i++)); do printf '%02x' $((($1 + i) & 255)); done
}

c_string kat_key_pem "$src" > "$W/key.pem"
c_string kat_cert_pem "$src" > "$W/cert.pem"
req=$(c_string example_request_hex "$src" | tr -d ' \n')
openssl pkey -in "$W/key.pem" -noout 2> /dev/null || { echo "FAIL: no key in $src"; exit 1; }
cert=$(openssl x509 -in "$W/cert.pem" -outform DER | hex)
[ "${req:0:2}" = 11 ] && [ "${#req}" -eq 114 ] || { echo "FAIL: request not found in $src"; exit 1; }
ctx=${req:10:64} # request: type, u24 length, u8 32, the 32-byte context

digest() { unhex | openssl dgst "-$1" -binary | hex; }                      # stdin hex -> hex
hmac() { # hmac DIGEST KEYHEX: stdin hex -> hex
    unhex > "$W/mac.in"
    openssl mac -digest "$1" -macopt "hexkey:$2" -in "$W/mac.in" HMAC | tr 'A-F' 'a-f'
}

derive() { # derive sha256|sha384: sets AUTH and EMPTY
    local md=$1 n hc fk ext entry body certmsg th tbs sig cv fin ecert
    n=$([ "$md" = sha256 ] && echo 32 || echo 48)
    hc=$(counting 0 "$n")
    fk=$(counting 128 "$n")
    ext=$(u16 $((0xff00)))$(u16 4)$(printf atls | hex)
    entry=$(u24 $((${#cert} / 2)))$cert$(u16 $((${#ext} / 2)))$ext
    body=$(u8 32)$ctx$(u24 $((${#entry} / 2)))$entry
    certmsg=0b$(u24 $((${#body} / 2)))$body
    th=$(digest "$md" <<< "$hc$req$certmsg")
    tbs=$(printf '20%.0s' $(seq 64))$(printf 'Exported Authenticator' | hex)00$th
    unhex <<< "$tbs" > "$W/tbs"
    openssl pkeyutl -sign -rawin -inkey "$W/key.pem" -in "$W/tbs" -out "$W/sig"
    sig=$(hex < "$W/sig")
    body=$(u16 $((0x0807)))$(u16 $((${#sig} / 2)))$sig
    cv=0f$(u24 $((${#body} / 2)))$body
    fin=14$(u24 "$n")$(hmac "${md^^}" "$fk" <<< "$(digest "$md" <<< "$hc$req$certmsg$cv")")
    AUTH=$certmsg$cv$fin
    ecert=0b$(u24 36)$(u8 32)$ctx$(u24 0)
    EMPTY=14$(u24 "$n")$(hmac "${md^^}" "$fk" <<< "$(digest "$md" <<< "$hc$req$ecert")")
}

fails=0
compare() { # compare NAME DERIVED
    local expected
    expected=$(c_string "$1" "$want" | tr -d ' \n')
    if [ "$print" = 1 ]; then
        echo "$1 $2"
    elif [ -z "$expected" ]; then
        echo "FAIL: $1 not found in $want"; fails=$((fails + 1))
    elif [ "$expected" = "$2" ]; then
        echo "ok - $1: ${#2} hex digits re-derived with openssl"
    else
        echo "FAIL: $1 differs"; echo "  kat_expected.h: $expected"; echo "  openssl:        $2"
        fails=$((fails + 1))
    fi
}
for md in sha256 sha384; do
    derive "$md"
    compare "KAT_AUTH_${md^^}" "$AUTH"
    compare "KAT_EMPTY_${md^^}" "$EMPTY"
done
[ "$print" = 1 ] && exit 0
echo "$((4 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
