import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from src import env

SETTINGS_FILE = Path(settings.BASE_DIR) / "src" / "settings.py"
ENVIRONMENT_PAGE = Path(settings.BASE_DIR) / "docs" / "environment.md"


def test_every_variable_is_documented():
    read = set(re.findall(r'env\.read\w*\(\s*"([A-Z0-9_]+)"', SETTINGS_FILE.read_text()))
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", ENVIRONMENT_PAGE.read_text(), re.M))

    assert read - documented == set()
    assert documented - read == set()


def test_file_variant_reads_secret_from_file(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))

    assert env.read("SOME_SECRET") == "from-file"


def test_missing_required_variable_fails(monkeypatch):
    monkeypatch.delenv("MISSING_VARIABLE", raising=False)

    with pytest.raises(ImproperlyConfigured):
        env.read("MISSING_VARIABLE")


def test_invalid_boolean_fails(monkeypatch):
    monkeypatch.setenv("A_FLAG", "peut-être")

    with pytest.raises(ImproperlyConfigured):
        env.read_bool("A_FLAG", False)


def test_production_refuses_to_start_without_secret_key():
    import os
    import subprocess
    import sys

    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "DATABASE", "OIDC", "BASE_DOMAIN"))
    }
    environment.update(DJANGO_ENV="production", DJANGO_SETTINGS_MODULE="src.settings")

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
