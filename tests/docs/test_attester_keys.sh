#!/usr/bin/env bash
# attester_keys_documented: the public header documents every attester's configuration, so no
# private source file is needed to configure one. For every attester ops table in
# src/evidence/*/ (`const atls_attester_ops atls_X_attester_ops`), the "key=" literals its
# file parses and the keys include/atls/evidence.h lists under `attester "NAME":` are the same
# set, and the header documents no attester that does not exist.
#
# Adding an attester or a key: parse it as a "key=" literal in the file of the ops table and
# list it as ` *     key=VALUE   what it means` under the attester's heading in evidence.h.
set -euo pipefail
S=${ATLS_SOURCE_DIR:?}
H=$S/include/atls/evidence.h
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-keys-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0

# documented: "NAME" and "NAME KEY" lines from the header's attester sections
perl -ne 'if (/^ \*   attester "([a-z0-9_]+)":/) { $a = $1; print "$a\n"; next }
          $a = undef if m{^\s*\*/};
          print "$a $1\n" if defined $a && /^ \*     ([a-z][a-z0-9_]*)=/' "$H" > "$T/doc_all"
grep -v ' ' "$T/doc_all" | sort -u > "$T/doc_names" || :
grep ' ' "$T/doc_all" | sort -u > "$T/doc" || :

# implemented: the same from the sources
: > "$T/src"
: > "$T/src_names"
for f in $(grep -lE 'const atls_attester_ops atls_[a-z0-9_]+_attester_ops' "$S"/src/evidence/*/*.c); do
    name=$(perl -0ne 'print $1 if /const atls_attester_ops atls_\w+_attester_ops\s*=\s*\{[^}]*?\.name\s*=\s*"([^"]+)"/s' "$f")
    [ -n "$name" ] || { echo "FAIL: $f: an attester ops table without .name"; fail=1; continue; }
    echo "$name" >> "$T/src_names"
    # every string literal that starts with "key=" (a parsed key, or one the attester fills in)
    grep -oE '"[a-z][a-z0-9_]*=[^"]*"' "$f" | sed -E 's/^"([a-z0-9_]+)=.*/\1/' |
        sed "s/^/$name /" >> "$T/src"
done
sort -u "$T/src" -o "$T/src"
sort -u "$T/src_names" -o "$T/src_names"
[ -s "$T/src_names" ] || { echo "FAIL: no attester found under src/evidence"; exit 1; }

if comm -23 "$T/src_names" "$T/doc_names" | grep -q .; then
    echo "FAIL: attesters without a section in include/atls/evidence.h:" \
        "$(comm -23 "$T/src_names" "$T/doc_names" | tr '\n' ' ')"; fail=1
fi
if comm -13 "$T/src_names" "$T/doc_names" | grep -q .; then
    echo "FAIL: include/atls/evidence.h documents attesters that do not exist:" \
        "$(comm -13 "$T/src_names" "$T/doc_names" | tr '\n' ' ')"; fail=1
fi
if comm -23 "$T/src" "$T/doc" | grep -q .; then
    echo "FAIL: keys parsed but not documented in include/atls/evidence.h:"
    comm -23 "$T/src" "$T/doc" | sed 's/^/  /'; fail=1
fi
if comm -13 "$T/src" "$T/doc" | grep -q .; then
    echo "FAIL: keys documented in include/atls/evidence.h that no attester parses:"
    comm -13 "$T/src" "$T/doc" | sed 's/^/  /'; fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "ok: $(wc -l < "$T/src") keys of $(wc -l < "$T/src_names") attesters ($(tr '\n' ' ' < "$T/src_names")) documented"
