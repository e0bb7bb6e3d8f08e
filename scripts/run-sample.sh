#!/usr/bin/env bash
# One command on a fresh Debian machine: install, build, and run the tool on
# the sample savepoint the project ships (testdata/sample-savepoint).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo
echo "\$ flink-savepoint inspect testdata/sample-savepoint"
./build/flink-savepoint inspect testdata/sample-savepoint
echo
echo "\$ flink-savepoint uid-hash my-kafka-source"
./build/flink-savepoint uid-hash my-kafka-source
