#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for bpf2wasm, then the npm dependencies.
# Idempotent: packages already present are not reinstalled; npm ci runs only when
# package-lock.json is newer than node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(clang llvm lld libbpf-dev libxdp-dev bpftool iproute2 iputils-ping tcpdump ethtool curl python3 make g++)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

# The native addon builds against the system's Node headers (scripts/build-native.mjs
# passes --nodedir itself), so npm needs no nodedir setting.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
  touch node_modules
fi
