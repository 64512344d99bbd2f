#!/usr/bin/env bash
# Set up everything and run the whole test suite (unit, integration, sign-in against the local
# OpenID provider, end-to-end in headless Chromium). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."

deploy/dev/setup.sh --browser
source deploy/dev/env.sh
export DJANGO_ENV=test
exec .venv/bin/pytest -n 2 --dist loadgroup "$@"
