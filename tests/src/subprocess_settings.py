"""Load the settings in a fresh Python process, with environment variables the test chooses."""

import os
import subprocess
import sys

from django.conf import settings

# Values that satisfy every variable production requires.
PRODUCTION_REQUIRED = {
    "DJANGO_SECRET_KEY": "test-secret",
    "BASE_DOMAIN": "suivi.example.fr",
    "DATABASE_URL": "postgres://suivi@127.0.0.1:5432/suivi",
    "OIDC_OP_ISSUER": "https://proconnect.example.fr",
    "OIDC_RP_CLIENT_ID": "client",
    "OIDC_RP_CLIENT_SECRET": "secret",
}

# Variables of the test run that would otherwise leak into the process's settings.
CLEARED_PREFIXES = (
    "DJANGO",
    "DATABASE",
    "OIDC",
    "BASE_DOMAIN",
    "LOG_",
    "SECURE_",
    "SENTRY",
    "RATE_LIMIT",
    "REDIS",
    "MIGRATION_",
)


def run_django(script: str, variables: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``script`` after ``django.setup()`` and return the finished process, failed or not."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(CLEARED_PREFIXES)
    }
    environment.update(DJANGO_SETTINGS_MODULE="src.settings", **variables)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
