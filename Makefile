# SPDX-License-Identifier: Apache-2.0
# A thin driver over CMake.  Every target that needs tools runs scripts/deps
# first, so `make test` and `make demo` work on a fresh Debian 12 machine.
#
#   make          build the libraries and the examples (build/)
#   make test     build and run the test suite
#   make asan     the suite under AddressSanitizer + UBSan (build-asan/)
#   make tsan     the suite under ThreadSanitizer (build-tsan/)
#   make demo     run the download manager's scenario (apps/dl, book ch. 6.0)
#   make bench    run the benchmarks next to their Elixir twins
#   make fuzz     run the libFuzzer harnesses (FUZZ_SECONDS each)
#   make install  install headers, libraries, pkg-config and CMake files
#                 (PREFIX=/usr/local)

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=
# Criterion runs tests in parallel; keep it to the cores we have.  A test
# that hangs fails after 5 minutes instead of hanging the run.
TEST_FLAGS ?= -j$(JOBS) --timeout 300

.PHONY: all build test asan tsan demo bench fuzz install deps clean

all: build

deps:
	@scripts/deps

CONFIGURE = cmake -S . -B build -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build/CMakeCache.txt:
	$(CONFIGURE)

build: build/CMakeCache.txt
	cmake --build build -j$(JOBS)

# test and demo configure again after deps (cheap when nothing changed): a
# build/ first configured before deps installed libcurl would otherwise
# keep "not found" and leave cotp-dl out.  deps is their only prerequisite,
# so make -j cannot configure before it is done.
test: deps
	$(CONFIGURE)
	cmake --build build -j$(JOBS)
	tests/run build $(TEST_FLAGS)

build-asan/CMakeCache.txt:
	cmake -S . -B build-asan -DCOTP_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug \
	  -DCOTP_BENCH=OFF $(CMAKE_FLAGS)

asan: deps build-asan/CMakeCache.txt
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  tests/run build-asan $(TEST_FLAGS)

build-tsan/CMakeCache.txt:
	cmake -S . -B build-tsan -DCOTP_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug \
	  -DCOTP_BENCH=OFF $(CMAKE_FLAGS)

tsan: deps build-tsan/CMakeCache.txt
	cmake --build build-tsan -j$(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp \
	  tests/run build-tsan $(TEST_FLAGS)

# Only what the demo runs: the library and cotp-dl, not the suite.
demo: deps
	$(CONFIGURE)
	cmake --build build -j$(JOBS) --target cotp-dl
	build/apps/dl/cotp-dl

bench: deps
	@scripts/deps --bench
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCOTP_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build build-bench -j$(JOBS)
	bench/run build-bench

build-fuzz/CMakeCache.txt:
	CC=clang cmake -S . -B build-fuzz -DCOTP_FUZZ=ON -DCOTP_TESTS=OFF \
	  -DCOTP_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)

fuzz: deps build-fuzz/CMakeCache.txt
	@scripts/deps --fuzz
	cmake --build build-fuzz -j$(JOBS)
	tests/fuzz/run build-fuzz $(FUZZ_SECONDS)

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-asan build-tsan build-bench build-fuzz
