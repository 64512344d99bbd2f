"""The national API's pages of structures, its OpenAPI schema and its documentation page."""

from datetime import date

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from drf_spectacular.validation import validate_schema
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

from tenants.models import NationalApiToken, Structure
from tenants.national_api.views import MAX_PAGE_SIZE, PAGE_SIZE
from tests.helpers import connection_kept_open
from tests.tenants.test_national_statistics import aid_requests, interviews, refresh

API = "/api/nationale/statistiques/"
SCHEMA = "/api/nationale/schema/?format=json"
DOCS = "/api/nationale/docs/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def national_client():
    _, secret = NationalApiToken.issue("Tableau de bord test")
    return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {secret}")


def add_structures(count):
    """Add structure rows without a schema: the list reads the public schema only."""
    for index in range(count):
        Structure.objects.create(
            schema_name=f"extra_{index:02d}",
            slug=f"extra-{index:02d}",
            name=f"CCAS Extra {index:02d}",
            kind="ccas",
            insee_code="71014",
            address="1 rue",
        )


# --- Pages of structures -------------------------------------------------------------------


def test_default_page_size_and_order(alpha, beta):
    add_structures(PAGE_SIZE + 1)  # with alpha and beta: PAGE_SIZE + 3 structures
    client = national_client()

    first = client.get(API + "structures/").json()
    second = client.get(API + "structures/", {"page": 2}).json()

    slugs = [item["slug"] for item in first["structures"] + second["structures"]]
    assert first["page_size"] == PAGE_SIZE
    assert len(first["structures"]) == PAGE_SIZE
    assert first["next_page"] == 2
    assert first["count"] == PAGE_SIZE + 3
    assert second["next_page"] is None
    assert len(second["structures"]) == 3
    assert slugs == sorted(slugs)
    assert len(set(slugs)) == PAGE_SIZE + 3


def test_client_chooses_a_smaller_page(alpha, beta):
    add_structures(3)
    client = national_client()

    pages = [client.get(API + "structures/", {"par_page": 2, "page": n}).json() for n in (1, 2, 3)]

    assert [len(page["structures"]) for page in pages] == [2, 2, 1]
    assert [page["next_page"] for page in pages] == [2, 3, None]
    assert pages[0]["page_size"] == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [("par_page", "0"), ("par_page", str(MAX_PAGE_SIZE + 1)), ("par_page", "dix"), ("page", "0")],
)
def test_bad_page_parameters_get_a_french_400(db, name, value):
    response = national_client().get(API + "structures/", {name: value})

    assert response.status_code == 400
    assert f"Valeur invalide : « {value} »" in response.json()[name]


@pytest.mark.parametrize("value", ["9999-12", "1899-12", "2025-1", ""])
def test_month_out_of_range_gets_a_french_400(db, value):
    response = national_client().get(API, {"fin": value})

    assert response.status_code == 400
    assert f"Mois invalide : « {value} »" in response.json()["fin"]


def test_console_ignores_a_month_out_of_range(national):
    response = national.get("/console/statistiques/", {"debut": "9999-01", "fin": "9999-12"})

    assert response.status_code == 200


def test_figures_are_month_series(alpha):
    interviews(alpha, 6, date(2025, 2, 10))
    refresh()

    body = (
        national_client()
        .get(API + "structures/alpha/", {"debut": "2025-01", "fin": "2025-03"})
        .json()
    )

    figures = body["structure"]["figures"]
    assert body["months"] == ["2025-01", "2025-02", "2025-03"]
    assert figures["interviews"]["total"] == [0, 6, 0]
    assert figures["interviews"]["by_type_medium"]["aide_alimentaire"]["phone_call"] == [0, 6, 0]
    assert figures["aid_granted"]["total"] == {"count": [0, 0, 0], "amount": ["0.00"] * 3}


def test_unknown_structure_gets_a_french_404(db):
    response = national_client().get(API + "structures/inconnue/")

    assert response.status_code == 404
    assert response.json()["detail"] == "Aucune structure n'a l'identifiant « inconnue »."


def test_structure_list_runs_a_fixed_number_of_queries(alpha, beta):
    aid_requests(alpha, 6, date(2025, 2, 4), status="accepted", allocated_amount=100)
    refresh()
    client = national_client()
    client.get(API)  # records the token's first use, a write the next requests skip

    with CaptureQueriesContext(connection) as two:
        client.get(API + "structures/", {"debut": "2025-01", "fin": "2025-03"})
    add_structures(8)
    with CaptureQueriesContext(connection) as ten:
        client.get(API + "structures/", {"debut": "2025-01", "fin": "2025-03"})

    assert len(ten) == len(two)


def test_structure_list_payload_has_no_cell_objects(alpha, beta):
    """A page of structures sends each figure as a list of values, not an object per month."""
    interviews(alpha, 6, date(2025, 2, 10))
    refresh()

    response = national_client().get(API + "structures/", {"debut": "2025-01", "fin": "2025-03"})

    assert b'"suppressed": true' not in response.content
    assert b'"value"' not in response.content


# --- Schema and documentation page ---------------------------------------------------------


def test_schema_is_valid_openapi_without_a_token(db):
    response = Client(HTTP_HOST="localhost").get(SCHEMA)

    schema = response.json()
    validate_schema(schema)  # raises on a schema that breaks the OpenAPI 3 specification
    assert response.status_code == 200
    assert sorted(schema["paths"]) == [
        API,
        API + "structures/",
        API + "structures/{slug}/",
    ]
    assert schema["info"]["title"] == "Suivi Social : API des statistiques nationales"
    assert "Secret statistique" in schema["info"]["description"]
    assert schema["components"]["securitySchemes"]["jetonNational"]["scheme"] == "bearer"


def test_schema_documents_the_page_size(db):
    schema = Client(HTTP_HOST="localhost").get(SCHEMA).json()

    operation = schema["paths"][API + "structures/"]["get"]
    parameters = {item["name"]: item for item in operation["parameters"]}
    assert f"{PAGE_SIZE} par défaut" in parameters["par_page"]["description"]
    assert "triées par identifiant" in operation["description"]


def test_docs_page_loads_vendored_swagger_ui(db):
    response = Client(HTTP_HOST="localhost").get(DOCS)

    content = response.content.decode()
    assert response.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in content
    assert "/api/nationale/schema/" in content
    assert "cdn" not in content.lower()


@pytest.mark.parametrize("path", [SCHEMA, DOCS])
def test_schema_and_docs_absent_on_structure_host(alpha, path):
    response = Client(HTTP_HOST=alpha.host).get(path)

    assert response.status_code == 404


@pytest.fixture
def national_schema(alpha, beta):
    interviews(alpha, 6, date(2025, 2, 10))
    aid_requests(beta, 2, date(2025, 2, 4), status="accepted", allocated_amount=100)
    refresh()
    schema = schemathesis.openapi.from_dict(Client(HTTP_HOST="localhost").get(SCHEMA).json())
    schema.app = WSGIHandler()
    return schema


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_responses_conform_to_the_schema(national_schema, mode):
    """Schemathesis sends generated requests, valid or invalid, with a token, to the
    application in this process: no 5xx, every response matches the schema, and invalid
    requests are rejected."""
    _, secret = NationalApiToken.issue("Schemathesis")
    headers = {"Host": "localhost", "Authorization": f"Bearer {secret}"}
    checks = CHECKS if mode is GenerationMode.POSITIVE else [*CHECKS, negative_data_rejection]
    operations = [result.ok() for result in national_schema.get_all_operations()]
    assert len(operations) == 3

    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode)
        if "{slug}" in operation.path:
            known = operation.as_strategy(generation_mode=mode, path_parameters={"slug": "alpha"})
            strategy = st.one_of(strategy, known)

        @given(case=strategy)
        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=checks, headers=headers)

        with connection_kept_open():
            run()
