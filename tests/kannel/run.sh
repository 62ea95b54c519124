#!/usr/bin/env bash
# SMS through the real gateway: Kannel's bearerbox and smsbox with the fake SMSC from
# kannel-extras, all on 127.0.0.1, started here and stopped by PID. shouye sends a work
# order's "accepted" SMS through sendsms; the test reads what reached the SMSC (UCS-2),
# decodes it and compares it with the outbox text, and checks the delivery report arrived.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${SHOUYE_BIN:-$PWD/build/shouye}
tmp=$(mktemp -d /tmp/shouye-kannel.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$tmp"; }
trap cleanup EXIT
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ADMIN=$(freeport); BOX=$(freeport); SEND=$(freeport); SMSC=$(freeport); WEB=$(freeport)

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

SHOUYE_ADMIN_PASSWORD=kannel-admin-pw "$BIN" init --db "$tmp/k.db" >/dev/null
"$BIN" demo --db "$tmp/k.db" >/dev/null
SHOUYE_NOTIFY_SMS=kannel SHOUYE_KANNEL_URL="http://127.0.0.1:$SEND/cgi-bin/sendsms" \
SHOUYE_KANNEL_USER=shouye SHOUYE_KANNEL_PASSWORD=smspass SHOUYE_PUBLIC_URL="http://127.0.0.1:$WEB" \
  "$BIN" serve --db "$tmp/k.db" --listen "127.0.0.1:$WEB" >"$tmp/shouye.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$WEB/healthz" >/dev/null && break; sleep 0.1; done

node tests/kannel/check.mjs "http://127.0.0.1:$WEB" "$tmp/fakesmsc.out" || { 
  echo "--- shouye"; tail -20 "$tmp/shouye.log"; echo "--- smsbox"; tail -20 "$tmp/smsbox.log" 2>/dev/null
  echo "--- fakesmsc"; tail -20 "$tmp/fakesmsc.out"; exit 1; } 
