#!/usr/bin/env bash
# Installs what this machine lacks (Debian packages, npm packages) and builds the project.
# Idempotent and quiet when nothing is missing; safe to run before every command.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(redis-server redis-tools runc wireguard-go wireguard-tools iptables iperf3 etcd-server etcd-client busybox-static iproute2 procps e2fsprogs util-linux mount tar python3-nacl chromium openssh-server tmux haproxy pebble lego dnsmasq-base wrk nginx-light openssl)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run this as root, or install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  # policy-rc.d keeps the packages' own services (redis, etcd) from starting: our tests start their own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  rm -f /usr/sbin/policy-rc.d
fi

if [ -L node_modules ]; then
  # A node_modules linked from another checkout (a git worktree sharing the main one's) is that
  # checkout's to install: `npm ci` here would empty it under everyone who shares it.
  [ -f node_modules/.package-lock.json ] || { echo "setup: node_modules links to $(readlink node_modules), which is not installed: run ./scripts/setup.sh there" >&2; exit 1; }
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

rm -rf dist
npx --no-install tsc -p tsconfig.json
chmod +x bin/* 2>/dev/null || true
