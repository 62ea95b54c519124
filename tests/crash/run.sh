#!/usr/bin/env bash
# Crash test on SQLite and, when SHOUYE_TEST_PG is set, on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${SHOUYE_BIN:-$PWD/build/shouye}
tmp=$(mktemp -d /tmp/shouye-crash.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
one() { # db
  SHOUYE_ADMIN_PASSWORD=crash-admin-pw "$BIN" init --db "$1" >/dev/null
  "$BIN" demo --db "$1" >/dev/null
  local out
  if out=$(node tests/crash/crash.mjs "$BIN" "$1"); then :; fi
  echo "$out"
  passed=$((passed + $(echo "$out" | tail -1 | awk '{print $1}')))
  failed=$((failed + $(echo "$out" | tail -1 | awk '{print $3}')))
}
echo "crash test: SQLite" >&2
one "$tmp/crash.db"
if [ -n "${SHOUYE_TEST_PG:-}" ]; then
  echo "crash test: PostgreSQL" >&2
  name="crash_$$_$RANDOM"
  psql -qX "$SHOUYE_TEST_PG" -c "CREATE DATABASE $name" >/dev/null
  one "${SHOUYE_TEST_PG%/*}/$name"
  psql -qX "$SHOUYE_TEST_PG" -c "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
