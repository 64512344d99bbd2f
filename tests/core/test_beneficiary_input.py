"""Beneficiary files: hostile paths, archived files, referents and search."""

import re

import pytest
from django_tenants.utils import tenant_context

from core.models import Agent, Beneficiary
from core.services.beneficiaries import create_beneficiary
from tests.helpers import as_server, page_text


def make_file(site, referents, **values):
    with tenant_context(site.structure):
        return create_beneficiary(site.agents["manager"], values, referents)


@pytest.mark.parametrize("suffix", ["", "modifier/"])
def test_file_number_nul_byte_400(alpha, suffix):
    response = as_server(alpha.client("manager")).get(f"/beneficiaires/%00/{suffix}")

    assert response.status_code == 400


def test_reception_agent_cannot_unarchive(alpha):
    # Only managers and social workers may archive (and so un-archive) a file.
    beneficiary = make_file(
        alpha, [alpha.agents["manager"]], usual_name="Archivé", status="archived"
    )

    alpha.client("reception_agent").post(
        f"/beneficiaires/{beneficiary.file_number}/modifier/",
        {"status": "active", "usual_name": "Archivé"},
    )

    with tenant_context(alpha.structure):
        beneficiary.refresh_from_db()
    assert beneficiary.status == "archived"


def test_archived_file_cannot_be_edited(alpha):
    beneficiary = make_file(
        alpha, [alpha.agents["manager"]], usual_name="Archivé", status="archived"
    )

    response = alpha.client("manager").post(
        f"/beneficiaires/{beneficiary.file_number}/modifier/",
        {
            "status": "active",
            "usual_name": "Archivé",
            "city": "Autun",
            "referents": [alpha.agents["manager"].pk],
        },
        follow=True,
    )

    assert "Ce dossier est archivé : il ne peut plus être modifié." in page_text(response)
    with tenant_context(alpha.structure):
        beneficiary.refresh_from_db()
    assert (beneficiary.status, beneficiary.city) == ("archived", "")


def test_referent_keeps_created_file(alpha):
    client = alpha.client("referent")

    response = client.post(
        "/beneficiaires/nouveau/",
        {"status": "active", "usual_name": "Orphelin", "referents": [alpha.agents["manager"].pk]},
    )

    if response.status_code == 302:
        assert client.get(response["Location"]).status_code == 200, (
            "the file is created, then its author lands on a 404 and can never reach it"
        )
    else:
        assert response.status_code == 200
        with tenant_context(alpha.structure):
            assert not Beneficiary.objects.filter(usual_name="Orphelin").exists()


def test_edit_keeps_deactivated_referent(alpha):
    with tenant_context(alpha.structure):
        former = Agent.objects.create(
            email="ancienne@alpha.test",
            first_name="Ancienne",
            last_name="Référente",
            role="social_worker",
        )
        beneficiary = create_beneficiary(
            alpha.agents["manager"], {"usual_name": "Suivi"}, [former, alpha.agents["manager"]]
        )
        former.is_active = False
        former.save()
    client = alpha.client("manager")
    url = f"/beneficiaires/{beneficiary.file_number}/modifier/"

    # Post back exactly the referents the page shows as checked, and change the city.
    page = client.get(url).content.decode()
    checked = re.findall(r'<input[^>]*name="referents"[^>]*value="(\d+)"[^>]*checked', page)
    client.post(
        url, {"status": "active", "usual_name": "Suivi", "city": "Autun", "referents": checked}
    )

    with tenant_context(alpha.structure):
        beneficiary.refresh_from_db()
        referents = set(beneficiary.referents.values_list("email", flat=True))
    assert beneficiary.city == "Autun"
    assert "ancienne@alpha.test" in referents, "removed without anyone choosing to"


def test_search_too_long_not_ignored(alpha):
    make_file(alpha, [alpha.agents["manager"]], usual_name="Dupont", first_names="Jeanne")

    response = alpha.client("manager").get("/beneficiaires/", {"recherche": "z" * 101})

    assert "DUPONT" not in page_text(response), "an unmatched search lists every file"


def test_postal_code_non_ascii_digits(alpha):
    response = alpha.client("manager").post(
        "/beneficiaires/nouveau/",
        {
            "status": "active",
            "usual_name": "Chiffres",
            "postal_code": "٧١٤٠٠",  # 71400 in Arabic-Indic digits
            "referents": [alpha.agents["manager"].pk],
        },
    )

    assert response.status_code == 200
    assert "Le code postal comporte 5 chiffres" in page_text(response)


@pytest.mark.parametrize("path", ["/api/beneficiaries/", "/api/beneficiaries/%00/"])
def test_api_nul_byte_gets_json_400(alpha, path):
    response = alpha.client("manager").get(path, {"search": "a\x00b"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "caractère nul" in response.json()["detail"]
