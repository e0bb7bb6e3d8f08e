#!/usr/bin/env bash
# Installs what flink-savepoint needs from Debian's packages (idempotent, no
# prompts) and builds it into ./build. Usage: scripts/setup.sh [cmake args...]
# FSP_SETUP_FUZZ=1 also installs clang for the fuzz stage.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(g++ cmake ninja-build pkg-config libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
          libbenchmark-dev libsnappy-dev libzstd-dev libboost-iostreams-dev librocksdb-dev libyaml-cpp-dev libcurl4-openssl-dev libarchive-dev
          dpkg-dev file man-db  # the package stage: cpack .deb (dpkg-shlibdeps), man pages
          gcovr python3)  # gcovr: the coverage stage; python3: scripts/coverage.sh and scripts/mutate.sh
# The test suite's S3 server (s3rver, from the npm registry) runs on Node.js;
# any Node.js with npm will do (Debian's or one already installed).
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi
# The fuzz stage (scripts/fuzz.sh, run by scripts/test.sh) also needs clang
# and its libFuzzer/ASan/UBSan runtimes.
if [ "${FSP_SETUP_FUZZ:-0}" = 1 ]; then
  PACKAGES+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C build
