"""Property-based run of the API's GET operations against its own OpenAPI schema.

Schemathesis generates up to 10 requests per operation from the schema and sends them to the
Django WSGI application in this process, on alpha's host with a manager token. Every response
must be other than 5xx and conform to the schema: status code, content type and body.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.api.tokens import create_token
from core.enums import Role
from core.models import Followup, FollowupType
from core.services.accompaniments import save_followup
from core.services.beneficiaries import create_beneficiary

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_headers(alpha):
    with tenant_context(alpha.structure):
        manager = alpha.agents["manager"]
        beneficiary = create_beneficiary(
            manager, {"first_names": "Jeanne", "usual_name": "Essai", "income_amount": "800.50"}
        )
        save_followup(
            manager,
            Followup(beneficiary=beneficiary),
            {"date": "2025-03-01", "medium": "postal_mail", "private_synthesis": "privé"},
            [FollowupType.objects.filter(is_proposed=True).first()],
        )
        _, secret = create_token(manager, "Schemathesis", Role.MANAGER)
    return {"Host": alpha.host, "Authorization": f"Bearer {secret}"}


@contextmanager
def connection_kept_open() -> Iterator[None]:
    """Keep the test's database connection open across WSGI requests, as Django's test client
    does: its transaction contains the fixtures' data."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(api_headers):
    response = Client(
        HTTP_HOST=api_headers["Host"], HTTP_AUTHORIZATION=api_headers["Authorization"]
    ).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = WSGIHandler()
    return schema.include(method="GET")


# NOTE: schemathesis.pytest.from_fixture fails under pytest 9.2 with schemathesis 4.32.5
# ("'Function' object has no attribute '_nodeid'"), so each operation's Hypothesis strategy
# is run by hand inside one test.
def test_get_operations_conform(api_schema, api_headers):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):  # type: ignore[no-untyped-def]
            response = case.call(headers=api_headers)
            case.validate_response(response, checks=CHECKS, headers=api_headers)

        with connection_kept_open():
            run()
