#!/usr/bin/env bash
# install_symbols: libatls.so exports exactly the public API. Its dynamic symbol table
# (nm -D --defined-only) must hold only atls_ names, every function declared in include/atls/
# (a declaration without ATLS_API, or without a definition, fails here) and nothing else
# (an internal function that leaks fails here); the soname is libatls.so.<major>.
set -euo pipefail
B=${ATLS_BUILD_DIR:?} S=${ATLS_SOURCE_DIR:?}
lib=$B/lib/libatls.so
[ -e "$lib" ] || { echo "FAIL: $lib not built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-symbols-XXXXXX")
trap 'rm -rf "$T"' EXIT

nm -D --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u > "$T/exported"
perl "$S/tests/install/public_functions.pl" "$S/include/atls" > "$T/declared_where"
cut -d' ' -f1 "$T/declared_where" > "$T/declared"
fail=0
if grep -v '^atls_' "$T/exported" > "$T/foreign"; then
    echo "FAIL: libatls.so exports names without the atls_ prefix:"; sed 's/^/  /' "$T/foreign"
    fail=1
fi
comm -13 "$T/declared" "$T/exported" > "$T/extra"
comm -23 "$T/declared" "$T/exported" > "$T/missing"
if [ -s "$T/extra" ]; then
    echo "FAIL: exported but not declared in include/atls/ (an internal symbol leaks; is it" \
         "marked ATLS_API, or built without -fvisibility=hidden?):"
    sed 's/^/  /' "$T/extra"; fail=1
fi
if [ -s "$T/missing" ]; then
    echo "FAIL: declared in include/atls/ but not exported (put ATLS_API on the line before" \
         "the declaration, and define it in a module):"
    grep -F -w -f "$T/missing" "$T/declared_where" | sed 's/^/  /'; fail=1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case $soname in
libatls.so.[0-9]*) ;;
*) echo "FAIL: soname '$soname', expected libatls.so.<major>"; fail=1 ;;
esac
# the static archive carries the same public functions (and the internal ones tests use)
nm --defined-only "$B/lib/libatls.a" 2> /dev/null | awk '$2 == "T" {print $3}' | sort -u > "$T/archive"
if comm -23 "$T/declared" "$T/archive" | grep -q .; then
    echo "FAIL: libatls.a lacks public functions:"; comm -23 "$T/declared" "$T/archive"; fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "ok: libatls.so ($soname) exports exactly the $(wc -l < "$T/declared") functions of include/atls/"
