"""Property-based run of every API operation against the API's own OpenAPI schema.

Schemathesis generates requests from the schema, valid ones and invalid ones, and sends them to
the Django WSGI application in this process, on alpha's host with a manager token. Operations
with a path parameter also get requests on objects that exist, so writes reach the services
and not only the 404. Every response must be other than 5xx and conform to the schema: status
code, content type and body. Invalid requests must also be rejected.

Each request runs in a savepoint that is rolled back, so every request starts from the same
data and all writes stay in the test's transaction, in alpha's schema.
"""

from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction
from django.test import Client
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from core.api.tokens import create_token
from core.enums import Role
from core.models import Followup, FollowupType, HelpRequest, Relative
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary, save_relative
from core.services.documents import add_document
from tests.helpers import connection_kept_open

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]

# Examples per operation and generation mode. Writes get more: they go through the forms and
# the services, where most rules are. Both modes took 57 s in all on a 2-core machine.
READ_EXAMPLES = 15
WRITE_EXAMPLES = 50

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def known_ids(alpha) -> dict[str, Any]:
    """Create a file with a relative, an interview, an aid request and a document.

    Return, per collection, the path parameters that reach its object and the fields a
    creation requires."""
    with tenant_context(alpha.structure):
        manager = alpha.agents["manager"]
        kind = FollowupType.objects.filter(is_proposed=True).first()
        beneficiary = create_beneficiary(
            manager,
            {"first_names": "Jeanne", "usual_name": "Essai", "income_amount": "800.50"},
            referents=[manager],
        )
        save_relative(
            manager, beneficiary, Relative(), {"relationship": "minor_child", "first_name": "Léo"}
        )
        followup = save_followup(
            manager,
            Followup(beneficiary=beneficiary),
            {"date": "2025-03-01", "medium": "postal_mail", "private_synthesis": "privé"},
            [kind],
        )
        help_request = save_help_request(
            manager,
            HelpRequest(beneficiary=beneficiary),
            {"opening_date": "2025-03-02", "followup_type": kind, "requested_amount": "120.00"},
        )
        document = add_document(
            manager,
            beneficiary,
            SimpleUploadedFile("avis.pdf", PDF_BYTES),
            kind="proof",
            themes=[],
            is_confidential=False,
        )
    return {
        "/api/beneficiaries/": {"path": {"file_number": beneficiary.file_number}, "create": {}},
        "/api/followups/": {
            "path": {"id": followup.pk},
            "create": {
                "beneficiary": beneficiary.file_number,
                "date": "2025-03-03",
                "medium": "postal_mail",
                "followup_types": [kind.pk],
            },
        },
        "/api/help-requests/": {
            "path": {"id": help_request.pk},
            "create": {
                "beneficiary": beneficiary.file_number,
                "opening_date": "2025-03-04",
                "followup_type": kind.pk,
            },
        },
        "/api/documents/": {"path": {"id": document.pk}},
    }


@pytest.fixture
def api_headers(alpha) -> dict[str, str]:
    with tenant_context(alpha.structure):
        _, secret = create_token(alpha.agents["manager"], "Schemathesis", Role.MANAGER)
    return {"Host": alpha.host, "Authorization": f"Bearer {secret}"}


@pytest.fixture
def api_schema(api_headers):
    response = Client(
        HTTP_HOST=api_headers["Host"], HTTP_AUTHORIZATION=api_headers["Authorization"]
    ).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = WSGIHandler()
    return schema


def case_strategy(operation: Any, mode: GenerationMode, known_ids: dict[str, Any]) -> Any:
    """Return the operation's cases, steered towards the services.

    Half of the cases of an operation with a path parameter target an existing object. In
    the positive mode, half of the bodies keep at most two of their generated fields, and a
    creation gets the fields it requires, so that some writes pass the forms and reach the
    services.
    """
    collection = operation.path.split("{")[0]
    generated = operation.as_strategy(generation_mode=mode)
    if "{" in operation.path:
        targeted = operation.as_strategy(
            generation_mode=mode, path_parameters=known_ids[collection]["path"]
        )
        generated = st.one_of(generated, targeted)
    if mode is not GenerationMode.POSITIVE or operation.method.upper() == "GET":
        return generated

    @st.composite
    def steered(draw: Any) -> Any:
        case = draw(generated)
        if isinstance(case.body, dict) and draw(st.booleans()):
            names = draw(st.lists(st.sampled_from(sorted(case.body) or [""]), max_size=2))
            case.body = {name: case.body[name] for name in names if name in case.body}
            if operation.method.upper() == "POST":
                case.body = {**known_ids[collection]["create"], **case.body}
        return case

    return steered()


def run_operation(operation: Any, mode: GenerationMode, strategy: Any, headers: dict) -> None:  # type: ignore[type-arg]
    examples = READ_EXAMPLES if operation.method.upper() == "GET" else WRITE_EXAMPLES
    checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else CHECKS

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):  # type: ignore[no-untyped-def]
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=checks, headers=headers)

    with connection_kept_open():
        run()


# NOTE: schemathesis.pytest.from_fixture fails under pytest 9.2 with schemathesis 4.32.5
# ("'Function' object has no attribute '_nodeid'"), so each operation's Hypothesis strategy
# is run by hand inside one test per generation mode.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_operations_conform(api_schema, api_headers, known_ids, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    methods = {operation.method.upper() for operation in operations}
    assert len(operations) >= 16
    assert {"GET", "POST", "PATCH"} <= methods

    for operation in operations:
        strategy = case_strategy(operation, mode, known_ids)
        run_operation(operation, mode, strategy, api_headers)
