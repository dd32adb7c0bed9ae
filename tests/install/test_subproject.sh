#!/usr/bin/env bash
# install_subproject: a project that adds atls with add_subdirectory (parent/) keeps its own
# BUILD_TESTING (OFF stays OFF; with ON, only its own test is registered, none of atls's) and
# its build type, and gets atls::atls and atls::atls_static with only include/ as their include
# directory (parent/CMakeLists.txt checks that). Configure only.
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

# (building the consumer there would compile all of atls a second time inside make test; the
# installed-tree consumers of install_consumer cover linking and running)
echo "ok: atls::atls and atls::atls_static from add_subdirectory, include/ their only include directory"
