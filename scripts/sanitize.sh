#!/usr/bin/env bash
# Sanitizer stage: builds the project with AddressSanitizer and
# UndefinedBehaviorSanitizer into ./build-asan (-DFSP_SANITIZE=ON, no
# benchmarks) and runs the whole test suite there. Any sanitizer report fails
# the test that triggered it (-fno-sanitize-recover, halt_on_error).
# Usage: scripts/sanitize.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# -O1 -g1: a third of the compile time of -O2 -g, still fast enough to run the suite.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" -DFSP_SANITIZE=ON -DFSP_BUILD_BENCH=OFF >/dev/null
ninja -C build-asan

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd build-asan
ctest --output-on-failure -j2 --timeout 1800 "$@"
