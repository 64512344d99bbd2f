"""Log records: JSON in production, and the request id and schema on every line."""

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from src.logging_context import JsonLogFormatter, RequestContextFilter, request_id_var
from tests.src.subprocess_settings import PRODUCTION_REQUIRED, run_django


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Capture what the root logger writes, formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_has_required_fields(json_lines):
    logging.getLogger("tests.logging").warning("Beneficiary %s updated", 42)

    record = _records(json_lines)[-1]
    assert record["level"] == "WARNING"
    assert record["logger"] == "tests.logging"
    assert record["message"] == "Beneficiary 42 updated"
    assert record["schema"] == "public"
    assert record["request_id"] == "-"
    assert "timestamp" in record


def test_request_line_has_structure_and_request_id(alpha, json_lines):
    client = alpha.client("social_worker")

    client.get("/page-qui-n-existe-pas/", headers={"X-Request-ID": "ingress-0123456789"})

    not_found = [r for r in _records(json_lines) if r["logger"] == "django.request"][-1]
    assert not_found["schema"] == alpha.structure.schema_name
    assert not_found["request_id"] == "ingress-0123456789"


def test_request_object_is_not_logged(alpha, json_lines):
    alpha.client("social_worker").get("/page-qui-n-existe-pas/?recherche=Dupont")

    assert "Dupont" not in json_lines.getvalue()


def test_request_id_is_returned_in_header(alpha):
    response = alpha.client().get("/connexion/", headers={"X-Request-ID": "abcdef0123456789"})

    assert response["X-Request-ID"] == "abcdef0123456789"


@pytest.mark.parametrize(
    "sent", ["court", "avec des espaces", "ligne\\nforgee-0000", "x" * 200, "<script>1234"]
)
def test_unsafe_request_id_is_replaced(alpha, sent):
    response = alpha.client().get("/connexion/", headers={"X-Request-ID": sent})

    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32


def test_each_request_gets_its_own_id(alpha):
    first = alpha.client().get("/connexion/")["X-Request-ID"]
    second = alpha.client().get("/connexion/")["X-Request-ID"]

    assert first != second


def test_request_id_is_cleared_after_request(alpha, json_lines):
    alpha.client().get("/connexion/", headers={"X-Request-ID": "finished-request-01"})

    logging.getLogger("tests.logging").info("After the request")

    assert _records(json_lines)[-1]["request_id"] == "-"


def test_request_id_does_not_reach_other_threads(json_lines):
    token = request_id_var.set("main-thread-request")
    try:
        worker = threading.Thread(
            target=lambda: logging.getLogger("tests.logging").warning("From another thread")
        )
        worker.start()
        worker.join()
    finally:
        request_id_var.reset(token)

    assert _records(json_lines)[-1]["request_id"] == "-"


def _log_in_subprocess(**variables: str):
    result = run_django(
        "import logging; logging.getLogger('tests.logging').warning('Agent %s invited', 7)",
        variables,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_production_logs_json_on_stdout():
    result = _log_in_subprocess(DJANGO_ENV="production", **PRODUCTION_REQUIRED)

    record = json.loads(result.stdout.splitlines()[-1])
    assert record["message"] == "Agent 7 invited"
    assert record["level"] == "WARNING"


def test_development_logs_readable_lines():
    result = _log_in_subprocess(DJANGO_ENV="development")

    assert result.stdout.splitlines()[-1].endswith(
        "WARNING [public -] tests.logging: Agent 7 invited"
    )


def test_log_format_json_in_development():
    result = _log_in_subprocess(DJANGO_ENV="development", LOG_FORMAT="json")

    assert json.loads(result.stdout.splitlines()[-1])["message"] == "Agent 7 invited"
