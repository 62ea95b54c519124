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
run_meson() { # suite-args...
  local log; log=$(mktemp)
  meson test -C build --print-errorlogs "$@" 2>&1 | tee "$log" >&2
  local ok fail exe_fail
  exe_fail=$(grep -E '^(Fail|Timeout):' "$log" | awk '{s+=$2} END {print s+0}')
  # count cmocka's own test cases, not just the executables
  ok=$(grep -E '^\[  PASSED  \] [0-9]+ test' build/meson-logs/testlog.txt | awk '{s+=$4} END {print s+0}')
  fail=$(grep -E '^\[  FAILED  \] [0-9]+ test' build/meson-logs/testlog.txt | awk '{s+=$4} END {print s+0}')
  if [ "$exe_fail" -gt 0 ] && [ "$fail" -eq 0 ]; then fail=$exe_fail; fi
  rm -f "$log"
  echo "${ok:-0} ${fail:-0}"
}

read -r ok fail < <(run_meson --no-suite store)
count "unit" "$ok" "$fail"

# --- PostgreSQL for the store suite and the API tests ---
PGDIR=$(mktemp -d /tmp/shouye-pg.XXXXXX)
PGPORT=${SHOUYE_TEST_PGPORT:-$((55000 + RANDOM % 900))}
cleanup() { scripts/pg.sh stop "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$PGDIR"; }
trap cleanup EXIT
if PGURL=$(scripts/pg.sh start "$PGDIR" "$PGPORT"); then
  export SHOUYE_TEST_PG=$PGURL
else
  echo "!! PostgreSQL did not start" >&2
  count "postgresql" 0 1
fi

read -r ok fail < <(run_meson --suite store)
count "store (SQLite and PostgreSQL)" "$ok" "$fail"

# --- API tests: node's test runner against a started server ---
run_api() { # backend
  local log; log=$(mktemp)
  SHOUYE_TEST_BACKEND=$1 node --test --test-concurrency=1 tests/api/ 2>&1 | tee "$log" >&2
  local ok fail
  ok=$(grep -E '^# pass ' "$log" | awk '{print $3}'); fail=$(grep -E '^# fail ' "$log" | awk '{print $3}')
  if [ -z "$ok" ]; then fail=$((${fail:-0} + 1)); fi
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
  ok=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $1}')
  fail=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $3}')
  if [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; then fail=1; fi
  count "kannel" "${ok:-0}" "${fail:-0}"
  rm -f "$log"
fi

# --- fuzz: a short libFuzzer run over request parsing and validation ---
if [ -f tests/fuzz/fuzz_request.c ] && [ "${SHOUYE_SKIP_FUZZ:-0}" != 1 ]; then
  if make -s fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-20} >/tmp/shouye-fuzz.log 2>&1; then
    count "fuzz" 1 0
  else
    tail -40 /tmp/shouye-fuzz.log >&2
    count "fuzz" 0 1
  fi
fi

echo
if [ ${#failures[@]} -gt 0 ]; then echo "failed: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
