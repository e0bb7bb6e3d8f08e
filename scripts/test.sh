#!/usr/bin/env bash
# One command on a fresh Debian machine: install, build, and run every test.
# Tests over Flink's real files read ../shared/testdata; they skip when it is
# absent, and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
ctest --output-on-failure -j2 --timeout 900
