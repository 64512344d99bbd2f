"""Properties of the production image, read from deploy/Dockerfile.

No Docker engine runs the tests, so the image is never built here: these tests parse the
Dockerfile, lint it with hadolint, and run the build's collectstatic step on the working tree.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from dockerfile_parse import DockerfileParser

ROOT = Path(settings.BASE_DIR)
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SETTINGS_FILE = ROOT / "src" / "settings.py"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|DSN|DATABASE_URL|ACCESS_KEY", re.IGNORECASE)


@pytest.fixture(scope="module")
def instructions() -> list[dict[str, str]]:
    parser = DockerfileParser(path=str(DOCKERFILE))
    return [item for item in parser.structure if item["instruction"] != "COMMENT"]


def _stages(instructions: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    stages: list[list[dict[str, str]]] = []
    for instruction in instructions:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _collectstatic_environment(instructions: list[dict[str, str]]) -> dict[str, str]:
    """Return the variables the build sets on its collectstatic command line."""
    run = next(
        item["value"]
        for item in instructions
        if item["instruction"] == "RUN" and "collectstatic" in item["value"]
    )
    words = shlex.split(run.split("&&")[0])
    return dict(word.split("=", 1) for word in words if re.fullmatch(r"[A-Z_]+=.*", word))


def test_build_has_two_stages(instructions):
    stages = _stages(instructions)

    assert len(stages) == 2
    assert stages[0][0]["value"].endswith("AS build")
    assert stages[1][0]["value"].endswith("AS runtime")


def test_base_image_is_python_311_slim():
    parser = DockerfileParser(path=str(DOCKERFILE))

    assert parser.parent_images == ["python:3.11-slim-bookworm", "python:3.11-slim-bookworm"]


def test_runtime_copies_only_from_build_stage(instructions):
    runtime = _stages(instructions)[1]
    copies = [item["value"] for item in runtime if item["instruction"] in {"COPY", "ADD"}]

    assert copies
    for copy in copies:
        assert copy.startswith("--from=build ")


def test_runtime_runs_as_numeric_non_root_user(instructions):
    runtime = _stages(instructions)[1]
    users = [item["value"] for item in runtime if item["instruction"] == "USER"]

    assert len(users) == 1
    user, _, group = users[0].partition(":")
    assert user.isdigit()
    assert int(user) != 0
    assert group.isdigit()
    assert int(group) != 0


def test_user_matches_chart_security_context(instructions):
    values = (ROOT / "helm" / "suivi-social" / "values.yaml").read_text()
    user = next(item["value"] for item in instructions if item["instruction"] == "USER")
    uid, _, gid = user.partition(":")

    assert f"runAsUser: {uid}\n" in values
    assert f"runAsGroup: {gid}\n" in values


def test_exposes_gunicorn_port(instructions):
    exposed = [item["value"] for item in instructions if item["instruction"] == "EXPOSE"]
    config = (ROOT / "deploy" / "gunicorn.conf.py").read_text()

    assert exposed == ["8000"]
    assert 'bind = "0.0.0.0:8000"' in config


def test_command_runs_gunicorn_with_config_file(instructions):
    commands = [item["value"] for item in instructions if item["instruction"] == "CMD"]

    assert commands == ['["gunicorn", "--config", "deploy/gunicorn.conf.py"]']


def test_healthcheck_uses_liveness_path(instructions):
    checks = [item["value"] for item in instructions if item["instruction"] == "HEALTHCHECK"]

    assert len(checks) == 1
    assert "/sante/vivant/" in checks[0]


def test_no_secret_in_env_or_arg(instructions):
    declared = [
        item["value"] for item in instructions if item["instruction"] in {"ENV", "ARG", "LABEL"}
    ]
    names = [
        word.split("=", 1)[0] for value in declared for word in shlex.split(value) if "=" in word
    ]

    assert names
    assert [name for name in names if SECRET_NAME.search(name)] == []


def test_collectstatic_placeholders_are_not_secrets(instructions):
    environment = _collectstatic_environment(instructions)
    secret_values = [value for name, value in environment.items() if SECRET_NAME.search(name)]

    assert secret_values
    for value in secret_values:
        assert "build" in value
        assert "@" not in value


def test_collectstatic_sets_every_required_production_variable(instructions):
    # A variable required in production has no default outside development and tests.
    required = set(
        re.findall(r'env\.read\(\s*"([A-Z0-9_]+)",\s*_dev_default', SETTINGS_FILE.read_text())
    )
    environment = _collectstatic_environment(instructions)

    assert required
    assert required - set(environment) == set()
    assert environment["DJANGO_ENV"] == "production"


def test_collectstatic_post_processing_succeeds(instructions, tmp_path):
    """Run the build's collectstatic with its own variables, hashing file names as in production.

    Django's ManifestStaticFilesStorage does the same URL rewriting as WhiteNoise's storage, in
    seconds, where WhiteNoise's compression of every file took 61 s on a 2-core machine.
    """
    script = (
        "import django\n"
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        "from django.test.utils import override_settings\n"
        "django.setup()\n"
        "storages = {**settings.STORAGES, 'staticfiles': {'BACKEND':"
        " 'django.contrib.staticfiles.storage.ManifestStaticFilesStorage'}}\n"
        f"with override_settings(STATIC_ROOT={str(tmp_path)!r}, STORAGES=storages):\n"
        "    call_command('collectstatic', '--noinput', '--verbosity', '0')\n"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "DATABASE", "OIDC", "BASE_DOMAIN"))
    }
    environment.update(_collectstatic_environment(instructions))
    environment["DJANGO_SETTINGS_MODULE"] = "src.settings"

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").is_file()


def test_dockerignore_excludes_everything_first():
    # Starting from "*" means a new local folder (a database, uploads) never reaches an image.
    rules = [line for line in DOCKERIGNORE.read_text().splitlines() if not line.startswith("#")]

    assert rules[0] == "*"


def test_dockerfile_copies_only_what_dockerignore_admits(instructions):
    admitted = {
        line.removeprefix("!").rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.startswith("!")
    }
    build = _stages(instructions)[0]
    sources = [
        item["value"].split()[0]
        for item in build
        if item["instruction"] == "COPY" and not item["value"].startswith("--from")
    ]

    assert sources
    for source in sources:
        assert source in admitted


def test_hadolint_finds_nothing():
    hadolint = Path(sys.executable).parent / "hadolint"

    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
