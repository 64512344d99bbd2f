#!/usr/bin/env bash
# Set up everything and serve Suivi Social with two demo structures and the local OpenID
# provider: http://autun.localhost:8000, http://nevers.localhost:8000 and the national console
# at http://localhost:8000. Stop with Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/../.."

for port in 8000 9000; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Port $port is already in use: stop what listens on it (ss -ltnp), then run again." >&2
    exit 1
  fi
done

deploy/dev/setup.sh
source deploy/dev/env.sh
python=.venv/bin/python

$python deploy/dev/create_database.py
$python manage.py migrate_schemas --shared --verbosity 0
$python manage.py migrate_schemas --tenant --verbosity 0
$python manage.py build_template_schema
LOG_LEVEL=WARNING $python manage.py seed_demo

node deploy/oidc-provider/server.mjs > var/oidc-provider.log 2>&1 &
provider_pid=$!
gunicorn_pid=""
stop() {
  kill $provider_pid $gunicorn_pid 2>/dev/null || true
}
trap stop EXIT
trap 'exit 0' INT TERM
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:9000/health" >/dev/null 2>&1 && break
  sleep 0.2
done
if ! kill -0 $provider_pid 2>/dev/null; then
  echo "The local OpenID provider did not start; see var/oidc-provider.log." >&2
  exit 1
fi

.venv/bin/gunicorn src.wsgi:application --bind 127.0.0.1:8000 --workers 2 --no-control-socket \
  --access-logfile - --error-logfile - &
gunicorn_pid=$!
for _ in $(seq 1 100); do
  curl -fs -o /dev/null "http://127.0.0.1:8000/" -H "Host: localhost" && break
  sleep 0.2
done

cat <<MSG

Suivi Social est prêt :
  - CCAS d'Autun    http://autun.localhost:8000
  - CCAS de Nevers  http://nevers.localhost:8000
  - console nationale http://localhost:8000/console/
Fournisseur d'identité local (comme ProConnect) : http://localhost:9000
Choisissez une identité de démonstration sur sa page de connexion (liste ci-dessus).
MSG

wait $gunicorn_pid
