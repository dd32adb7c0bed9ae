#!/usr/bin/env bash
# install_consumer: `cmake --install` into a temporary prefix gives what an integrator expects
# (headers, libatls.so.0 and libatls.a, the atls binary, atls.pc, the CMake package, a man page
# per command; no private src/ header), and an out-of-tree program (consumer/consumer.c) built
# against that tree alone runs: through pkg-config and through find_package(atls), each with the
# shared and with the static library.
set -euo pipefail
B=${ATLS_BUILD_DIR:?} S=${ATLS_SOURCE_DIR:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-install-XXXXXX")
trap 'rm -rf "$T"' EXIT
P=$T/prefix
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$B" --prefix "$P" > "$T/install.log" || { cat "$T/install.log"; fail "cmake --install"; }
pc=$(find "$P" -name atls.pc)
[ -n "$pc" ] || fail "no atls.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in bin/atls include/atls/session.h include/atls/error.h share/man/man1/atls.1; do
    [ -e "$P/$f" ] || fail "$f not installed"
done
for f in libatls.so libatls.so.0 libatls.a cmake/atls/atlsConfig.cmake cmake/atls/atlsTargets.cmake; do
    [ -e "$libdir/$f" ] || fail "$libdir/$f not installed"
done
for cmd in $(perl "$S/scripts/gen-man" --commands "$S/docs/cli.md"); do
    [ -s "$P/share/man/man1/atls-$cmd.1" ] || fail "man page atls-$cmd.1 not installed"
done
# exactly the public headers, and nothing that names the build or source tree
diff <(cd "$S/include" && find . -name '*.h' | sort) <(cd "$P/include" && find . -type f | sort) \
    || fail "installed headers differ from include/"
if grep -rlF -e "$S" -e "$B" "$libdir/cmake" "$pc"; then
    fail "installed package files name the source or build tree"
fi
"$P/bin/atls" --version | grep -q "^atls " || fail "installed atls --version"

# No third-party type in the API: no installed header names jansson, atls.pc requires it only
# for static linking, and every consumer below is compiled with a jansson.h that fails (first
# on the include path), so a public header that includes it breaks the build.
if grep -rlE 'jansson|json_t' "$P/include/atls"; then fail "an installed header names jansson"; fi
mkdir -p "$T/poison"
echo '#error "a public atls header included jansson.h"' > "$T/poison/jansson.h"
NOJSON="-I$T/poison"
echo '#include <jansson.h>' | cc -std=c11 $NOJSON -fsyntax-only -x c - 2> /dev/null \
    && fail "the poisoned jansson.h does not fail a build"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/sim.key" 2> /dev/null
run() { # run NAME BINARY: the consumer must pass every check
    "$2" "$T/sim.key" > "$T/$1.out" 2>&1 || { cat "$T/$1.out"; fail "$1: consumer failed"; }
    grep -q FAIL "$T/$1.out" && { cat "$T/$1.out"; fail "$1: a check failed"; }
    echo "ok: $1 ($(grep -c '^ok' "$T/$1.out") checks)"
}
needs_libatls() { readelf -d "$1" | grep -q 'NEEDED.*\[libatls\.so\.0\]'; }

# 1. pkg-config (prefix found from the .pc file's own place: the tree is relocatable)
export PKG_CONFIG_PATH=$libdir/pkgconfig
cflags=$(pkg-config --cflags atls) || fail "pkg-config --cflags atls"
pkg-config --print-requires atls | grep -q jansson && fail "atls.pc Requires jansson (public)"
pkg-config --print-requires-private atls | grep -q jansson || fail "atls.pc lacks jansson in Requires.private"
case " $cflags " in *"$S"*) fail "pkg-config cflags name the source tree: $cflags" ;; esac
cc -std=c11 -Wall -Wextra -Werror $NOJSON $cflags "$S/tests/install/consumer/consumer.c" \
    -o "$T/pc-shared" $(pkg-config --libs atls) || fail "build with pkg-config (shared)"
needs_libatls "$T/pc-shared" || fail "pkg-config (shared) consumer does not use libatls.so.0"
LD_LIBRARY_PATH=$libdir run pkg-config-shared "$T/pc-shared"
static_libs=$(pkg-config --static --libs atls | sed "s|-latls\b|$libdir/libatls.a|")
cc -std=c11 -Wall -Wextra -Werror $NOJSON $cflags "$S/tests/install/consumer/consumer.c" \
    -o "$T/pc-static" $static_libs || fail "build with pkg-config --static"
needs_libatls "$T/pc-static" && fail "static consumer still needs libatls.so"
run pkg-config-static "$T/pc-static"

# 2. find_package(atls): atls::atls and atls::atls_static with their dependencies
for kind in shared static; do
    flag=OFF; [ $kind = static ] && flag=ON
    cmake -S "$S/tests/install/consumer" -B "$T/cm-$kind" -DCMAKE_PREFIX_PATH="$P" \
        -DCONSUMER_STATIC=$flag -DCMAKE_C_FLAGS="-Wall -Werror $NOJSON" > "$T/cm-$kind.log" 2>&1 \
        || { cat "$T/cm-$kind.log"; fail "find_package(atls) ($kind)"; }
    cmake --build "$T/cm-$kind" > "$T/cm-$kind-build.log" 2>&1 \
        || { cat "$T/cm-$kind-build.log"; fail "build with find_package ($kind)"; }
    if [ $kind = shared ]; then
        needs_libatls "$T/cm-$kind/atls-consumer" || fail "atls::atls is not libatls.so.0"
    else
        needs_libatls "$T/cm-$kind/atls-consumer" && fail "atls::atls_static needs libatls.so"
    fi
    # CMake puts the installed library directory in the build RPATH: no LD_LIBRARY_PATH
    run "find_package-$kind" "$T/cm-$kind/atls-consumer"
done
# 3. the echo examples (examples/echo) against the installed tree, both ways
for side in server client; do
    cc -std=c11 -Wall -Wextra -Werror $NOJSON $cflags "$S/examples/echo/attested_echo_$side.c" \
        -o "$T/pc-echo-$side" $(pkg-config --libs atls) || fail "build attested_echo_$side with pkg-config"
done
cmake -S "$S/examples/echo" -B "$T/echo" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror $NOJSON" > "$T/echo.log" 2>&1 \
    && cmake --build "$T/echo" >> "$T/echo.log" 2>&1 || { cat "$T/echo.log"; fail "examples/echo with find_package"; }
for bin in "$T/pc-echo-server" "$T/pc-echo-client" "$T/echo/attested_echo_server" \
    "$T/echo/attested_echo_client" "$T/echo/echo_server" "$T/echo/echo_client"; do
    rc=0
    LD_LIBRARY_PATH=$libdir "$bin" > /dev/null 2> "$T/usage.err" || rc=$?
    [ "$rc" -eq 2 ] && grep -q '^usage: ' "$T/usage.err" || fail "$bin without arguments: exit $rc, not usage"
done
echo "ok: examples/echo built against the installed tree (pkg-config, find_package)"
echo "ok: installed tree usable through pkg-config and find_package, shared and static"
