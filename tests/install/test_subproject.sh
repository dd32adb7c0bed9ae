#!/usr/bin/env bash
# install_subproject: a project that adds atls with add_subdirectory (parent/) keeps its own
# BUILD_TESTING (OFF stays OFF; with ON, only its own test is registered, none of atls's) and
# its build type, gets atls::atls and atls::atls_static with only include/ as their include
# directory, and builds and runs the consumer program against them.
set -euo pipefail
S=${ATLS_SOURCE_DIR:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-subproject-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
configure() { # configure DIR ARGS...
    local dir=$1; shift
    cmake -S "$S/tests/install/parent" -B "$T/$dir" -DATLS_SOURCE="$S" "$@" > "$T/$dir.log" 2>&1 \
        || { cat "$T/$dir.log"; fail "configure $dir"; }
}
cache() { sed -n "s/^$2:[A-Z]*=//p" "$T/$1/CMakeCache.txt"; }
tests_in() { ctest --test-dir "$T/$1" -N | sed -n 's/^Total Tests: //p'; }

configure off -DBUILD_TESTING=OFF
[ "$(cache off BUILD_TESTING)" = OFF ] || fail "BUILD_TESTING OFF was overridden: $(cache off BUILD_TESTING)"
[ "$(tests_in off)" = 0 ] || fail "atls registered tests in a parent without BUILD_TESTING"
[ -z "$(cache off CMAKE_BUILD_TYPE)" ] || fail "atls set the parent's build type: $(cache off CMAKE_BUILD_TYPE)"
echo "ok: BUILD_TESTING=OFF stays OFF, no tests, build type untouched"

configure on -DBUILD_TESTING=ON
[ "$(tests_in on)" = 1 ] || fail "expected only the parent's test, found $(tests_in on)"
echo "ok: BUILD_TESTING=ON registers the parent's test and none of atls's"

cmake --build "$T/off" --target atls-consumer -j2 > "$T/build.log" 2>&1 \
    || { tail -30 "$T/build.log"; fail "build the consumer against add_subdirectory(atls)"; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/sim.key" 2> /dev/null
"$T/off/atls-consumer" "$T/sim.key" > "$T/run.out" 2>&1 || { cat "$T/run.out"; fail "consumer failed"; }
echo "ok: consumer built against add_subdirectory(atls) and run ($(grep -c '^ok' "$T/run.out") checks)"
