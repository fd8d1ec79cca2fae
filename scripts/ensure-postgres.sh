#!/usr/bin/env bash
# Makes a local PostgreSQL 15 (Debian's) available for the test suite: installs it when
# missing, starts the cluster, and creates the `scaibunker` role the tests connect as.
# Idempotent: a second run only checks. The URL to connect with is the only line on stdout:
# everything the PostgreSQL tools print goes to stderr (pg_ctlcluster prints "Removed stale
# pid file." on stdout after an unclean stop, which once became part of the URL).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_apt_packages postgresql-15 postgresql-client-15

if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "main"' | grep -q .; then
  log "creating PostgreSQL 15 cluster"
  pg_createcluster 15 main >&2
fi
if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "main" && $4 == "online"' | grep -q .; then
  log "starting PostgreSQL 15"
  pg_ctlcluster 15 main start >&2
fi

port=$(pg_lsclusters -h | awk '$1 == "15" && $2 == "main" {print $3}')
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || die "PostgreSQL did not become ready on port $port"

# The tests create and drop one database per test file, so the role needs CREATEDB.
runuser -u postgres -- psql -p "$port" -qtAc \
  "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scaibunker') THEN CREATE ROLE scaibunker LOGIN CREATEDB PASSWORD 'scaibunker'; END IF; END \$\$;" >/dev/null
echo "postgres://scaibunker:scaibunker@127.0.0.1:${port}/postgres"
