#!/usr/bin/env bash
# SMS through the real gateway: Kannel's bearerbox and smsbox with the fake SMSC from
# kannel-extras, all on 127.0.0.1, started here and stopped by PID. shouye sends a work
# order's "accepted" SMS through sendsms; the test reads what reached the SMSC (UCS-2),
# decodes it and compares it with the outbox text, and checks the delivery report arrived.
# Then the incident scenario of issue 4 (scenario.mjs) on a second server with a manual clock:
# net-snmp's snmptrapd on 127.0.0.1 hands traps to `shouye trap`, a dial-test probes a portal
# the script serves, and the proactive SMS go through the same Kannel — on SQLite, and on
# PostgreSQL when SHOUYE_TEST_PG names a server.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${SHOUYE_BIN:-$PWD/build/shouye}
tmp=$(mktemp -d /tmp/shouye-kannel.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$tmp"; }
trap cleanup EXIT
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ADMIN=$(freeport); BOX=$(freeport); SEND=$(freeport); SMSC=$(freeport); WEB=$(freeport)
WEB2=$(freeport); TRAPD=$(freeport)

cat > "$tmp/kannel.conf" <<CONF
group = core
admin-port = $ADMIN
admin-interface = 127.0.0.1
admin-password = adminpw
status-password = statuspw
admin-allow-ip = "127.0.0.1"
smsbox-port = $BOX
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$tmp/bearerbox.log"
log-level = 1

group = smsc
smsc = fake
smsc-id = fake1
port = $SMSC
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $BOX
sendsms-port = $SEND
sendsms-interface = 127.0.0.1
global-sender = 10086
log-file = "$tmp/smsbox.log"
log-level = 1

group = sendsms-user
username = shouye
password = smspass
max-messages = 10
concatenation = true
CONF

cd "$tmp"
/usr/sbin/bearerbox -v 1 kannel.conf >bearerbox.out 2>&1 & pids+=($!)
sleep 0.5
/usr/sbin/smsbox -v 1 kannel.conf >smsbox.out 2>&1 & pids+=($!)
/usr/lib/kannel/test/fakesmsc -H 127.0.0.1 -r "$SMSC" -m 0 '100 200 text x' >fakesmsc.out 2>&1 & pids+=($!)
cd - >/dev/null
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$SEND/" && break; sleep 0.1; done

if [ -n "${SHOUYE_KANNEL_BENCH:-}" ]; then # make bench: SMS/s through this gateway
  SHOUYE_ADMIN_PASSWORD=kannel-admin-pw "$BIN" init --db "$tmp/b.db" >/dev/null
  "$BIN" demo --db "$tmp/b.db" --subscribers 20000 >/dev/null
  SHOUYE_NOTIFY_SMS=kannel SHOUYE_KANNEL_URL="http://127.0.0.1:$SEND/cgi-bin/sendsms" \
  SHOUYE_KANNEL_USER=shouye SHOUYE_KANNEL_PASSWORD=smspass SHOUYE_PUBLIC_URL="http://127.0.0.1:$WEB" \
  SHOUYE_QUIET_HOURS=0-0 SHOUYE_SMS_RATE=100000 \
    "$BIN" serve --db "$tmp/b.db" --listen "127.0.0.1:$WEB" >"$tmp/shouye.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$WEB/healthz" >/dev/null && break; sleep 0.1; done
  node bench/kannel-rate.mjs "http://127.0.0.1:$WEB" "$tmp/fakesmsc.out"
  exit 0
fi

SHOUYE_ADMIN_PASSWORD=kannel-admin-pw "$BIN" init --db "$tmp/k.db" >/dev/null
"$BIN" demo --db "$tmp/k.db" >/dev/null
SHOUYE_NOTIFY_SMS=kannel SHOUYE_KANNEL_URL="http://127.0.0.1:$SEND/cgi-bin/sendsms" \
SHOUYE_KANNEL_USER=shouye SHOUYE_KANNEL_PASSWORD=smspass SHOUYE_PUBLIC_URL="http://127.0.0.1:$WEB" \
  "$BIN" serve --db "$tmp/k.db" --listen "127.0.0.1:$WEB" >"$tmp/shouye.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$WEB/healthz" >/dev/null && break; sleep 0.1; done

node tests/kannel/check.mjs "http://127.0.0.1:$WEB" "$tmp/fakesmsc.out" || { 
  echo "--- shouye"; tail -20 "$tmp/shouye.log"; echo "--- smsbox"; tail -20 "$tmp/smsbox.log" 2>/dev/null
  echo "--- fakesmsc"; tail -20 "$tmp/fakesmsc.out"; exit 1; } 

# --- the incident scenario: snmptrapd → shouye trap → alarms; dial-tests; SMS via Kannel ---
scenario() { # db-url label
  SHOUYE_ADMIN_PASSWORD=scenario-admin-pw "$BIN" init --db "$1" >/dev/null
  "$BIN" demo --db "$1" >/dev/null
  : >"$tmp/fakesmsc.mark"; cp "$tmp/fakesmsc.out" "$tmp/fakesmsc.before" 2>/dev/null || true
  SHOUYE_NOTIFY_SMS=kannel SHOUYE_KANNEL_URL="http://127.0.0.1:$SEND/cgi-bin/sendsms" \
  SHOUYE_KANNEL_USER=shouye SHOUYE_KANNEL_PASSWORD=smspass SHOUYE_PUBLIC_URL="http://127.0.0.1:$WEB2" \
  SHOUYE_QUIET_HOURS=0-0 SHOUYE_SMS_RATE=1 \
    "$BIN" serve --db "$1" --listen "127.0.0.1:$WEB2" --clock=manual >"$tmp/shouye2-$2.log" 2>&1 & local spid=$!
  pids+=($spid)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$WEB2/healthz" >/dev/null && break; sleep 0.1; done
  cat > "$tmp/snmptrapd.conf" <<TRAPCONF
authCommunity log,execute public
traphandle default $BIN trap
TRAPCONF
  SHOUYE_TRAP_URL="http://127.0.0.1:$WEB2" SHOUYE_TRAP_USER=integration1 SHOUYE_TRAP_PASSWORD=shouye-demo \
    snmptrapd -f -m '' -On -C -c "$tmp/snmptrapd.conf" -Lf "$tmp/snmptrapd-$2.log" "udp:127.0.0.1:$TRAPD" \
    >/dev/null 2>&1 & local tpid=$!
  pids+=($tpid)
  sleep 0.5
  local ok=0
  node tests/kannel/scenario.mjs "http://127.0.0.1:$WEB2" "$tmp/fakesmsc.out" "$TRAPD" scenario-admin-pw || ok=1
  if [ $ok -ne 0 ]; then
    echo "--- shouye ($2)"; tail -30 "$tmp/shouye2-$2.log"; echo "--- snmptrapd"; tail -20 "$tmp/snmptrapd-$2.log"
  fi
  kill "$spid" "$tpid" 2>/dev/null || true; wait "$spid" "$tpid" 2>/dev/null || true
  return $ok
}
echo "scenario on SQLite" >&2
scenario "$tmp/s.db" sqlite
if [ -n "${SHOUYE_TEST_PG:-}" ]; then
  name="scenario_$$"
  psql -qX "$SHOUYE_TEST_PG" -c "CREATE DATABASE $name" >/dev/null
  echo "scenario on PostgreSQL" >&2
  rc=0; scenario "${SHOUYE_TEST_PG%/*}/$name" pg || rc=1
  psql -qX "$SHOUYE_TEST_PG" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null || true
  exit $rc
fi
