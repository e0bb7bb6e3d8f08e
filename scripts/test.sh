#!/usr/bin/env bash
# One command on a fresh Debian machine: install, build, and run every test.
# Tests over Flink's real files read ../shared/testdata; they skip when it is
# absent, and fail under CI=true.
#
# Stages (each failure fails the script):
#   1. build (./build) and the test suite
#   1b. examples: install into a clean prefix, build examples/ against the package, run it
#   1c. package: cpack .deb and .tar.gz, apt-get install the .deb, run the installed tool, man page, completion
#   2. coverage: the suite in a gcc --coverage build (./build-cov), line and branch
#      coverage per layer, fails below the floors in scripts/coverage.sh
#   3. mutation sample: the "ci: yes" mutations of scripts/mutations.txt must
#      each make a test fail (scripts/mutate.sh --ci, rebuilding ./build-cov in place)
#   4. sanitize: the suite again under AddressSanitizer + UBSan (./build-asan)
#   5. fuzz: every libFuzzer target for FSP_FUZZ_SECONDS (default 60) each (./build-fuzz)
# Developers may skip stages 2-5 with FSP_SKIP_COVERAGE=1, FSP_SKIP_MUTATE=1,
# FSP_SKIP_SANITIZE=1, FSP_SKIP_FUZZ=1; under CI=true every stage runs.
# docs/testing.md describes the suite and each stage.
set -euo pipefail
cd "$(dirname "$0")/.."

skip_sanitize=${FSP_SKIP_SANITIZE:-0}
skip_fuzz=${FSP_SKIP_FUZZ:-0}
skip_coverage=${FSP_SKIP_COVERAGE:-0}
skip_mutate=${FSP_SKIP_MUTATE:-0}
if [ "${CI:-}" = "true" ]; then
  if [ "$skip_sanitize$skip_fuzz$skip_coverage$skip_mutate" != 0000 ]; then echo "test: CI=true: FSP_SKIP_* ignored, every stage runs"; fi
  skip_sanitize=0
  skip_fuzz=0
  skip_coverage=0
  skip_mutate=0
fi

declare -a summary=()
stage() {  # stage NAME COMMAND...
  local name=$1
  shift
  local start=$SECONDS
  echo
  echo "==== stage: $name"
  if "$@"; then
    summary+=("$name: passed in $((SECONDS - start)) s")
  else
    summary+=("$name: FAILED after $((SECONDS - start)) s")
    echo
    echo "test: stage '$name' FAILED"
    printf '  %s\n' "${summary[@]}"
    exit 1
  fi
}

run_suite() { (cd build && ctest --output-on-failure -j2 --timeout 900); }

# The object-store tests talk to an S3 protocol server on loopback (s3rver,
# scripts/s3server.sh), started here around the suites and stopped on exit.
S3_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fsp-s3-XXXXXX")
trap 'scripts/s3server.sh stop "$S3_DIR"; rm -rf "$S3_DIR"' EXIT
start_s3_server() {
  scripts/s3server.sh start "$S3_DIR" && export FSP_TEST_S3_ENDPOINT=$(cat "$S3_DIR/endpoint")
}

# The fuzz stage needs clang and its sanitizer/libFuzzer runtimes.
if [ "$skip_fuzz" = 1 ]; then
  stage "build" scripts/setup.sh
else
  stage "build" env FSP_SETUP_FUZZ=1 scripts/setup.sh
fi
if ! start_s3_server; then
  if [ "${CI:-}" = "true" ]; then echo "test: the S3 test server did not start, and CI=true requires it"; exit 1; fi
  echo "test: no S3 test server: the object-store tests skip"
fi
stage "tests" run_suite
stage "examples" scripts/examples.sh
stage "package (.deb install)" scripts/package.sh
if [ "$skip_coverage" = 1 ]; then summary+=("coverage: skipped (FSP_SKIP_COVERAGE=1)"); else stage "coverage" scripts/coverage.sh; fi
# The mutation sample reuses the coverage build (the suite just passed there): each mutant rebuilds one file.
mutate_sample() {
  if [ "$skip_coverage" = 0 ]; then FSP_MUTATE_BUILD_DIR=build-cov FSP_MUTATE_SKIP_BASELINE=1 scripts/mutate.sh --ci
  else scripts/mutate.sh --ci; fi
}
if [ "$skip_mutate" = 1 ]; then summary+=("mutation sample: skipped (FSP_SKIP_MUTATE=1)"); else stage "mutation sample" mutate_sample; fi
if [ "$skip_sanitize" = 1 ]; then summary+=("sanitize: skipped (FSP_SKIP_SANITIZE=1)"); else stage "sanitize (ASan+UBSan)" scripts/sanitize.sh; fi
if [ "$skip_fuzz" = 1 ]; then summary+=("fuzz: skipped (FSP_SKIP_FUZZ=1)"); else stage "fuzz" scripts/fuzz.sh; fi

echo
echo "test: all stages passed"
printf '  %s\n' "${summary[@]}"
