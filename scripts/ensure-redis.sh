#!/usr/bin/env bash
# Makes a private Redis (Debian's redis-server) available for the test suite, for the quota
# counters' Redis mode: installs it when missing and starts one instance on 127.0.0.1:6390,
# no persistence, apart from any system Redis. Idempotent: a second run only checks. The URL
# is the only line on stdout.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_apt_packages redis-server
port=6390
if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
  log "starting a test Redis on port $port"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
    --dir /tmp --pidfile /tmp/scaibunker-test-redis.pid --logfile /tmp/scaibunker-test-redis.log >&2
  for _ in $(seq 1 30); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
redis-cli -p "$port" ping >/dev/null 2>&1 || die "the test Redis did not answer on port $port"
echo "redis://127.0.0.1:${port}"
