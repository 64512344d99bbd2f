"""The list and file pages run a fixed number of SQL queries, whatever the number of rows.

The numbers are pinned: a change that adds a query per row, or a new query per page, fails
here and has to update the number on purpose.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.models import FollowupType, Relative
from core.services.beneficiaries import create_beneficiary

LIST_QUERIES = 12
# A search checks for exact matches first, then takes its total from the page query
# (COUNT(*) OVER ()) instead of a second pass.
SEARCH_QUERIES = LIST_QUERIES
FILE_QUERIES = 18


def fill(site, count: int):
    with tenant_context(site.structure):
        types = list(FollowupType.objects.all()[:3])
        files = []
        for index in range(count):
            beneficiary = create_beneficiary(
                site.agents["manager"],
                {"first_names": f"P{index}", "usual_name": "Durand", "city": "Autun"},
                [site.agents["manager"], site.agents["social_worker"]],
            )
            beneficiary.followup_types.set(types)
            files.append(beneficiary)
        return files


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_list_page_query_count(alpha):
    fill(alpha, 25)
    client = alpha.client("manager")
    client.get("/beneficiaires/")

    assert count_queries(client, "/beneficiaires/") == LIST_QUERIES
    assert count_queries(client, "/beneficiaires/?ville=autun") == LIST_QUERIES


def test_search_page_counts_in_the_page_query(alpha):
    fill(alpha, 25)
    client = alpha.client("manager")
    client.get("/beneficiaires/?recherche=durand")

    assert count_queries(client, "/beneficiaires/?recherche=durand&ville=autun") == SEARCH_QUERIES


def test_file_page_query_count(alpha):
    target, *others = fill(alpha, 6)
    with tenant_context(alpha.structure):
        for other in others:
            Relative.objects.create(
                beneficiary=target, relationship="sibling", linked_beneficiary=other
            )
            Relative.objects.create(
                beneficiary=other, relationship="sibling", linked_beneficiary=target
            )
    client = alpha.client("manager")
    client.get(f"/beneficiaires/{target.file_number}/")

    assert count_queries(client, f"/beneficiaires/{target.file_number}/") == FILE_QUERIES


def test_empty_search_skips_the_count(alpha):
    fill(alpha, 3)
    client = alpha.client("manager")
    client.get("/beneficiaires/?recherche=durand")

    assert count_queries(client, "/beneficiaires/?recherche=zzzzqqqq") == SEARCH_QUERIES - 2
