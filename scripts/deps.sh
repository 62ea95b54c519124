#!/usr/bin/env bash
# Install what shouye needs from Debian's packages (the web app's npm packages: `make web`).
# Idempotent: asks apt only for packages that are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev libcmocka-dev libzstd-dev
  libcurl4-openssl-dev postgresql postgresql-contrib kannel kannel-extras wrk sqlite3 curl
  snmptrapd snmp chromium fonts-wqy-microhei
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# node and npm may come from elsewhere (a newer npm than Debian's); ask Debian only when absent
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo env DEBIAN_FRONTEND=noninteractive)
    else
      echo "deps: missing packages and not root (no sudo); as root run:" >&2
      echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when there is no node_modules yet, or the lock file changed since the last install
if [ -f web/package.json ] && { [ ! -d web/node_modules ] ||
     [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; }; then
  echo "deps: npm ci in web/" >&2
  (cd web && npm ci --no-audit --no-fund)
fi
