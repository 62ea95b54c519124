#!/usr/bin/env bash
# Crash test: creates under load, kill -9, restart, nothing acknowledged lost (crash.mjs).
# Runs on a fresh SQLite store and, when SHOUYE_TEST_PG is set, on a fresh PostgreSQL database.
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${SHOUYE_BIN:-$PWD/build/shouye}
[ -x "$BIN" ] || { echo "crash: no server binary at $BIN (make build)" >&2; echo "0 passed, 1 failed"; exit 1; }

tmp=$(mktemp -d /tmp/shouye-crash.XXXXXX)
pgdb=""
cleanup() {
  if [ -n "$pgdb" ]; then
    psql -qX "$SHOUYE_TEST_PG" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
one() { # store (path or URL)
  local out rc=0
  if ! SHOUYE_ADMIN_PASSWORD=crash-admin-pw "$BIN" init --db "$1" >"$tmp/init.log" 2>&1; then
    cat "$tmp/init.log" >&2; echo "FAIL: shouye init --db $1" >&2; failed=$((failed + 1)); return
  fi
  if ! "$BIN" demo --db "$1" >"$tmp/demo.log" 2>&1; then
    cat "$tmp/demo.log" >&2; echo "FAIL: shouye demo --db $1" >&2; failed=$((failed + 1)); return
  fi
  out=$(node tests/crash/crash.mjs "$BIN" "$1") || rc=$?
  local last p f
  last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1 || true)
  p=$(awk '{print $1}' <<<"$last"); f=$(awk '{print $3}' <<<"$last")
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
    echo "FAIL: crash.mjs exited $rc" >&2; f=1
  fi
  echo "  $1: ${p:-0} passed, ${f:-0} failed" >&2
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}

echo "crash test: SQLite" >&2
one "$tmp/crash.db"

if [ -n "${SHOUYE_TEST_PG:-}" ]; then
  echo "crash test: PostgreSQL" >&2
  pgdb="crash_$$_$RANDOM"
  if psql -qX "$SHOUYE_TEST_PG" -c "CREATE DATABASE $pgdb" >/dev/null; then
    base=${SHOUYE_TEST_PG%%\?*}             # …/postgres[?params] → …/crash_…[?params]
    one "${base%/*}/$pgdb${SHOUYE_TEST_PG#"$base"}"
  else
    echo "FAIL: CREATE DATABASE $pgdb on $SHOUYE_TEST_PG" >&2
    pgdb=""; failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
