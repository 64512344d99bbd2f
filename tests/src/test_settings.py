import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from src import env
from tests.src.subprocess_settings import PRODUCTION_REQUIRED, run_django

SETTINGS_FILE = Path(settings.BASE_DIR) / "src" / "settings.py"
GUNICORN_CONFIG = Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"
ENVIRONMENT_PAGE = Path(settings.BASE_DIR) / "docs" / "environment.md"
CHART_VALUES = Path(settings.BASE_DIR) / "helm" / "suivi-social" / "values.yaml"


def _variables_read() -> set[str]:
    """Return the variables that the Django settings and the gunicorn settings read."""
    pattern = r'env\.read\w*\(\s*"([A-Z0-9_]+)"'
    return {
        name
        for source in (SETTINGS_FILE, GUNICORN_CONFIG)
        for name in re.findall(pattern, source.read_text())
    }


def test_every_variable_is_documented():
    read = _variables_read()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", ENVIRONMENT_PAGE.read_text(), re.M))

    assert read - documented == set()
    assert documented - read == set()


def test_chart_values_list_every_variable():
    values = yaml.safe_load(CHART_VALUES.read_text())
    plain = set(values["config"])
    secret = set(values["secrets"]["variables"])
    read = _variables_read()

    assert plain & secret == set()
    assert read - (plain | secret) == set()
    assert (plain | secret) - read == set()


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


@pytest.mark.parametrize("value", ["0", "-2"])
def test_positive_integer_rejects_below_one(monkeypatch, value):
    monkeypatch.setenv("SOME_COUNT", value)

    with pytest.raises(ImproperlyConfigured, match="SOME_COUNT must be a positive integer"):
        env.read_positive_int("SOME_COUNT", 4)


def test_positive_integer_reads_file_variant(tmp_path, monkeypatch):
    count = tmp_path / "count"
    count.write_text("6\n")
    monkeypatch.setenv("SOME_COUNT_FILE", str(count))

    assert env.read_positive_int("SOME_COUNT", 4) == 6


def test_migration_processes_set_multiprocessing_pool():
    result = run_django(
        "from django.conf import settings; print(settings.TENANT_MULTIPROCESSING_MAX_PROCESSES)",
        {**PRODUCTION_REQUIRED, "MIGRATION_PROCESSES": "3"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"


def _start_production(variables: dict[str, str]):
    return run_django("pass", {"DJANGO_ENV": "production", **variables})


@pytest.mark.parametrize("missing", sorted(PRODUCTION_REQUIRED))
def test_production_refuses_to_start_without(missing):
    variables = {key: value for key, value in PRODUCTION_REQUIRED.items() if key != missing}

    result = _start_production(variables)

    assert result.returncode != 0
    assert f"{missing} (or {missing}_FILE) is required" in result.stderr


def test_production_starts_with_required_values_from_files(tmp_path):
    variables = {}
    for name, value in PRODUCTION_REQUIRED.items():
        secret = tmp_path / name
        secret.write_text(value)
        variables[f"{name}_FILE"] = str(secret)

    result = _start_production(variables)

    assert result.stderr == ""
    assert result.returncode == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_FORMAT", "xml"),
        ("RATE_LIMIT_API", "beaucoup"),
        ("RATE_LIMIT_SIGN_IN", "0/m"),
        ("MIGRATION_PROCESSES", "0"),
        ("MIGRATION_PROCESSES", "quatre"),
    ],
)
def test_production_refuses_invalid_value(name, value):
    result = _start_production({**PRODUCTION_REQUIRED, name: value})

    assert result.returncode != 0
    assert name in result.stderr
