#!/usr/bin/env bash
# The whole suite: unit tests, API tests on SQLite and on a real PostgreSQL, the crash
# test, a short fuzz run. Prints "N passed, N failed" at the end; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export SHOUYE_BIN=$PWD/build/shouye

passed=0
failed=0
failures=()
count() { # name, passed, failed
  passed=$((passed + $2)); failed=$((failed + $3))
  if [ "$3" -gt 0 ]; then failures+=("$1"); fi
  echo "== $1: $2 passed, $3 failed" >&2
}

# --- unit tests (cmocka, via meson) ---
run_meson() { # meson-test-args...
  local log rc; log=$(mktemp)
  meson test -C build --print-errorlogs "$@" 2>&1 | tee "$log" >&2
  rc=${PIPESTATUS[0]}
  local ok fail exe_ok exe_fail
  exe_ok=$(grep -E '^Ok:' "$log" | awk '{s+=$2} END {print s+0}')
  exe_fail=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$log" | awk '{s+=$NF} END {print s+0}')
  # count cmocka's own test cases, not just the executables
  ok=$(grep -E '^\[  PASSED  \] [0-9]+ test' build/meson-logs/testlog.txt 2>/dev/null | awk '{s+=$4} END {print s+0}')
  fail=$(grep -E '^\[  FAILED  \] [0-9]+ test' build/meson-logs/testlog.txt 2>/dev/null | awk '{s+=$4} END {print s+0}')
  if [ "$ok" -eq 0 ]; then ok=$exe_ok; fi
  # an executable that crashed (sanitizer abort) prints no cmocka summary: count it too
  if [ "$exe_fail" -gt "$fail" ]; then fail=$exe_fail; fi
  # meson itself failed (build error, no tests run): never a silent pass
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  rm -f "$log"
  echo "$ok $fail"
}
suites=$(meson test -C build --list 2>/dev/null | sed -n 's/^[^:]*:\([^ ]*\) \/ .*/\1/p' | sort -u)
has_suite() { grep -qx "$1" <<<"$suites"; }

read -r ok fail < <(run_meson --no-suite store)
count "unit" "$ok" "$fail"

# --- PostgreSQL for the store suite and the API tests ---
PGDIR=$(mktemp -d /tmp/shouye-pg.XXXXXX)
PGPORT=${SHOUYE_TEST_PGPORT:-$((55000 + RANDOM % 900))}
cleanup() { scripts/pg.sh stop "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$PGDIR"; }
trap cleanup EXIT
PGURL=""
for try in 1 2 3 4 5; do # a random port may be taken: try a few
  if PGURL=$(scripts/pg.sh start "$PGDIR" "$PGPORT"); then break; fi
  PGURL=""
  [ -z "${SHOUYE_TEST_PGPORT:-}" ] || break
  PGPORT=$((55000 + RANDOM % 900))
done
if [ -n "$PGURL" ]; then
  export SHOUYE_TEST_PG=$PGURL
  echo "== PostgreSQL 15 at $PGURL" >&2
else
  echo "!! PostgreSQL did not start" >&2
  count "postgresql" 0 1
fi

if has_suite store; then
  read -r ok fail < <(run_meson --suite store)
  count "store (SQLite and PostgreSQL)" "$ok" "$fail"
fi

# --- API tests: node's test runner against a started server ---
run_api() { # backend
  local log; log=$(mktemp)
  SHOUYE_TEST_BACKEND=$1 node --test --test-concurrency=1 tests/api/ 2>&1 | tee "$log" >&2
  local rc=${PIPESTATUS[0]} ok fail
  ok=$(grep -E '^# pass ' "$log" | tail -1 | awk '{print $3}'); fail=$(grep -E '^# fail ' "$log" | tail -1 | awk '{print $3}')
  if [ -z "$ok" ] || { [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; }; then fail=$((${fail:-0} + 1)); fi
  rm -f "$log"
  echo "${ok:-0} ${fail:-0}"
}
if ls tests/api/*.test.mjs >/dev/null 2>&1; then
  read -r ok fail < <(run_api sqlite)
  count "api (SQLite)" "$ok" "$fail"
  if [ -n "${SHOUYE_TEST_PG:-}" ]; then
    read -r ok fail < <(run_api pg)
    count "api (PostgreSQL)" "$ok" "$fail"
  fi
fi

# --- the browser workbench in Debian's Chromium, driven by playwright-core ---
if ls tests/browser/*.test.mjs >/dev/null 2>&1; then
  log=$(mktemp)
  node --test --test-concurrency=1 tests/browser/ 2>&1 | tee "$log" >&2
  rc=${PIPESTATUS[0]}
  ok=$(grep -E '^# pass ' "$log" | tail -1 | awk '{print $3}'); fail=$(grep -E '^# fail ' "$log" | tail -1 | awk '{print $3}')
  if [ -z "$ok" ] || { [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; }; then fail=$((${fail:-0} + 1)); fi
  grep -E '^# (\\# )?figures' "$log" >&2 || true
  count "browser (Chromium)" "${ok:-0}" "${fail:-0}"
  rm -f "$log"
fi

# --- crash test: kill -9 under load, nothing acknowledged is lost ---
if [ -x tests/crash/run.sh ]; then
  log=$(mktemp)
  tests/crash/run.sh 2>&1 | tee "$log" >&2
  rc=${PIPESTATUS[0]}
  ok=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $1}')
  fail=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $3}')
  if [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; then fail=1; fi
  count "crash" "${ok:-0}" "${fail:-0}"
  rm -f "$log"
fi

# --- SMS through the real Kannel gateway (bearerbox, smsbox, fake SMSC on 127.0.0.1) ---
if [ -x tests/kannel/run.sh ]; then
  log=$(mktemp)
  tests/kannel/run.sh >"$log" 2>&1
  rc=$?
  cat "$log" >&2
  # the SMS check, then the incident scenario per backend: each prints its own line
  ok=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
  fail=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | awk '{s+=$3} END {print s+0}')
  if [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; then fail=1; fi
  count "kannel and the incident scenario" "${ok:-0}" "${fail:-0}"
  rm -f "$log"
fi

# --- fuzz: a short libFuzzer run over request parsing and validation ---
if [ -f tests/fuzz/fuzz_request.c ] && [ "${SHOUYE_SKIP_FUZZ:-0}" != 1 ]; then
  log=$(mktemp)
  if make -s fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-20} >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units' "$log" >&2 || true
    count "fuzz" 1 0
  else
    tail -40 "$log" >&2
    count "fuzz" 0 1
  fi
  rm -f "$log"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then echo "failed: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
