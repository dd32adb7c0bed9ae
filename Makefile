# Convenience front end over CMake/CTest. Every target installs missing Debian packages first
# (scripts/setup-deps) so a fresh Debian 12 machine needs nothing else.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

.PHONY: all deps build demo test test-asan test-valgrind fuzz bench soak compare clean

all: build

deps:
	@scripts/setup-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) -- --no-print-directory

# The main job: an attested connection on loopback, end to end. Builds only what the demo runs:
# the atls binary (and libatls it links) and the echo backend.
demo: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target atls atls-echo-backend -- --no-print-directory
	@scripts/demo $(BUILD)

# The whole test suite (unit, integration, attack lab) in the normal build. Every result is
# also written to $(BUILD)/junit.xml (scripts/check-skips reads it in CI).
test: build
	@scripts/setup-npm-checkers $(BUILD)/npm-cache
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --label-exclude soak \
	  --output-junit junit.xml $(CTEST_ARGS)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer. A sanitizer report exits
# 86 (no program of ours uses it), never 1 = "contraindicated" (cmake/sanitizer_options.c).
SANITIZER_ENV = ASAN_OPTIONS=exitcode=86:detect_leaks=1:abort_on_error=0 \
  UBSAN_OPTIONS=exitcode=86:print_stacktrace=1:halt_on_error=1
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DATLS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS) -- --no-print-directory
	@scripts/setup-npm-checkers $(ASAN_BUILD)/npm-cache
	@cd $(ASAN_BUILD) && $(SANITIZER_ENV) \
	  ctest --output-on-failure -j$(JOBS) --label-exclude 'soak|nosan' \
	  --output-junit junit.xml $(CTEST_ARGS)

# The suite under valgrind memcheck (slow; not part of CI): no errors, no leaks.
test-valgrind: deps
	@cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Debug -DATLS_TEST_TIMEOUT_SCALE=20 >/dev/null
	@cmake --build build-valgrind -j$(JOBS) -- --no-print-directory
	@scripts/test-valgrind build-valgrind $(CTEST_ARGS)

# Benchmarks (not tests): ratios against same-run baselines, written to docs/BENCHMARKS.md.
bench: deps
	@scripts/bench

# Intra- vs post-handshake attestation, measured on this machine: docs/COMPARISON.md (not a test;
# a few minutes). COMPARE_N0 / COMPARE_N: connections per design at RTT 0 / 20 and 80 ms.
compare: deps
	@scripts/compare

# The bounded soak test: N attested connections re-attesting every 5 s for T seconds,
# misbehaving clients mixed in (default: 1 000 connections, 10 minutes; make soak N=200 T=60).
N ?= 1000
T ?= 600
soak: deps
	@scripts/soak $(N) $(T)

# Every libFuzzer target for FUZZ_SECONDS each (clang).
FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-valgrind
