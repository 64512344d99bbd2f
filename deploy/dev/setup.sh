#!/usr/bin/env bash
# Prepare a fresh machine for running or testing Suivi Social: Python environment, the local
# OpenID provider's packages, PostgreSQL, and (with --browser) Chromium for end-to-end tests.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/../.."

with_browser=0
[ "${1:-}" = "--browser" ] && with_browser=1

python_bin=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    python_bin=$candidate
    break
  fi
done
if [ -z "$python_bin" ]; then
  echo "Python 3.11 is required (Debian 12: apt-get install python3 python3-venv)." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "Node.js 20.19 or later is required for the local OpenID provider. Debian 12's nodejs" >&2
  echo "package is too old: install Node.js 22 LTS from NodeSource's repository or with nvm." >&2
  exit 1
fi
lock_stamp=deploy/oidc-provider/node_modules/.installed-$(sha256sum deploy/oidc-provider/package-lock.json | cut -c1-16)
if [ ! -f "$lock_stamp" ]; then
  npm ci --prefix deploy/oidc-provider --no-audit --no-fund --loglevel=error
  touch "$lock_stamp"
fi

if [ "$with_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium package for the browser tests..."
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
  fi
fi

deploy/dev/database.sh
