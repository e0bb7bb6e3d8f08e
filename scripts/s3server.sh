#!/usr/bin/env bash
# The S3 protocol server the test suite talks to: the npm registry's s3rver
# (version pinned by tests/s3server/package-lock.json), installed into
# tests/s3server/node_modules (never committed) and run on loopback.
#   scripts/s3server.sh start DIR   starts it with its data in DIR/data, writes
#                                   DIR/endpoint (http://127.0.0.1:PORT) and DIR/pid
#   scripts/s3server.sh stop DIR    stops the server started in DIR
# Tests read the endpoint from FSP_TEST_S3_ENDPOINT (scripts/test.sh exports it);
# access key id and secret are both S3RVER, buckets fsp-test-a and fsp-test-b exist.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:?usage: scripts/s3server.sh start|stop DIR}
dir=${2:?usage: scripts/s3server.sh start|stop DIR}

case "$cmd" in
  start)
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
      echo "s3server: node and npm are needed (scripts/setup.sh installs them)" >&2
      exit 1
    fi
    if [ ! -x tests/s3server/node_modules/.bin/s3rver ]; then
      echo "s3server: installing s3rver from the npm registry into tests/s3server/node_modules"
      (cd tests/s3server && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
    mkdir -p "$dir/data"
    rm -f "$dir/endpoint"
    # s3rver encrypts continuation tokens with DES: OpenSSL 3 has it in its legacy provider.
    legacy=""
    if node --openssl-legacy-provider -e "" 2>/dev/null; then legacy="--openssl-legacy-provider"; fi
    node $legacy tests/s3server/node_modules/s3rver/bin/s3rver.js -d "$dir/data" -a 127.0.0.1 -p 0 --silent \
      --configure-bucket fsp-test-a --configure-bucket fsp-test-b >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    # s3rver prints "S3rver listening on 127.0.0.1:PORT" even when --silent.
    for _ in $(seq 1 100); do
      port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$dir/log" 2>/dev/null | grep -o '[0-9]*$' || true)
      if [ -n "$port" ]; then
        echo "http://127.0.0.1:$port" >"$dir/endpoint"
        echo "s3server: s3rver listening on http://127.0.0.1:$port (pid $(cat "$dir/pid"))"
        exit 0
      fi
      if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
      sleep 0.1
    done
    echo "s3server: s3rver did not start; its log:" >&2
    cat "$dir/log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      kill "$(cat "$dir/pid")" 2>/dev/null || true
      rm -f "$dir/pid" "$dir/endpoint"
    fi
    ;;
  *)
    echo "usage: scripts/s3server.sh start|stop DIR" >&2
    exit 64
    ;;
esac
