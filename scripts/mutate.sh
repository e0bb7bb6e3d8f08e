#!/usr/bin/env bash
# Mutation stage: plants each semantic mutation of scripts/mutations.txt (one
# at a time) into a copy of the source tree, rebuilds, runs the test suite and
# reports the mutants no test killed. See docs/testing.md.
#
# Usage: scripts/mutate.sh [--ci] [ID...]
#   (no argument)  every mutation of the list
#   --ci           the small sample marked "ci: yes" (a stage of scripts/test.sh)
#   --full-suite   run the whole suite for every mutant (default: its tests: filter)
#   ID...          only these mutations
# The copy lives in build-mut/tree (synchronised with the working tree at the
# start: same files, same contents; unchanged files keep their build), the
# build in build-mut/build. Each mutant starts from the pristine file.
# Environment: FSP_MUTATE_LIST (default scripts/mutations.txt),
#   FSP_MUTATE_CXXFLAGS (default "-O1 -g0"), FSP_MUTATE_TIMEOUT (seconds per
#   suite run, default 900), FSP_MUTATE_BUILD_DIR (mutate the working tree in
#   place and rebuild that existing build: no copy), FSP_MUTATE_SKIP_BASELINE=1.
# Exit status: 0 when every mutant applied was killed; 1 when one survived, or
# (with --ci) one is stale or does not compile.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
list=${FSP_MUTATE_LIST:-scripts/mutations.txt}
ci=0
full=0
ids=()
for a in "$@"; do
  case $a in
    --ci) ci=1 ;;
    --full-suite) full=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) ids+=("$a") ;;
  esac
done

work=$root/build-mut
tree=$work/tree
build=$work/build
mkdir -p "$work"
[ -z "${FSP_SHARED_DIR:-}" ] && [ -d "$root/../shared" ] && export FSP_SHARED_DIR="$root/../shared"
# FSP_MUTATE_BUILD_DIR=DIR: no copy; mutate the working tree itself and rebuild DIR (an existing
# build of it, e.g. build-cov) incrementally. Faster; each file is restored after its mutant.
inplace=0
if [ -n "${FSP_MUTATE_BUILD_DIR:-}" ]; then inplace=1; tree=$root; build=$(cd "$FSP_MUTATE_BUILD_DIR" && pwd); fi

# --- 1. the copy: exactly the working tree's files (tracked and new, not ignored) ---------------
if [ $inplace = 0 ]; then
mkdir -p "$tree"
mapfile -d '' files < <(git ls-files -z -co --exclude-standard)
declare -A keep=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  keep["$f"]=1
  if ! cmp -s "$f" "$tree/$f"; then mkdir -p "$tree/$(dirname "$f")"; cp "$f" "$tree/$f"; fi
done
while IFS= read -r -d '' f; do
  rel=${f#"$tree"/}
  [ -n "${keep[$rel]:-}" ] || rm -f "$f"
done < <(find "$tree" -type f -print0)

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$tree" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="${FSP_MUTATE_CXXFLAGS:--O1 -g0}" \
  -DFSP_BUILD_BENCH=OFF -DFSP_BUILD_FUZZ=OFF "${launcher[@]}" >/dev/null
fi
targets=(fsp_tests flink-savepoint make-sample)

run_suite() {  # run_suite FILTER LOG: the suite's exit status
  (cd "$build/tests" && timeout "${FSP_MUTATE_TIMEOUT:-900}" ./fsp_tests --gtest_brief=1 --gtest_fail_fast \
     --gtest_filter="$1" >"$2" 2>&1)
}

echo "mutate: building the unmutated copy and running the suite once"
ninja -C "$build" -j "$(nproc)" "${targets[@]}" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; echo "mutate: the copy does not build"; exit 1; }
if [ "${FSP_MUTATE_SKIP_BASELINE:-0}" = 1 ]; then
  echo "mutate: FSP_MUTATE_SKIP_BASELINE=1: the suite is assumed to pass unmutated"
elif ! run_suite '*' "$work/baseline.log"; then
  grep -E '^\[  FAILED  \]' "$work/baseline.log" | head -20
  echo "mutate: the suite fails without any mutation; fix that first"
  exit 1
fi

# --- 2. the list ------------------------------------------------------------------------------
# One record per mutation: id, file, find, replace, nth, tests, ci, why (NUL-separated fields).
mapfile -d '' records < <(python3 - "$list" <<'EOF'
import sys
recs, cur = [], None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("#") or not line.strip():
        continue
    if line.startswith("[") and line.endswith("]"):
        cur = {"id": line[1:-1]}
        recs.append(cur)
        continue
    key, _, value = line.partition(":")
    cur[key.strip()] = value[1:] if value.startswith(" ") else value
for r in recs:
    for k in ("id", "file", "find", "replace", "nth", "tests", "ci", "why"):
        sys.stdout.write(r.get(k, "") + "\0")
EOF
)

apply() {  # apply SRC DST FIND REPLACE NTH: writes the mutant to DST; fails with a reason on stdout
  python3 - "$@" <<'EOF'
import sys
src, dst, find, repl, nth = sys.argv[1:6]
find, repl = find.replace("\\n", "\n"), repl.replace("\\n", "\n")
text = open(src, encoding="utf-8").read()
n = text.count(find)
if n == 0:
    print("text not found"); sys.exit(1)
if nth:
    k = int(nth)
    if k > n:
        print(f"occurrence {k} of {n}"); sys.exit(1)
elif n > 1:
    print(f"text occurs {n} times (add nth:)"); sys.exit(1)
else:
    k = 1
at = -1
for _ in range(k):
    at = text.index(find, at + 1)
open(dst, "w", encoding="utf-8").write(text[:at] + repl + text[at + len(find):])
EOF
}

declare -a killed=() survived=() stale=() invalid=()
restore=""
trap '[ -n "$restore" ] && cp "$work/pristine" "$tree/$restore"' EXIT
tracked=$(git ls-files -co --exclude-standard)
for ((i = 0; i < ${#records[@]}; i += 8)); do
  id=${records[i]} file=${records[i+1]} find=${records[i+2]} repl=${records[i+3]}
  nth=${records[i+4]} tests=${records[i+5]:-*} inci=${records[i+6]} why=${records[i+7]}
  [ $full = 1 ] && tests='*'
  if [ ${#ids[@]} -gt 0 ]; then [[ " ${ids[*]} " == *" $id "* ]] || continue
  elif [ $ci = 1 ] && [ "$inci" != yes ]; then continue; fi
  # Among the library and CLI sources; a name without cli/ never means a CLI file.
  matches=$(grep -E "^(src|formats)/(.*/)?${file//./\\.}\$" <<<"$tracked" || true)
  [[ $file == */cli/* || $file == cli/* ]] || matches=$(grep -v '/cli/' <<<"$matches" || true)
  if [ "$(grep -c . <<<"$matches")" != 1 ]; then
    stale+=("$id: file '$file' matches ${matches:-nothing}")
    echo "STALE     $id: file '$file' not found (or ambiguous)"
    continue
  fi
  cp "$root/$matches" "$work/pristine"
  if ! reason=$(apply "$work/pristine" "$tree/$matches" "$find" "$repl" "$nth"); then
    stale+=("$id: $reason in $matches")
    echo "STALE     $id: $reason in $matches"
    continue
  fi
  restore=$matches
  start=$SECONDS
  if ! ninja -C "$build" -j "$(nproc)" "${targets[@]}" >"$work/build.log" 2>&1; then
    invalid+=("$id")
    echo "INVALID   $id: does not compile ($matches)"
  elif run_suite "$tests" "$work/run.log"; then
    survived+=("$id: $why")
    echo "SURVIVED  $id ($((SECONDS - start)) s): $why"
  else
    by=$(grep -m1 -E '^\[  FAILED  \]' "$work/run.log" | sed 's/^\[  FAILED  \] *//; s/ (.*//' || true)
    [ -z "$by" ] && by="exit status (timeout or crash): $(tail -1 "$work/run.log")"
    killed+=("$id")
    echo "KILLED    $id ($((SECONDS - start)) s) by $by"
  fi
  cp "$work/pristine" "$tree/$matches"  # pristine again (a new mtime: rebuilt with the next mutant)
  restore=""
done

total=$(( ${#killed[@]} + ${#survived[@]} ))
echo
echo "mutate: ${#killed[@]} killed, ${#survived[@]} survived, ${#stale[@]} stale, ${#invalid[@]} invalid"
[ $total -gt 0 ] && echo "mutation score: ${#killed[@]}/$total = $(( 100 * ${#killed[@]} / total ))% killed"
if [ ${#survived[@]} -gt 0 ]; then echo "survivors (no test failed):"; printf '  %s\n' "${survived[@]}"; fi
if [ ${#stale[@]} -gt 0 ]; then echo "stale entries (update $list):"; printf '  %s\n' "${stale[@]}"; fi
[ ${#survived[@]} -eq 0 ] || exit 1
if [ $ci = 1 ] && [ $(( ${#stale[@]} + ${#invalid[@]} )) -gt 0 ]; then exit 1; fi
exit 0
