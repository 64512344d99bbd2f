"""The structure's REST API: authentication, the role matrix, pagination, parameters, audit."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from core.api.tokens import create_token, hash_secret
from core.enums import Role
from core.forms.accompaniments import FollowupForm, HelpRequestForm
from core.models import ApiToken, AuditEvent, Beneficiary, Followup, FollowupType, HelpRequest
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary
from tests.conftest import BACKEND_PATH
from tests.helpers import page_text


def token_client(site, role: str) -> tuple[Client, ApiToken]:
    with tenant_context(site.structure):
        token, secret = create_token(site.agents["manager"], f"Jeton {role}", Role(role))
    return Client(HTTP_HOST=site.host, HTTP_AUTHORIZATION=f"Bearer {secret}"), token


@pytest.fixture
def data(alpha):
    """A file followed by the referent persona with an interview and an aid request written
    by the social worker, and a file followed by nobody."""
    with tenant_context(alpha.structure):
        manager, worker = alpha.agents["manager"], alpha.agents["social_worker"]
        followed = create_beneficiary(
            manager,
            {"first_names": "Lucie", "usual_name": "Martin", "gir": "level_4"},
            referents=[alpha.agents["referent"], manager],
        )
        other = create_beneficiary(manager, {"first_names": "Paul", "usual_name": "Durand"})
        kind = FollowupType.objects.filter(is_proposed=True).first()
        followup = save_followup(
            worker,
            Followup(beneficiary=followed),
            {
                "date": "2025-01-10",
                "medium": "planned_in_person",
                "synthesis": "Synthèse partagée",
                "private_synthesis": "Note privée de l'auteur",
            },
            [kind],
        )
        help_request = save_help_request(
            worker,
            HelpRequest(beneficiary=followed),
            {
                "opening_date": "2025-01-11",
                "followup_type": kind,
                "requested_amount": "150.00",
                "private_synthesis": "Secret de la demande",
            },
        )
    return {
        "followed": followed,
        "other": other,
        "followup": followup,
        "help_request": help_request,
        "kind": kind,
    }


# Authentication ------------------------------------------------------------------------------


def test_token_lists_files(alpha, data):
    client, token = token_client(alpha, "manager")

    response = client.get("/api/beneficiaries/")

    assert response.status_code == 200
    numbers = {row["file_number"] for row in response.json()["results"]}
    assert data["followed"].file_number in numbers
    with tenant_context(alpha.structure):
        token.refresh_from_db()
    assert token.last_used_at is not None


def test_session_lists_files(alpha, data):
    response = alpha.client("social_worker").get("/api/beneficiaries/")

    assert response.status_code == 200
    assert response.json()["count"] >= 2


def test_anonymous_gets_401(alpha, data):
    response = Client(HTTP_HOST=alpha.host).get("/api/beneficiaries/")

    assert response.status_code == 401
    assert "results" not in response.json()


def test_unknown_token_gets_401(alpha, data):
    client = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION="Bearer ssk_inconnu")

    response = client.get("/api/beneficiaries/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_malformed_header_gets_401(alpha, data):
    client = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION="Bearer deux mots")

    assert client.get("/api/beneficiaries/").status_code == 401


def test_revoked_token_gets_401(alpha, data):
    client, token = token_client(alpha, "manager")
    with tenant_context(alpha.structure):
        token.revoked = True
        token.save()

    response = client.get("/api/beneficiaries/")

    assert response.status_code == 401
    assert "results" not in response.json()


def test_token_of_deactivated_manager_gets_401(alpha, data):
    client, _ = token_client(alpha, "manager")
    with tenant_context(alpha.structure):
        manager = alpha.agents["manager"]
        manager.is_active = False
        manager.save()

    assert client.get("/api/beneficiaries/").status_code == 401


def test_only_hash_is_stored(alpha):
    with tenant_context(alpha.structure):
        token, secret = create_token(alpha.agents["manager"], "Stockage", Role.MANAGER)
        stored = ApiToken.objects.get(pk=token.pk)

    assert stored.key_hash == hash_secret(secret)
    assert secret not in {stored.key_hash, stored.prefix, stored.name}


def test_alpha_token_on_beta_host_gets_401(alpha, beta, data):
    alpha_client, _ = token_client(alpha, "manager")
    secret = alpha_client.defaults["HTTP_AUTHORIZATION"]
    client = Client(HTTP_HOST=beta.host, HTTP_AUTHORIZATION=secret)

    for path in ["/api/beneficiaries/", f"/api/beneficiaries/{data['followed'].file_number}/"]:
        response = client.get(path)
        assert response.status_code in (401, 404)
        assert data["followed"].file_number not in response.content.decode()


def test_alpha_file_unknown_on_beta(alpha, beta, data):
    client, _ = token_client(beta, "manager")

    response = client.get(f"/api/beneficiaries/{data['followed'].file_number}/")

    assert response.status_code == 404


# Role matrix ---------------------------------------------------------------------------------


def test_reception_token_sees_no_full_fields(alpha, data):
    client, _ = token_client(alpha, "reception_agent")

    body = client.get(f"/api/beneficiaries/{data['followed'].file_number}/").json()

    assert body["first_names"] == "Lucie"
    assert "gir" not in body
    assert "income_amount" not in body
    assert "social_security_number" not in body


def test_manager_token_sees_full_fields(alpha, data):
    client, _ = token_client(alpha, "manager")

    body = client.get(f"/api/beneficiaries/{data['followed'].file_number}/").json()

    assert body["gir"] == "level_4"


def test_reception_token_cannot_create_aid_request(alpha, data):
    client, _ = token_client(alpha, "reception_agent")

    response = client.post(
        "/api/help-requests/",
        {
            "beneficiary": data["followed"].file_number,
            "opening_date": "2025-02-01",
            "followup_type": data["kind"].pk,
        },
        content_type="application/json",
    )

    assert response.status_code == 404


def test_reception_token_cannot_write_full_fields(alpha, data):
    client, _ = token_client(alpha, "reception_agent")

    response = client.post(
        "/api/beneficiaries/",
        {"first_names": "Anne", "usual_name": "Neuve", "gir": "level_2"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "gir" in response.json()


def test_referent_token_scope_is_creator_files(alpha, data):
    # The token acts as the manager, with the referent role: the manager follows one file.
    client, _ = token_client(alpha, "referent")

    numbers = {row["file_number"] for row in client.get("/api/beneficiaries/").json()["results"]}

    assert numbers == {data["followed"].file_number}
    other = client.get(f"/api/beneficiaries/{data['other'].file_number}/")
    assert other.status_code == 404


def test_referent_session_scope(alpha, data):
    client = alpha.client("referent")

    numbers = {row["file_number"] for row in client.get("/api/beneficiaries/").json()["results"]}

    assert numbers == {data["followed"].file_number}


def test_private_synthesis_only_for_author_session(alpha, data):
    followup_path = f"/api/followups/{data['followup'].pk}/"
    request_path = f"/api/help-requests/{data['help_request'].pk}/"

    author = alpha.client("social_worker")
    assert author.get(followup_path).json()["private_synthesis"] == "Note privée de l'auteur"
    assert author.get(request_path).json()["private_synthesis"] == "Secret de la demande"

    manager_client, _ = token_client(alpha, "manager")
    for client in [alpha.client("manager"), manager_client, alpha.client("referent")]:
        for path in [followup_path, request_path, "/api/followups/", "/api/help-requests/"]:
            response = client.get(path)
            assert response.status_code == 200
            text = response.content.decode()
            assert "private_synthesis" not in text
            assert "Note privée" not in text
            assert "Secret de la demande" not in text


def test_private_synthesis_not_writable_by_token(alpha, data):
    client, _ = token_client(alpha, "manager")

    response = client.post(
        "/api/followups/",
        {
            "beneficiary": data["followed"].file_number,
            "date": "2025-02-01",
            "medium": "planned_in_person",
            "followup_types": [data["kind"].pk],
            "private_synthesis": "x",
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "private_synthesis" in response.json()


def test_reception_sees_followup_without_details(alpha, data):
    client, _ = token_client(alpha, "reception_agent")

    body = client.get(f"/api/followups/{data['followup'].pk}/").json()

    assert body["date"] == "2025-01-10"
    assert "synthesis" not in body
    assert "medium" not in body


def test_reception_sees_no_protected_amounts(alpha, data):
    client, _ = token_client(alpha, "reception_agent")

    body = client.get(f"/api/help-requests/{data['help_request'].pk}/").json()

    assert "requested_amount" not in body


def test_amounts_are_strings(alpha, data):
    client, _ = token_client(alpha, "manager")

    body = client.get(f"/api/help-requests/{data['help_request'].pk}/").json()

    assert body["requested_amount"] == "150.00"
    assert body["opening_date"] == "2025-01-11"


def test_missing_and_forbidden_both_404(alpha, data):
    client, _ = token_client(alpha, "referent")

    assert client.get("/api/beneficiaries/ZZZZZZZZZZ/").status_code == 404
    assert client.get(f"/api/beneficiaries/{data['other'].file_number}/").status_code == 404
    assert client.get("/api/followups/999999/").status_code == 404


def test_documents_metadata_without_content(alpha, data):
    client, _ = token_client(alpha, "manager")

    response = client.get("/api/documents/")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_relatives_of_file(alpha, data):
    client, _ = token_client(alpha, "manager")

    response = client.get(f"/api/beneficiaries/{data['followed'].file_number}/relatives/")

    assert response.status_code == 200
    assert response.json()["count"] == 0


# Pagination, ordering, parameters ------------------------------------------------------------


def test_pagination_and_ordering(alpha, data):
    with tenant_context(alpha.structure):
        for index in range(5):
            create_beneficiary(alpha.agents["manager"], {"usual_name": f"Page{index}"})
    client, _ = token_client(alpha, "manager")

    first = client.get("/api/beneficiaries/?page_size=3&ordering=-id").json()
    second = client.get("/api/beneficiaries/?page_size=3&ordering=-id&page=2").json()

    ids_first = [row["file_number"] for row in first["results"]]
    ids_second = [row["file_number"] for row in second["results"]]
    assert len(ids_first) == 3
    assert not set(ids_first) & set(ids_second)
    assert first["next"] is not None
    with tenant_context(alpha.structure):
        expected = list(Beneficiary.objects.order_by("-id").values_list("file_number", flat=True))
    assert ids_first + ids_second == expected[: len(ids_first) + len(ids_second)]


@pytest.mark.parametrize(
    "query",
    [
        "ordering=nom",
        "ordering=search_text",
        "page_size=0",
        "page_size=201",
        "page_size=abc",
        "page=0",
        "page=abc",
        "status=inconnu",
        "updated_after=hier",
        "couleur=bleu",
        "ordering=id&ordering=-id",
    ],
)
def test_invalid_parameter_gets_400(alpha, data, query):
    client, _ = token_client(alpha, "manager")

    response = client.get(f"/api/beneficiaries/?{query}")

    assert response.status_code == 400


def test_unknown_ordering_message_in_french(alpha, data):
    client, _ = token_client(alpha, "manager")

    body = client.get("/api/followups/?ordering=couleur").json()

    assert "Valeur de tri inconnue" in body["ordering"]


def test_filters_apply(alpha, data):
    client, _ = token_client(alpha, "manager")

    found = client.get("/api/beneficiaries/?search=lucie").json()["results"]
    by_file = client.get(f"/api/followups/?beneficiary={data['other'].file_number.lower()}").json()

    assert [row["file_number"] for row in found] == [data["followed"].file_number]
    assert by_file["count"] == 0


def test_page_past_end_gets_404(alpha, data):
    client, _ = token_client(alpha, "manager")

    assert client.get("/api/beneficiaries/?page=999").status_code == 404


# Writes and audit ----------------------------------------------------------------------------


def test_create_beneficiary_writes_audit_naming_token(alpha):
    client, token = token_client(alpha, "social_worker")

    response = client.post(
        "/api/beneficiaries/",
        {"first_names": "Zoé", "usual_name": "Nouvelle", "birth_date": "1980-05-04"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    number = response.json()["file_number"]
    with tenant_context(alpha.structure):
        beneficiary = Beneficiary.objects.get(file_number=number)
        event = AuditEvent.objects.get(action="create_beneficiary", target_id=beneficiary.pk)
    assert f"« {token.name} »" in event.actor_label
    assert event.actor_id == alpha.agents["manager"].pk
    assert beneficiary.created_by_id == alpha.agents["manager"].pk


def test_update_beneficiary_checks_rules(alpha, data):
    client, _ = token_client(alpha, "manager")
    path = f"/api/beneficiaries/{data['followed'].file_number}/"

    bad = client.patch(path, {"postal_code": "123"}, content_type="application/json")
    good = client.patch(
        path, {"postal_code": "71400", "version": 1}, content_type="application/json"
    )
    stale = client.patch(path, {"city": "Autun", "version": 1}, content_type="application/json")

    assert bad.status_code == 400
    assert "postal_code" in bad.json()
    assert good.status_code == 200, good.content
    assert good.json()["postal_code"] == "71400"
    assert stale.status_code == 409
    with tenant_context(alpha.structure):
        assert AuditEvent.objects.filter(
            action="update_beneficiary", beneficiary_id=data["followed"].pk
        ).exists()


def test_duplicate_requires_confirmation(alpha, data):
    client, _ = token_client(alpha, "manager")
    payload = {"first_names": "Lucie", "usual_name": "Martin"}

    refused = client.post("/api/beneficiaries/", payload, content_type="application/json")
    confirmed = client.post(
        "/api/beneficiaries/",
        {**payload, "confirm_not_duplicate": True},
        content_type="application/json",
    )

    assert refused.status_code == 400
    assert data["followed"].file_number in refused.json()["confirm_not_duplicate"]
    assert confirmed.status_code == 201


def test_create_followup_through_service(alpha, data):
    client, token = token_client(alpha, "social_worker")

    response = client.post(
        "/api/followups/",
        {
            "beneficiary": data["followed"].file_number,
            "date": "2025-02-01",
            "medium": "planned_in_person",
            "followup_types": [data["kind"].pk],
            "synthesis": "Compte rendu",
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["synthesis"] == "Compte rendu"
    with tenant_context(alpha.structure):
        event = AuditEvent.objects.get(action="create_followup", target_id=response.json()["id"])
    assert token.name in event.actor_label


def test_help_request_rules_apply(alpha, data):
    client, _ = token_client(alpha, "manager")
    path = f"/api/help-requests/{data['help_request'].pk}/"

    refused = client.patch(path, {"status": "refused"}, content_type="application/json")
    amount = client.patch(path, {"allocated_amount": "90.00"}, content_type="application/json")
    accepted = client.patch(
        path, {"status": "accepted", "allocated_amount": "90.00"}, content_type="application/json"
    )

    assert refused.status_code == 400
    assert "refusal_reason" in refused.json()
    assert amount.status_code == 400
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["allocated_amount"] == "90.00"
    with tenant_context(alpha.structure):
        assert AuditEvent.objects.filter(
            action="update_help_request", target_id=data["help_request"].pk
        ).exists()
        help_request = HelpRequest.objects.get(pk=data["help_request"].pk)
    assert help_request.private_synthesis == "Secret de la demande"


def test_create_help_request_on_unknown_file(alpha, data):
    client, _ = token_client(alpha, "manager")

    response = client.post(
        "/api/help-requests/",
        {
            "beneficiary": "ZZZZZZZZZZ",
            "opening_date": "2025-02-01",
            "followup_type": data["kind"].pk,
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "beneficiary" in response.json()


def test_body_must_be_object(alpha, data):
    client, _ = token_client(alpha, "manager")

    response = client.post("/api/beneficiaries/", [1, 2], content_type="application/json")

    assert response.status_code == 400


# Malformed requests and edge cases -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/followups/abc/",
        "/api/help-requests/1.5/",
        "/api/documents/-1/",
        "/api/inconnu/",
        "/api/beneficiaries/A%0AB/",
        "/api/beneficiaries",
    ],
)
def test_unknown_address_gets_json_404(alpha, data, path):
    client, _ = token_client(alpha, "manager")

    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "Adresse inconnue" in response.json()["detail"]


def test_create_help_request_with_file_number_only(alpha, data):
    client, _ = token_client(alpha, "manager")

    response = client.post(
        "/api/help-requests/",
        {"beneficiary": data["followed"].file_number},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "followup_type" in response.json()
    assert "opening_date" in response.json()


@pytest.mark.parametrize("query", ["status=", "date_after=", "ordering="])
def test_empty_filter_value_gets_400(alpha, data, query):
    client, _ = token_client(alpha, "manager")

    response = client.get(f"/api/followups/?{query}")

    assert response.status_code == 400
    assert "Valeur vide" in str(response.json())


def test_empty_search_filters_nothing(alpha, data):
    client, _ = token_client(alpha, "manager")

    response = client.get("/api/beneficiaries/?search=")

    assert response.status_code == 200
    assert response.json()["count"] == 2


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/beneficiaries/", {"usual_name": "Roux", "employer": 0.0}, "employer"),
        ("/api/beneficiaries/", {"usual_name": "Roux", "minor_children": "2"}, "minor_children"),
        ("/api/beneficiaries/", {"usual_name": "Roux", "no_phone": "true"}, "no_phone"),
        ("/api/help-requests/", {"requested_amount": 12.5}, "requested_amount"),
        ("/api/help-requests/", {"followup_type": True}, "followup_type"),
        ("/api/followups/", {"followup_types": ["1"]}, "followup_types"),
    ],
)
def test_value_of_wrong_json_type_gets_400(alpha, data, path, body, field):
    client, _ = token_client(alpha, "manager")

    response = client.post(path, body, content_type="application/json")

    assert response.status_code == 400
    assert "Type invalide" in response.json()[field][0]


def test_json_syntax_error_in_french(alpha, data):
    client, _ = token_client(alpha, "manager")

    response = client.post("/api/beneficiaries/", "{bad", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Corps de la requête illisible à la ligne 1")


def test_session_write_without_csrf_gets_403(alpha, data):
    client = Client(HTTP_HOST=alpha.host, enforce_csrf_checks=True)
    with tenant_context(alpha.structure):
        client.force_login(alpha.agents["manager"], backend=BACKEND_PATH)

    response = client.post(
        "/api/beneficiaries/", {"usual_name": "Roux"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "Jeton CSRF absent ou invalide" in response.json()["detail"]


@pytest.mark.parametrize("kind", ["followup", "help_request"])
def test_item_of_archived_file_gets_409(alpha, data, kind):
    client, _ = token_client(alpha, "manager")
    with tenant_context(alpha.structure):
        Beneficiary.objects.filter(pk=data["followed"].pk).update(status="archived")
    path = {"followup": "/api/followups/", "help_request": "/api/help-requests/"}[kind]

    response = client.patch(
        f"{path}{data[kind].pk}/", {"synthesis": "Ajout"}, content_type="application/json"
    )

    assert response.status_code == 409
    assert "archivé" in response.json()["detail"]
    with tenant_context(alpha.structure):
        data[kind].refresh_from_db()
    assert data[kind].synthesis != "Ajout"


# Schema, docs and token page -----------------------------------------------------------------


def test_schema_and_docs(alpha):
    client, _ = token_client(alpha, "manager")

    schema = client.get("/api/schema/?format=json")
    docs = alpha.client("manager").get("/api/docs/")

    assert schema.status_code == 200
    assert "/api/beneficiaries/" in schema.content.decode()
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()


def test_schema_documents_error_responses(alpha):
    client, _ = token_client(alpha, "manager")

    paths = client.get("/api/schema/?format=json").json()["paths"]

    assert "/api/schema/" not in paths
    create = paths["/api/help-requests/"]["post"]["responses"]
    for code in ["400", "401", "403", "404", "409", "415"]:
        assert code in create, code
    assert "400" in paths["/api/followups/"]["get"]["responses"]


@pytest.mark.parametrize(
    ("component", "form"), [("FollowupWrite", FollowupForm), ("HelpRequestWrite", HelpRequestForm)]
)
def test_write_schema_lists_form_fields(alpha, component, form):
    client, _ = token_client(alpha, "manager")

    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    assert list(schemas[component]["properties"]) == ["beneficiary", *form.Meta.fields]


def test_manager_creates_and_revokes_token(alpha):
    client = alpha.client("manager")

    created = client.post("/structure/acces-api/", {"name": "Logiciel RH", "role": "instructor"})

    assert created.status_code == 200
    with tenant_context(alpha.structure):
        token = ApiToken.objects.get(name="Logiciel RH")
    assert token.prefix in page_text(created)
    secret = page_text(created).split('id="nouveau-jeton">')[1].split("<")[0]
    api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/beneficiaries/").status_code == 200

    listed = client.get("/structure/acces-api/")
    assert secret not in page_text(listed)

    client.post(f"/structure/acces-api/{token.pk}/revoquer/")
    assert api.get("/api/beneficiaries/").status_code == 401
    with tenant_context(alpha.structure):
        assert AuditEvent.objects.filter(action="revoke_api_token", target_id=token.pk).exists()


@pytest.mark.parametrize("role", ["social_worker", "instructor", "reception_agent", "referent"])
def test_token_page_manager_only(alpha, role):
    client = alpha.client(role)

    assert client.get("/structure/acces-api/").status_code == 404
    assert client.post("/structure/acces-api/", {"name": "x", "role": "manager"}).status_code == 404


def test_update_racing_archiving_gets_409(alpha, data, monkeypatch):
    # The file is archived between the endpoint's check and the service's row lock.
    from core.api import views
    from core.services.archiving import archive_beneficiary

    update = views.update_beneficiary

    def archive_then_update(agent, beneficiary, *args, **kwargs):
        archive_beneficiary(alpha.agents["manager"], Beneficiary.objects.get(pk=beneficiary.pk))
        return update(agent, beneficiary, *args, **kwargs)

    monkeypatch.setattr(views, "update_beneficiary", archive_then_update)
    client, _ = token_client(alpha, "manager")
    path = f"/api/beneficiaries/{data['followed'].file_number}/"

    response = client.patch(path, {"city": "Autun"}, content_type="application/json")

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "None" not in detail
    assert "archivé" in detail


def test_update_without_version_conflict_wording(alpha, data, monkeypatch):
    from core.api import views
    from core.services.beneficiaries import ConcurrentUpdate

    def conflict(agent, beneficiary, *args, **kwargs):
        raise ConcurrentUpdate(Beneficiary.objects.get(pk=beneficiary.pk), [])

    monkeypatch.setattr(views, "update_beneficiary", conflict)
    client, _ = token_client(alpha, "manager")
    path = f"/api/beneficiaries/{data['followed'].file_number}/"

    response = client.patch(path, {"city": "Autun"}, content_type="application/json")

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "None" not in detail
    assert "modifié entre-temps" in detail
