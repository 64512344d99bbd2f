#!/usr/bin/env bash
# Make sure a PostgreSQL server is reachable, and print nothing but errors.
#
# Uses the server on 127.0.0.1:5432 when one is listening (trust or password in DATABASE_URL).
# Otherwise starts a private cluster under var/postgres with the system's PostgreSQL binaries,
# listening on 127.0.0.1:5433, and writes its address to var/database-url for the Makefile.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p var

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  rm -f var/database-url
  exit 0
fi

bin_dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin_dir" ]; then
  echo "No PostgreSQL server is listening on 127.0.0.1:5432 and no PostgreSQL binaries were found." >&2
  echo "Install PostgreSQL 15 or later (Debian: apt-get install postgresql), or set DATABASE_URL." >&2
  exit 1
fi

data_dir=$PWD/var/postgres
run_as=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root; the Debian package creates a postgres user.
  run_as=(runuser -u postgres --)
  mkdir -p "$data_dir"
  chown postgres "$data_dir"
fi
if [ ! -f "$data_dir/PG_VERSION" ]; then
  "${run_as[@]}" "$bin_dir/initdb" -D "$data_dir" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5433; then
  "${run_as[@]}" "$bin_dir/pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w \
    -o "-h 127.0.0.1 -p 5433 -k $data_dir" start >/dev/null
fi
echo "postgres://postgres@127.0.0.1:5433/suivi_social" > var/database-url
