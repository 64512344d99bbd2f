from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.models import Beneficiary, FollowupType, Relative
from core.services.beneficiaries import create_beneficiary
from tests.helpers import page_text, visible_text


def make_file(site, referent="social_worker", **values):
    with tenant_context(site.structure):
        return create_beneficiary(site.agents["social_worker"], values, [site.agents[referent]])


def names_listed(response) -> str:
    return visible_text(response)


@pytest.fixture
def eloise(alpha):
    return make_file(
        alpha, first_names="Éloïse", usual_name="Lefèvre-Dupont", phone_1="06 12 34 56 78"
    )


@pytest.mark.parametrize(
    "query",
    [
        "eloise lefevre dupont",
        "Eloise Lefevre",
        "ÉLOÏSE",
        "lefebvre",
        "eloize",
        "0612345678",
        "06 12 34 56 78",
    ],
)
def test_search_finds_despite_accents_hyphens_typos(alpha, eloise, query):
    make_file(alpha, first_names="Jean", usual_name="Martin")

    content = names_listed(
        alpha.client("social_worker").get("/beneficiaires/", {"recherche": query})
    )

    assert "LEFÈVRE-DUPONT" in content, query
    assert "MARTIN" not in content, query


def test_search_by_birth_name(alpha):
    make_file(alpha, first_names="Anne", usual_name="Morel", birth_name="Garnier")

    content = names_listed(
        alpha.client("social_worker").get("/beneficiaires/", {"recherche": "garnier"})
    )

    assert "MOREL" in content


def test_search_with_sql_wildcards_finds_nothing_odd(alpha, eloise):
    response = alpha.client("social_worker").get("/beneficiaires/", {"recherche": "%_%"})

    assert response.status_code == 200
    assert "LEFÈVRE-DUPONT" not in names_listed(response)


def test_filters_by_status_referent_city_and_followup_type(alpha):
    make_file(alpha, first_names="A", usual_name="Actif", city="Autun")
    inactive = make_file(
        alpha, first_names="B", usual_name="Inactif", city="Nevers", referent="manager"
    )
    with tenant_context(alpha.structure):
        Beneficiary.objects.filter(pk=inactive.pk).update(status="inactive")
        followup_type = FollowupType.objects.get(default_code="domiciliation")
        inactive.followup_types.add(followup_type)
    client = alpha.client("manager")

    by_status = names_listed(client.get("/beneficiaires/", {"statut": "inactive"}))
    by_referent = names_listed(
        client.get("/beneficiaires/", {"referent": alpha.agents["manager"].pk})
    )
    by_city = names_listed(client.get("/beneficiaires/", {"ville": "autun"}))
    by_type = names_listed(client.get("/beneficiaires/", {"accompagnement": followup_type.pk}))

    assert "INACTIF" in by_status
    assert "ACTIF " not in by_status.replace("INACTIF", "")
    assert "INACTIF" in by_referent
    assert "ACTIF " not in by_referent.replace("INACTIF", "")
    assert "ACTIF" in by_city
    assert "INACTIF" not in by_city
    assert "INACTIF" in by_type
    assert "Domiciliation" in by_type


def test_exact_words_rank_before_longer_names(alpha):
    make_file(alpha, first_names="Marcel", usual_name="Abadie")
    make_file(alpha, first_names="Marc", usual_name="Zola")
    make_file(alpha, first_names="Martin", usual_name="Bernard")

    response = alpha.client("manager").get("/beneficiaires/", {"recherche": "marc"})

    listed = [file.first_names for file in response.context["page"]]
    assert listed == ["Marc", "Marcel"]


def test_close_spellings_when_no_exact_match(alpha, eloise):
    response = alpha.client("manager").get("/beneficiaires/", {"recherche": "lefebvre"})

    assert "LEFÈVRE-DUPONT" in names_listed(response)
    assert "Aucun dossier ne contient exactement ces mots" in page_text(response)


def test_close_spellings_on_request_beside_exact_matches(alpha, eloise):
    make_file(alpha, first_names="Paul", usual_name="Lefebvre")
    client = alpha.client("manager")

    exact = client.get("/beneficiaires/", {"recherche": "lefebvre"})
    widened = client.get("/beneficiaires/", {"recherche": "lefebvre", "approchant": "1"})

    assert "LEFÈVRE-DUPONT" not in names_listed(exact)
    assert "approchant=1" in exact.content.decode()
    assert "LEFEBVRE" in names_listed(widened)
    assert "LEFÈVRE-DUPONT" in names_listed(widened)


def test_city_filter_ignores_accents_case_and_hyphens(alpha):
    make_file(alpha, first_names="A", usual_name="Stephanois", city="Saint-Étienne")
    make_file(alpha, first_names="B", usual_name="Lyonnais", city="Lyon")
    client = alpha.client("manager")

    listed = names_listed(client.get("/beneficiaires/", {"ville": " saint etienne "}))

    assert "STEPHANOIS" in listed
    assert "LYONNAIS" not in listed


def test_city_filter_follows_a_changed_city(alpha):
    moved = make_file(alpha, first_names="A", usual_name="Demenage", city="Autun")
    with tenant_context(alpha.structure):
        moved.city = "Beaune"
        moved.save(update_fields=["city"])
    client = alpha.client("manager")

    assert "DEMENAGE" in names_listed(client.get("/beneficiaires/", {"ville": "beaune"}))
    assert "DEMENAGE" not in names_listed(client.get("/beneficiaires/", {"ville": "autun"}))


def test_search_results_paginate_with_their_total(alpha, settings):
    settings.BENEFICIARIES_PER_PAGE = 2
    for index in range(5):
        make_file(alpha, first_names=f"Prenom{index}", usual_name="Martinez")
    make_file(alpha, first_names="Autre", usual_name="Personne")
    client = alpha.client("manager")

    first = client.get("/beneficiaires/", {"recherche": "martinez"})
    last = client.get("/beneficiaires/", {"recherche": "martinez", "page": "3"})
    beyond = client.get("/beneficiaires/", {"recherche": "martinez", "page": "9"})

    assert first.context["page"].paginator.count == 5
    assert first.context["page"].paginator.num_pages == 3
    assert len(first.context["page"].object_list) == 2
    assert len(last.context["page"].object_list) == 1
    assert beyond.context["page"].number == 3
    assert [file.first_names for file in beyond.context["page"]] == [
        file.first_names for file in last.context["page"]
    ]


def test_search_without_results_shows_an_empty_page(alpha, eloise):
    response = alpha.client("manager").get("/beneficiaires/", {"recherche": "zzzzqqqq"})

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0


def test_filters_by_age_bracket(alpha):
    today = timezone.localdate()
    make_file(
        alpha,
        first_names="Jeune",
        usual_name="Vingt",
        birth_date=today - timedelta(days=365 * 20 + 10),
    )
    make_file(
        alpha,
        first_names="Senior",
        usual_name="Septante",
        birth_date=today - timedelta(days=365 * 70 + 20),
    )

    young = names_listed(alpha.client("manager").get("/beneficiaires/", {"age": "under_25"}))
    old = names_listed(alpha.client("manager").get("/beneficiaires/", {"age": "65_plus"}))

    assert "VINGT" in young
    assert "SEPTANTE" not in young
    assert "SEPTANTE" in old
    assert "VINGT" not in old


def test_archived_files_are_hidden_unless_asked(alpha):
    archived = make_file(alpha, first_names="Ancien", usual_name="Archive")
    with tenant_context(alpha.structure):
        Beneficiary.objects.filter(pk=archived.pk).update(status="archived")
    client = alpha.client("manager")

    assert "ARCHIVE" not in names_listed(client.get("/beneficiaires/"))
    assert "ARCHIVE" in names_listed(client.get("/beneficiaires/", {"statut": "archived"}))


def test_columns_sort_both_ways(alpha):
    make_file(alpha, first_names="Zoé", usual_name="Abadie", city="Autun")
    make_file(alpha, first_names="Adam", usual_name="Zola", city="Beaune")
    client = alpha.client("manager")

    by_name = names_listed(client.get("/beneficiaires/", {"tri": "nom"}))
    by_name_desc = names_listed(client.get("/beneficiaires/", {"tri": "nom", "ordre": "desc"}))
    by_first_name = names_listed(client.get("/beneficiaires/", {"tri": "prenom"}))

    assert by_name.index("ABADIE") < by_name.index("ZOLA")
    assert by_name_desc.index("ZOLA") < by_name_desc.index("ABADIE")
    assert by_first_name.index("Adam") < by_first_name.index("Zoé")


def test_invalid_list_parameters_are_ignored(alpha, eloise):
    client = alpha.client("manager")

    for params in [
        {"page": "-1"},
        {"page": "abc"},
        {"tri": "drop"},
        {"age": "old"},
        {"referent": "x"},
    ]:
        response = client.get("/beneficiaires/", params)
        assert response.status_code == 200, params


CREATION = {
    "status": "active",
    "first_names": "Eloise",
    "usual_name": "Lefevre Dupont",
    "birth_date": "1984-03-02",
}


def test_same_names_and_birth_date_warn_before_creating(alpha):
    existing = make_file(
        alpha, first_names="Éloïse", usual_name="Lefèvre-Dupont", birth_date=date(1984, 3, 2)
    )
    client = alpha.client("social_worker")
    form = {**CREATION, "referents": [alpha.agents["social_worker"].pk]}

    response = client.post("/beneficiaires/nouveau/", form)

    content = page_text(response)
    assert "Cette personne a peut-être déjà un dossier" in content
    assert f"/beneficiaires/{existing.file_number}/" in content
    assert 'value="Lefevre Dupont"' in content
    with tenant_context(alpha.structure):
        assert Beneficiary.objects.count() == 1


def test_agent_may_go_on_after_duplicate_warning(alpha):
    make_file(alpha, first_names="Éloïse", usual_name="Lefèvre-Dupont", birth_date=date(1984, 3, 2))
    form = {
        **CREATION,
        "referents": [alpha.agents["social_worker"].pk],
        "confirm_not_duplicate": "on",
    }

    response = alpha.client("social_worker").post("/beneficiaires/nouveau/", form)

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        assert Beneficiary.objects.count() == 2


def test_close_spelling_warns(alpha):
    make_file(
        alpha, first_names="Eloise", usual_name="Lefebvre-Dupont", birth_date=date(1984, 3, 2)
    )
    form = {**CREATION, "referents": [alpha.agents["social_worker"].pk]}

    response = alpha.client("social_worker").post("/beneficiaires/nouveau/", form)

    assert "nom et prénom très proches" in page_text(response)


def test_same_phone_warns(alpha):
    make_file(alpha, first_names="Autre", usual_name="Personne", phone_1="06 11 22 33 44")
    form = {
        "status": "active",
        "first_names": "Nouvelle",
        "usual_name": "Personne",
        "phone_1": "0611223344",
        "referents": [alpha.agents["social_worker"].pk],
    }

    response = alpha.client("social_worker").post("/beneficiaires/nouveau/", form)

    assert "même numéro de téléphone" in page_text(response)


def test_household_members_are_not_reported(alpha):
    parent = make_file(alpha, first_names="Paul", usual_name="Durand", phone_1="06 11 22 33 44")
    child = make_file(alpha, first_names="Léa", usual_name="Durand", phone_1="06 11 22 33 44")
    with tenant_context(alpha.structure):
        Relative.objects.create(
            beneficiary=parent, relationship="major_child", linked_beneficiary=child
        )
        form = {
            "status": "active",
            "first_names": "Léa",
            "usual_name": "Durand",
            "phone_1": "06 11 22 33 44",
            "version": child.version,
            "referents": [alpha.agents["social_worker"].pk],
        }

    response = alpha.client("social_worker").post(
        f"/beneficiaires/{child.file_number}/modifier/", form
    )

    assert response.status_code == 302


def test_duplicates_of_other_structure_are_not_reported(alpha, beta):
    make_file(beta, first_names="Éloïse", usual_name="Lefèvre-Dupont", birth_date=date(1984, 3, 2))
    form = {**CREATION, "referents": [alpha.agents["social_worker"].pk]}

    response = alpha.client("social_worker").post("/beneficiaires/nouveau/", form)

    assert response.status_code == 302


def test_phone_search_accepts_international_prefix(alpha, eloise):
    content = names_listed(
        alpha.client("social_worker").get("/beneficiaires/", {"recherche": "+33 6 12 34 56 78"})
    )

    assert "LEFÈVRE-DUPONT" in content


def test_city_key_migration_fills_existing_files(alpha):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("core.migrations.0008_beneficiary_city_key")
    moved = make_file(alpha, first_names="A", usual_name="Ancien", city="Saint-Étienne")
    with tenant_context(alpha.structure):
        Beneficiary.objects.filter(pk=moved.pk).update(city_key="")

        migration.fill_city_keys(apps, None)

        moved.refresh_from_db()
    assert moved.city_key == "saint etienne"
