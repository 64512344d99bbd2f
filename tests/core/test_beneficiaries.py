import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.models import AuditEvent, Beneficiary
from core.models.beneficiaries import FILE_NUMBER_ALPHABET, FILE_NUMBER_LENGTH
from core.services.beneficiaries import create_beneficiary
from tests.helpers import page_text

GENERAL_FORM = {
    "status": "active",
    "civility": "miss",
    "usual_name": "Lefèvre-Dupont",
    "birth_name": "",
    "first_names": "Éloïse",
    "birth_date": "1984-03-02",
    "gender": "female",
    "postal_code": "71400",
    "city": "Autun",
    "phone_1": "06 12 34 56 78",
}


def make_file(site, **values):
    with tenant_context(site.structure):
        return create_beneficiary(
            site.agents["social_worker"], values, [site.agents["social_worker"]]
        )


def test_agent_creates_file_with_generated_number(alpha):
    client = alpha.client("social_worker")
    form = {**GENERAL_FORM, "referents": [alpha.agents["social_worker"].pk]}

    response = client.post("/beneficiaires/nouveau/", form)

    with tenant_context(alpha.structure):
        beneficiary = Beneficiary.objects.get(usual_name="Lefèvre-Dupont")
        assert response["Location"] == f"/beneficiaires/{beneficiary.file_number}/"
        assert re.fullmatch(
            f"[{FILE_NUMBER_ALPHABET}]{{{FILE_NUMBER_LENGTH}}}", beneficiary.file_number
        )
        assert list(beneficiary.referents.all()) == [alpha.agents["social_worker"]]
        assert AuditEvent.objects.filter(
            action="create_beneficiary", target_id=beneficiary.pk
        ).exists()


def test_creation_requires_a_referent(alpha):
    response = alpha.client("social_worker").post("/beneficiaires/nouveau/", GENERAL_FORM)

    assert response.status_code == 200
    assert "Veuillez renseigner au moins un agent référent." in page_text(response)


def test_reception_agent_creates_file_without_referent_field(alpha):
    client = alpha.client("reception_agent")

    page = client.get("/beneficiaires/nouveau/")
    response = client.post("/beneficiaires/nouveau/", GENERAL_FORM)

    assert 'name="referents"' not in page.content.decode()
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_date", "2999-01-01", "La date de naissance ne peut pas être dans le futur."),
        ("postal_code", "714", "Le code postal comporte 5 chiffres"),
        ("phone_1", "12", "Ce numéro de téléphone n'est pas valide."),
        ("death_date", "2020-01-01", "Une date de décès n'est possible que pour un dossier"),
        ("email", "pas-une-adresse", "Saisissez une adresse e-mail valide."),
    ],
)
def test_invalid_input_gets_french_message_and_keeps_input(alpha, field, value, message):
    form = {**GENERAL_FORM, field: value, "referents": [alpha.agents["social_worker"].pk]}

    response = alpha.client("social_worker").post("/beneficiaires/nouveau/", form)

    content = page_text(response)
    assert response.status_code == 200
    assert message in content
    assert 'value="Lefèvre-Dupont"' in content
    with tenant_context(alpha.structure):
        assert not Beneficiary.objects.exists()


def test_search_ignores_accents_case_and_hyphens(alpha):
    make_file(alpha, first_names="Éloïse", usual_name="Lefèvre-Dupont")
    make_file(alpha, first_names="Jean", usual_name="Martin")
    client = alpha.client("social_worker")

    for query in ["eloise lefevre dupont", "ELOISE", "Lefevre-Dupont", "lefèvre"]:
        content = page_text(client.get("/beneficiaires/", {"recherche": query}))
        assert "Éloïse" in content, query
        assert "Jean" not in content, query


def test_search_by_file_number(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")

    response = alpha.client("social_worker").get(
        "/beneficiaires/", {"recherche": beneficiary.file_number.lower()}
    )

    assert "Jean" in page_text(response)


def test_list_is_paginated(alpha, settings):
    settings.BENEFICIARIES_PER_PAGE = 5
    for index in range(12):
        make_file(alpha, first_names=f"Personne{index:02d}", usual_name="Durand")
    client = alpha.client("social_worker")

    first = client.get("/beneficiaires/").content.decode()
    third = client.get("/beneficiaires/", {"page": 3}).content.decode()
    beyond = client.get("/beneficiaires/", {"page": 99}).content.decode()

    assert "12 bénéficiaires" in first
    assert first.count("Personne") == 5
    assert third.count("Personne") == 2
    assert beyond.count("Personne") == 2


def test_list_runs_fixed_number_of_queries(alpha):
    client = alpha.client("social_worker")
    make_file(alpha, first_names="Un", usual_name="Seul")
    with CaptureQueriesContext(connection) as few:
        client.get("/beneficiaires/")
    for index in range(15):
        make_file(alpha, first_names=f"Autre{index}", usual_name="Durand")

    with CaptureQueriesContext(connection) as many:
        client.get("/beneficiaires/")

    assert len(many) == len(few)


def test_file_page_shows_general_information(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin", city="Autun")

    response = alpha.client("reception_agent").get(f"/beneficiaires/{beneficiary.file_number}/")

    content = page_text(response)
    assert response.status_code == 200
    assert "Jean MARTIN" in content
    assert beneficiary.file_number in content


def test_edit_changes_file_and_writes_audit_row(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")
    form = {
        **GENERAL_FORM,
        "usual_name": "Martin-Durand",
        "first_names": "Jean",
        "referents": [alpha.agents["manager"].pk],
    }

    response = alpha.client("manager").post(
        f"/beneficiaires/{beneficiary.file_number}/modifier/", form
    )

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        beneficiary.refresh_from_db()
        assert beneficiary.usual_name == "Martin-Durand"
        event = AuditEvent.objects.get(action="update_beneficiary", target_id=beneficiary.pk)
        assert event.changes["usual_name"] == ["Martin", "Martin-Durand"]
        assert event.changes["referents"] == [
            [alpha.agents["social_worker"].pk],
            [alpha.agents["manager"].pk],
        ]


def test_referent_role_sees_only_own_files(alpha):
    mine = make_file(alpha, first_names="Suivi", usual_name="Parmoi")
    with tenant_context(alpha.structure):
        mine.referents.set([alpha.agents["referent"]])
    other = make_file(alpha, first_names="Pas", usual_name="Moi")
    client = alpha.client("referent")

    listing = client.get("/beneficiaires/").content.decode()

    assert "Parmoi".upper() in listing
    assert "MOI" not in listing.replace("PARMOI", "")
    assert client.get(f"/beneficiaires/{other.file_number}/").status_code == 404
    assert client.get(f"/beneficiaires/{mine.file_number}/").status_code == 200
