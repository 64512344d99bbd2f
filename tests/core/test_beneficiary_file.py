"""The complete file: full sections, NIR, relatives, consultations, concurrent edits."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.models import AuditEvent, Beneficiary, Consultation, Relative
from core.nir import validate_nir
from core.services.beneficiaries import create_beneficiary
from tests.helpers import page_text, visible_text

VALID_NIR = f"1840371014123{97 - 1840371014123 % 97:02d}"
CORSICAN_NIR = "2900" + "52A" + "004" + "123"


def make_file(site, **values):
    with tenant_context(site.structure):
        return create_beneficiary(
            site.agents["social_worker"], values, [site.agents["social_worker"]]
        )


def form_data(beneficiary, **changes):
    data = {
        "status": beneficiary.status,
        "first_names": beneficiary.first_names,
        "usual_name": beneficiary.usual_name,
        "version": beneficiary.version,
        "referents": [agent.pk for agent in beneficiary.referents.all()],
    }
    data.update(changes)
    return data


def test_nir_with_right_key_is_valid():
    validate_nir(VALID_NIR)


def test_corsican_nir_key_uses_19():
    body = CORSICAN_NIR
    key = 97 - int(body.replace("2A", "19")) % 97

    validate_nir(f"{body}{key:02d}")


@pytest.mark.parametrize("value", ["12345", "384037101412345", VALID_NIR[:13] + "00"])
def test_invalid_nir_is_refused(value):
    with pytest.raises(ValidationError):
        validate_nir(value)


def test_social_worker_saves_full_sections(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")
    with tenant_context(alpha.structure):
        data = form_data(
            beneficiary,
            gir="level_3",
            social_security_number=" ".join([VALID_NIR[:1], VALID_NIR[1:7], VALID_NIR[7:]]),
            income_sources=["rsa", "apl"],
            income_amount="1 234,50",
            protection_measure="tutelle",
            nationality="FRA",
        )

    response = alpha.client("social_worker").post(
        f"/beneficiaires/{beneficiary.file_number}/modifier/", data
    )

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        beneficiary.refresh_from_db()
    assert beneficiary.gir == "level_3"
    assert beneficiary.social_security_number == VALID_NIR
    assert beneficiary.income_sources == ["rsa", "apl"]
    assert str(beneficiary.income_amount) == "1234.50"
    assert beneficiary.nationality == "FRA"


def test_wrong_nir_key_gets_french_message(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")
    with tenant_context(alpha.structure):
        data = form_data(beneficiary, social_security_number=VALID_NIR[:13] + "00")

    response = alpha.client("social_worker").post(
        f"/beneficiaires/{beneficiary.file_number}/modifier/", data
    )

    assert "La clé de ce numéro de sécurité sociale ne correspond pas" in page_text(response)


def test_reception_agent_cannot_see_or_post_full_sections(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin", gir="level_2")
    client = alpha.client("reception_agent")
    with tenant_context(alpha.structure):
        data = form_data(beneficiary, gir="level_6", referents=[])

    page = page_text(client.get(f"/beneficiaires/{beneficiary.file_number}/"))
    client.post(f"/beneficiaires/{beneficiary.file_number}/modifier/", data)

    assert "Santé" not in page
    with tenant_context(alpha.structure):
        beneficiary.refresh_from_db()
    assert beneficiary.gir == "level_2"
    assert list(beneficiary.referents.all()) == [alpha.agents["social_worker"]]


def test_nir_is_masked_and_reveal_is_logged(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")
    with tenant_context(alpha.structure):
        Beneficiary.objects.filter(pk=beneficiary.pk).update(social_security_number=VALID_NIR)
    client = alpha.client("social_worker")

    masked = page_text(client.get(f"/beneficiaires/{beneficiary.file_number}/"))
    revealed = page_text(
        client.post(f"/beneficiaires/{beneficiary.file_number}/numero-securite-sociale/")
    )

    assert VALID_NIR[1:7] not in masked.replace(" ", "")
    assert VALID_NIR in revealed.replace(" ", "")
    with tenant_context(alpha.structure):
        assert AuditEvent.objects.filter(
            action="reveal_nir", beneficiary_id=beneficiary.pk
        ).exists()


def test_reception_agent_cannot_reveal_nir(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")

    response = alpha.client("reception_agent").post(
        f"/beneficiaires/{beneficiary.file_number}/numero-securite-sociale/"
    )

    assert response.status_code == 404


def test_nir_never_enters_the_audit_trail(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")
    with tenant_context(alpha.structure):
        data = form_data(beneficiary, social_security_number=VALID_NIR)
    alpha.client("social_worker").post(f"/beneficiaires/{beneficiary.file_number}/modifier/", data)

    with tenant_context(alpha.structure):
        changes = [str(event.changes) for event in AuditEvent.objects.all()]
    assert all(VALID_NIR not in text for text in changes)


def test_relative_linked_file_shows_on_both_files(alpha):
    parent = make_file(alpha, first_names="Paul", usual_name="Durand")
    child = make_file(alpha, first_names="Léa", usual_name="Durand")
    client = alpha.client("social_worker")

    response = client.post(
        f"/beneficiaires/{parent.file_number}/entourage/ajouter/",
        {
            "relationship": "major_child",
            "first_name": "Léa",
            "last_name": "Durand",
            "hosted": "on",
            "linked_file_number": child.file_number.lower(),
        },
    )

    assert response.status_code == 302
    parent_page = page_text(client.get(f"/beneficiaires/{parent.file_number}/"))
    child_page = visible_text(client.get(f"/beneficiaires/{child.file_number}/"))
    assert f"Voir son dossier (n°{child.file_number})" in parent_page
    assert "Figure dans l'entourage de Paul DURAND" in child_page
    with tenant_context(alpha.structure):
        assert AuditEvent.objects.filter(action="add_relative", beneficiary_id=parent.pk).exists()


def test_relative_cannot_link_file_of_other_structure(alpha, beta):
    parent = make_file(alpha, first_names="Paul", usual_name="Durand")
    other = make_file(beta, first_names="Autre", usual_name="Structure")

    response = alpha.client("social_worker").post(
        f"/beneficiaires/{parent.file_number}/entourage/ajouter/",
        {"relationship": "spouse", "last_name": "X", "linked_file_number": other.file_number},
    )

    assert "Aucun dossier accessible ne porte le numéro" in page_text(response)


def test_relative_is_removed_with_audit_row(alpha):
    parent = make_file(alpha, first_names="Paul", usual_name="Durand")
    with tenant_context(alpha.structure):
        relative = Relative.objects.create(beneficiary=parent, relationship="spouse", last_name="X")

    alpha.client("social_worker").post(
        f"/beneficiaires/{parent.file_number}/entourage/{relative.pk}/retirer/"
    )

    with tenant_context(alpha.structure):
        assert not Relative.objects.exists()
        assert AuditEvent.objects.filter(action="delete_relative").exists()


def test_opening_file_records_consultation_shown_to_manager(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")

    alpha.client("reception_agent").get(f"/beneficiaires/{beneficiary.file_number}/")
    manager_page = page_text(
        alpha.client("manager").get(f"/beneficiaires/{beneficiary.file_number}/")
    )
    worker_page = page_text(
        alpha.client("social_worker").get(f"/beneficiaires/{beneficiary.file_number}/")
    )

    with tenant_context(alpha.structure):
        assert Consultation.objects.filter(agent=alpha.agents["reception_agent"]).count() == 1
    assert "Qui a consulté ce dossier" in manager_page
    assert "Agent d'accueil/CNFS" in manager_page
    assert "Qui a consulté ce dossier" not in worker_page


def test_second_concurrent_save_is_refused_and_keeps_input(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")
    with tenant_context(alpha.structure):
        first = form_data(beneficiary, city="Autun")
        second = form_data(beneficiary, city="Nevers", first_names="Jean-Pierre")
    manager = alpha.client("manager")
    worker = alpha.client("social_worker")

    assert (
        manager.post(f"/beneficiaires/{beneficiary.file_number}/modifier/", first).status_code
        == 302
    )
    response = worker.post(f"/beneficiaires/{beneficiary.file_number}/modifier/", second)

    content = page_text(response)
    assert response.status_code == 200
    assert "Le dossier a été modifié pendant que vous le modifiiez" in content
    assert "Ville : « (vide) » → « Autun »" in content
    assert 'value="Jean-Pierre"' in content
    with tenant_context(alpha.structure):
        beneficiary.refresh_from_db()
    assert beneficiary.city == "Autun"
    assert beneficiary.first_names == "Jean"


def test_resubmitting_after_conflict_saves(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")
    with tenant_context(alpha.structure):
        stale = form_data(beneficiary, city="Nevers")
    alpha.client("manager").post(
        f"/beneficiaires/{beneficiary.file_number}/modifier/", {**stale, "city": "Autun"}
    )
    worker = alpha.client("social_worker")
    worker.post(f"/beneficiaires/{beneficiary.file_number}/modifier/", stale)

    response = worker.post(
        f"/beneficiaires/{beneficiary.file_number}/modifier/", {**stale, "version": 2}
    )

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        beneficiary.refresh_from_db()
    assert beneficiary.city == "Nevers"


def test_history_shows_french_labels_and_values(alpha):
    beneficiary = make_file(alpha, first_names="Jean", usual_name="Martin")
    with tenant_context(alpha.structure):
        data = form_data(beneficiary, family_situation="married", city="Autun")
    client = alpha.client("social_worker")
    client.post(f"/beneficiaires/{beneficiary.file_number}/modifier/", data)

    content = page_text(client.get(f"/beneficiaires/{beneficiary.file_number}/"))

    assert "Historique des changements" in content
    assert "Situation familiale : « (vide) » → « Marié·e »" in content
    assert "family_situation" not in content


def test_file_page_runs_fixed_number_of_queries(alpha):
    small = make_file(alpha, first_names="Jean", usual_name="Martin")
    big = make_file(alpha, first_names="Paul", usual_name="Durand")
    client = alpha.client("manager")
    with tenant_context(alpha.structure):
        for index in range(6):
            Relative.objects.create(beneficiary=big, relationship="sibling", last_name=f"R{index}")
            create_beneficiary(alpha.agents["manager"], {"usual_name": f"L{index}"})
        for index in range(4):
            Relative.objects.create(
                beneficiary=Beneficiary.objects.get(usual_name=f"L{index}"),
                relationship="sibling",
                linked_beneficiary=big,
            )
    client.get(f"/beneficiaires/{small.file_number}/")
    client.get(f"/beneficiaires/{big.file_number}/")

    with CaptureQueriesContext(connection) as small_queries:
        client.get(f"/beneficiaires/{small.file_number}/")
    with CaptureQueriesContext(connection) as big_queries:
        client.get(f"/beneficiaires/{big.file_number}/")

    assert len(big_queries) == len(small_queries)
