#!/usr/bin/env bash
# Fuzz stage: builds the libFuzzer targets of fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) into ./build-fuzz, generates seed
# corpora in a temporary directory (the project's own generators, plus
# ../shared/testdata read in place when present), and runs every target for
# FSP_FUZZ_SECONDS (default 60) each, FSP_FUZZ_JOBS (default 2) at a time.
# A crash, leak, timeout (>10 s per input), out-of-memory (>2 GiB RSS) or a
# single allocation over 512 MiB fails the stage; the input is kept in
# build-fuzz/artifacts/ and the log in build-fuzz/logs/.
# Usage: scripts/fuzz.sh [target...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_EACH=${FSP_FUZZ_SECONDS:-60}
JOBS=${FSP_FUZZ_JOBS:-2}
SHARED_TESTDATA=${FSP_SHARED_DIR:-$ROOT/../shared}/testdata

CC=${FSP_FUZZ_CC:-clang} CXX=${FSP_FUZZ_CXX:-clang++} cmake -S . -B build-fuzz -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFSP_SANITIZE=ON -DFSP_BUILD_FUZZ=ON -DFSP_BUILD_TESTS=OFF -DFSP_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
ninja -C build-fuzz fuzz/all make-sample   # the targets, the seed generator and make-sample

ALL_TARGETS=()
for f in build-fuzz/fuzz/fuzz_*; do [ -x "$f" ] && ALL_TARGETS+=("$(basename "$f" | sed 's/^fuzz_//')"); done
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fsp-fuzz-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Seeds: the sample savepoint written by make-sample, the generator's own
# inputs, and Flink's real files read where they are.
INPUTS=("$WORK/sample" "$ROOT/testdata/jobs")
build-fuzz/make-sample "$WORK/sample" >/dev/null
if [ -d "$SHARED_TESTDATA" ]; then
  INPUTS+=("$SHARED_TESTDATA")
else
  echo "fuzz: $SHARED_TESTDATA is absent: seeding from the project's own generators only"
fi
build-fuzz/fuzz/make-fuzz-seeds "$WORK/seeds" "${INPUTS[@]}"

mkdir -p build-fuzz/artifacts build-fuzz/logs
run_target() {
  local t=$1
  local corpus="$WORK/corpus/$t" seeds="$WORK/seeds/$t"
  mkdir -p "$corpus" "$seeds"
  local start=$(date +%s)
  set +e
  "build-fuzz/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$ROOT/build-fuzz/artifacts/$t-" "$corpus" "$seeds" \
    >"build-fuzz/logs/$t.log" 2>&1
  local rc=$?
  set -e
  local end=$(date +%s)
  local execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  local cov=$(grep -o 'cov: [0-9]*' "build-fuzz/logs/$t.log" | tail -1 | grep -o '[0-9]*')
  local crash=$(grep -o "Test unit written to [^ ]*" "build-fuzz/logs/$t.log" | sed 's/Test unit written to //' | tail -1)
  local nseeds=$(ls "$seeds" | wc -l)
  echo "$t $((end - start)) ${execs:-0} ${cov:-0} $nseeds $rc ${crash:--}" >"$WORK/result-$t"
}

echo "fuzz: ${#TARGETS[@]} target(s), ${SECONDS_EACH} s each, $JOBS at a time"
running=0
for t in "${TARGETS[@]}"; do
  if [ ! -x "build-fuzz/fuzz/fuzz_$t" ]; then echo "fuzz: no target $t" >&2; exit 64; fi
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n || true; running=$((running - 1)); fi
done
wait || true

status=0
printf '%-22s %8s %12s %8s %7s %s\n' target seconds executions coverage seeds result
for t in "${TARGETS[@]}"; do
  read -r name secs execs cov nseeds rc crash <"$WORK/result-$t"
  if [ "$rc" -eq 0 ]; then result="ok (0 crashes)"; else result="FAILED (exit $rc): $crash, log build-fuzz/logs/$t.log"; status=1; fi
  printf '%-22s %8s %12s %8s %7s %s\n' "$name" "$secs" "$execs" "$cov" "$nseeds" "$result"
done
if [ $status -ne 0 ]; then
  echo "fuzz: FAILED; reproduce with build-fuzz/fuzz/fuzz_<target> <input>"
  for t in "${TARGETS[@]}"; do
    read -r name secs execs cov nseeds rc crash <"$WORK/result-$t"
    [ "$rc" -ne 0 ] && { echo "---- $t"; grep -E "ERROR|SUMMARY|#[0-9]+ 0x|invariant|==" "build-fuzz/logs/$t.log" | head -30; }
  done
fi
exit $status
