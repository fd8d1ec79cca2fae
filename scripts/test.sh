#!/usr/bin/env bash
# `npm test`: installs whatever is missing, builds, starts a local PostgreSQL and Redis, and runs the
# whole suite twice: once on SQLite and once on PostgreSQL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/lib.sh"

ensure_apt_packages ca-certificates python3 make g++
ensure_node_workspace "$root"
postgres_url=$(bash "$root/scripts/ensure-postgres.sh")
[[ $postgres_url =~ ^postgres://[^[:space:]]+$ ]] || die "ensure-postgres.sh printed no usable URL: '$postgres_url'"
redis_url=$(bash "$root/scripts/ensure-redis.sh")
[[ $redis_url =~ ^redis://[^[:space:]]+$ ]] || die "ensure-redis.sh printed no usable URL: '$redis_url'"
bash "$root/scripts/ensure-guest.sh"
cd "$root"

log "guest agent: unit and integration tests, then ${FUZZ_SECONDS:-60} s of fuzzing"
make -s -C packages/guest test
mkdir -p packages/guest/build
if ! make -s -C packages/guest fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" > packages/guest/build/fuzz.log 2>&1; then
  tail -n 60 packages/guest/build/fuzz.log
  die "the fuzzer found a crash (packages/guest/build/fuzz.log, artifacts in packages/guest/build/)"
fi
grep -E "stat::number_of_executed_units|Done [0-9]+ runs" packages/guest/build/fuzz.log | sed 's/^/  fuzz: /' >&2 || true
log "type-checking the tests"
npx tsc -p tsconfig.tests.json

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
for db in sqlite postgres; do
  log "test suite on $db"
  SCAIBUNKER_TEST_DATABASE=$db SCAIBUNKER_TEST_POSTGRES_URL=$postgres_url SCAIBUNKER_TEST_REDIS_URL=$redis_url \
    npx vitest run --reporter=default --reporter=json --outputFile.json="$results/$db.json" "$@" || status=1
done

# One closing line over both runs, in the plain form CI reads.
node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const file of process.argv.slice(1)) {
    try {
      const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
      passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
      if (!r.success && r.numFailedTests === 0) failed += Math.max(1, r.numFailedTestSuites);
    } catch { failed += 1; }
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results/sqlite.json" "$results/postgres.json"
exit $status
