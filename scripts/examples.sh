#!/usr/bin/env bash
# Installs the library from ./build into a clean temporary prefix, builds
# examples/ as a separate CMake project against the installed package (and
# one example with pkg-config), and runs it on testdata/sample-savepoint.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
prefix=$(mktemp -d /tmp/fsp-prefix-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix" >/dev/null
# Only public headers are installed.
test ! -e "$prefix/include/flink_savepoint/state_internal.h"
test -f "$prefix/include/flink_savepoint/model.h"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S examples -B "$prefix/build-examples" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" >/dev/null
ninja -C "$prefix/build-examples" >/dev/null
out=$("$prefix/build-examples/operator_sizes" "$root/testdata/sample-savepoint")
echo "$out"
expect() { grep -qF -- "$1" <<<"$out" || { echo "examples: expected '$1' in the output" >&2; exit 1; }; }
expect "checkpoint 42, metadata version 6, 3 operators"
expect "c9182e4c118ce17652e75de761521d96 uid=enrich-orders-uid parallelism=2 bytes=1106"
expect "45b0254a46cabbc3efeea5d2e170ea5b uid=orders-source parallelism=2 bytes=464"
# The same program through pkg-config.
PKG_CONFIG_PATH="$prefix/lib/pkgconfig:${PKG_CONFIG_PATH:-}" \
  c++ -o "$prefix/operator_sizes_pc" examples/operator_sizes.cc $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs flink_savepoint)
"$prefix/operator_sizes_pc" "$root/testdata/sample-savepoint" | cmp - <(echo "$out")
echo "examples: built against the installed package (CMake and pkg-config) and ran on the sample savepoint"
