#!/usr/bin/env bash
# Set up everything and serve Suivi Social with two demo structures and the local OpenID
# provider: http://autun.localhost:8000, http://nevers.localhost:8000 and the national console
# at http://localhost:8000. Stop with Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/../.."

deploy/dev/setup.sh
source deploy/dev/env.sh
python=.venv/bin/python

$python deploy/dev/create_database.py
$python manage.py migrate_schemas --shared --verbosity 0
$python manage.py migrate_schemas --tenant --verbosity 0
$python manage.py build_template_schema
$python manage.py seed_demo 2>/dev/null

provider_port=${OIDC_PROVIDER_PORT:-9000}
OIDC_PROVIDER_PORT=$provider_port node deploy/oidc-provider/server.mjs > var/oidc-provider.log 2>&1 &
provider_pid=$!
trap 'kill $provider_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$provider_port/health" >/dev/null 2>&1 && break
  sleep 0.2
done

cat <<MSG

Suivi Social est prêt :
  - CCAS d'Autun    http://autun.localhost:8000
  - CCAS de Nevers  http://nevers.localhost:8000
  - console nationale http://localhost:8000/console/
Fournisseur d'identité local (comme ProConnect) : http://localhost:$provider_port
Choisissez une identité de démonstration sur sa page de connexion (liste ci-dessus).
MSG

exec .venv/bin/gunicorn src.wsgi:application --bind 127.0.0.1:8000 --workers 2 \
  --access-logfile - --error-logfile -
