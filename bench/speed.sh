#!/usr/bin/env bash
# Whole-process speed and peak memory of the commands issue 13 targets, over
# generated RocksDB incremental checkpoints of about 10 MB, 100 MB and 1 GB
# (bench/gen_checkpoint.cc), plus the ulimit -v checks. Prints a Markdown
# table; run by hand, never as a test (see bench/README.md).
#
#   bench/speed.sh                      # build/, sizes 10mb 100mb 1gb, 5 runs each
#   SIZES="10mb 100mb" RUNS=10 CLI=/path/to/flink-savepoint bench/speed.sh
#   ULIMIT_ONLY=1 SIZES=10mb bench/speed.sh    # only the ulimit -v checks (FLOOR_KB: see below)
set -euo pipefail
BUILD=${BUILD:-build}
CLI=${CLI:-$BUILD/flink-savepoint}
GEN=${GEN:-$BUILD/bench/gen_checkpoint}
OUT=${OUT:-/tmp/fsp-speed}
SIZES=${SIZES:-"10mb 100mb 1gb"}
RUNS=${RUNS:-5}

parallelism() { case $1 in 10mb) echo 102 ;; 100mb) echo 1024 ;; 1gb) echo 10240 ;; *) echo "unknown size $1" >&2; exit 64 ;; esac; }

median() {  # hyperfine JSON -> median seconds
  python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}

if [ -z "${ULIMIT_ONLY:-}" ]; then
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo
echo "| size | command | median s (hyperfine, $RUNS runs) | peak RSS MiB | RSS / file |"
echo "|---|---|---|---|---|"
for size in $SIZES; do
  dir=$OUT/$size
  f=$dir/_metadata
  if [ ! -f "$f" ]; then
    mkdir -p "$dir"
    "$GEN" "$f" --parallelism "$(parallelism "$size")" >/dev/null
  fi
  bytes=$(stat -c %s "$f")
  mkdir -p "$dir/out"
  declare -A cmds=(
    [inspect]="$CLI inspect $f"
    [inspect --json]="$CLI inspect --json $f"
    [inspect --handles]="$CLI inspect --handles $f"
    [relocate]="$CLI relocate $f --from s3://flink-prod-bucket --to s3://flink-sandbox-bucket --output $dir/out/_metadata --force"
  )
  for name in "inspect" "inspect --json" "inspect --handles" "relocate"; do
    cmd=${cmds[$name]}
    hyperfine -N --warmup 1 --runs "$RUNS" --output=null --export-json "$dir/hf.json" "$cmd" >/dev/null 2>&1
    t=$(median "$dir/hf.json")
    rss_kb=$(/usr/bin/time -f %M $cmd 2>&1 >/dev/null | tail -1)
    echo "| $size ($((bytes >> 20)) MiB) | \`$name\` | $t | $((rss_kb >> 10)) | $(python3 -c "print('%.2f' % ($rss_kb * 1024 / $bytes))") |"
  done
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

# ulimit -v checks (address space, KiB): 3x the file must complete; 1x must exit 74 with a
# message, never 134 (abort) or a crash. The limit is max(mult x file, FLOOR_KB): before main()
# runs, the dynamic loader maps the shared libraries (librocksdb, libstdc++, yaml-cpp, Boost;
# libcurl and libarchive are opened only when a store or an archive is used), 20-30 MiB of
# address space here (70-75 MiB while libcurl and libarchive with libxml2 and ICU were linked),
# and below that the loader itself fails with exit 127 ("failed to map segment from shared
# object") whatever the file. At the floor a small file may complete: that is a pass too (exit 0
# or 74, never 134).
FLOOR_KB=${FLOOR_KB:-40960}
for size in $SIZES; do
  f=$OUT/$size/_metadata
  kb=$(( $(stat -c %s "$f") / 1024 ))
  for mult in 3 1; do
    limit=$((kb * mult)); floor=""
    if [ "$limit" -lt "$FLOOR_KB" ]; then limit=$FLOOR_KB; floor=" (floor)"; fi
    for cmd in "inspect --json" "inspect" "inspect --handles"; do
      set +e
      ( ulimit -v $limit; $CLI $cmd "$f" >/dev/null 2>"$OUT/err.txt" )
      rc=$?
      set -e
      if [ $mult = 3 ]; then ok=$([ $rc = 0 ] && echo pass || echo FAIL)
      else ok=$({ [ $rc = 74 ] && [ -s "$OUT/err.txt" ]; } || { [ -n "$floor" ] && [ $rc = 0 ]; } && echo pass || echo FAIL); fi
      echo "ulimit -v ${mult}x ($size, $limit KiB$floor) $cmd: exit $rc, $ok $(head -c 300 "$OUT/err.txt" | tr '\n' ' ')"
    done
  done
done
