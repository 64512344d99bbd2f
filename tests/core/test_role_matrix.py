"""Every role against every action of the file, allowed and refused, plus the cross-structure
case. The expected table is written out here on its own, so a change to core.roles.MATRIX has
to be made twice on purpose."""

import pytest
from django_tenants.utils import tenant_context

from core.enums import Role
from core.models import Beneficiary
from core.roles import MATRIX, Action, Scope
from core.services.beneficiaries import create_beneficiary
from tests.helpers import page_text

ROLES = ["manager", "social_worker", "instructor", "reception_agent", "referent"]
ROLES_ENUM = [Role(role) for role in ROLES]
Y, R, C, N = "all", "referent", "author", None

# Columns: manager, social worker, instructor, reception agent, referent. From the reference
# product's matrix, with its private-synthesis quirks fixed (the author always reads theirs,
# and a reception agent reads the synthesis of what they wrote).
EXPECTED = {
    Action.MANAGE_AGENTS: (Y, N, N, N, N),
    Action.VIEW_STRUCTURE: (Y, Y, Y, Y, Y),
    Action.EDIT_STRUCTURE: (Y, N, N, N, N),
    Action.LIST_BENEFICIARIES: (Y, Y, Y, Y, R),
    Action.CREATE_BENEFICIARY: (Y, Y, Y, Y, Y),
    Action.CREATE_BENEFICIARY_FULL: (Y, Y, Y, N, Y),
    Action.VIEW_GENERAL_INFO: (Y, Y, Y, Y, R),
    Action.EDIT_GENERAL_INFO: (Y, Y, Y, Y, R),
    Action.VIEW_FULL_INFO: (Y, Y, Y, N, R),
    Action.EDIT_FULL_INFO: (Y, Y, Y, N, R),
    Action.CHANGE_REFERENTS: (Y, Y, Y, N, R),
    Action.ARCHIVE_BENEFICIARY: (Y, Y, N, N, N),
    Action.EXPORT_BENEFICIARIES: (Y, N, N, N, N),
    Action.EXPORT_FILE: (Y, Y, Y, N, R),
    Action.EXPORT_FILE_PRIVATE_SYNTHESES: (Y, N, N, N, N),
    Action.VIEW_DOCUMENTS: (Y, Y, Y, Y, R),
    Action.ADD_DOCUMENT: (Y, Y, Y, Y, R),
    Action.DELETE_DOCUMENT: (Y, Y, N, N, R),
    Action.CREATE_FOLLOWUP: (Y, Y, Y, Y, R),
    Action.LIST_FOLLOWUPS: (Y, Y, Y, Y, R),
    Action.COMMENT_FOLLOWUP: (Y, Y, Y, Y, R),
    Action.VIEW_FOLLOWUP: (Y, Y, Y, C, R),
    Action.VIEW_FOLLOWUP_SYNTHESIS: (Y, Y, C, C, R),
    Action.VIEW_FOLLOWUP_PRIVATE_SYNTHESIS: (C, C, C, C, C),
    Action.EDIT_FOLLOWUP: (Y, C, C, C, C),
    Action.DELETE_FOLLOWUP: (Y, C, C, N, R),
    Action.CREATE_HELP_REQUEST: (Y, Y, Y, N, R),
    Action.LIST_HELP_REQUESTS: (Y, Y, Y, Y, R),
    Action.COMMENT_HELP_REQUEST: (Y, Y, Y, Y, R),
    Action.VIEW_HELP_REQUEST_PROTECTED: (Y, Y, Y, N, Y),
    Action.VIEW_HELP_REQUEST_SYNTHESIS: (Y, Y, C, N, R),
    Action.VIEW_HELP_REQUEST_PRIVATE_SYNTHESIS: (C, C, C, C, C),
    Action.LIST_HELP_REQUEST_COMMENTS: (Y, Y, Y, N, R),
    Action.EDIT_HELP_REQUEST: (Y, C, C, N, R),
    Action.DELETE_HELP_REQUEST: (Y, Y, C, N, R),
    Action.VIEW_ACCOMPANIMENTS: (Y, Y, Y, Y, Y),
    Action.EXPORT_ACCOMPANIMENTS: (Y, Y, Y, N, Y),
    Action.VIEW_STATISTICS: (Y, Y, Y, N, Y),
    Action.EXPORT_STATISTICS: (Y, Y, N, N, N),
    Action.VIEW_NIR: (Y, Y, Y, N, R),
    Action.VIEW_CONSULTATIONS: (Y, N, N, N, N),
    Action.MANAGE_COMMITTEES: (Y, Y, Y, N, N),
    Action.MANAGE_API_TOKENS: (Y, N, N, N, N),
    Action.HOLD_RETENTION: (Y, Y, Y, N, R),
}


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.value)
def test_matrix_matches_expected_table(action):
    actual = tuple(
        MATRIX[action][role].value if role in MATRIX[action] else None for role in ROLES_ENUM
    )

    assert actual == EXPECTED[action]


@pytest.fixture
def files(alpha):
    """A file followed by the referent persona, and one followed by someone else."""
    with tenant_context(alpha.structure):
        followed = create_beneficiary(
            alpha.agents["manager"],
            {"first_names": "Suivi", "usual_name": "Parreferent"},
            [alpha.agents["referent"]],
        )
        other = create_beneficiary(
            alpha.agents["manager"],
            {"first_names": "Autre", "usual_name": "Dossier"},
            [alpha.agents["manager"]],
        )
        Beneficiary.objects.filter(pk__in=[followed.pk, other.pk]).update(
            social_security_number="184037101412345"
        )
    return {"followed": followed, "other": other}


def _get(client, url):
    return client.get(url)


def _post(client, url):
    return client.post(url)


# For each action: how to try it on a file, and how to tell from the response that it worked.
FILE_ENDPOINTS = {
    Action.VIEW_GENERAL_INFO: (_get, "/beneficiaires/{n}/", lambda r: r.status_code == 200),
    Action.EDIT_GENERAL_INFO: (
        _get,
        "/beneficiaires/{n}/modifier/",
        lambda r: r.status_code == 200,
    ),
    Action.VIEW_FULL_INFO: (
        _get,
        "/beneficiaires/{n}/",
        lambda r: r.status_code == 200 and "Activité et revenu" in page_text(r),
    ),
    Action.EDIT_FULL_INFO: (
        _get,
        "/beneficiaires/{n}/entourage/ajouter/",
        lambda r: r.status_code == 200,
    ),
    Action.CHANGE_REFERENTS: (
        _get,
        "/beneficiaires/{n}/modifier/",
        lambda r: r.status_code == 200 and 'name="referents"' in page_text(r),
    ),
    Action.VIEW_NIR: (
        _post,
        "/beneficiaires/{n}/numero-securite-sociale/",
        lambda r: r.status_code == 200,
    ),
    Action.VIEW_CONSULTATIONS: (
        _get,
        "/beneficiaires/{n}/",
        lambda r: r.status_code == 200 and "Qui a consulté ce dossier" in page_text(r),
    ),
    Action.ARCHIVE_BENEFICIARY: (
        _get,
        "/beneficiaires/{n}/archiver/",
        lambda r: r.status_code == 200,
    ),
    Action.HOLD_RETENTION: (
        _get,
        "/beneficiaires/{n}/conservation/",
        lambda r: r.status_code == 200,
    ),
}
CASES = [(action, role) for action in FILE_ENDPOINTS for role in ROLES]


@pytest.mark.parametrize(("action", "role"), CASES, ids=[f"{a.value}-{r}" for a, r in CASES])
def test_role_on_file_actions(alpha, files, action, role):
    method, url, succeeded = FILE_ENDPOINTS[action]
    expected = EXPECTED[action][ROLES.index(role)]
    client = alpha.client(role)

    on_followed = succeeded(method(client, url.format(n=files["followed"].file_number)))
    on_other = succeeded(method(client, url.format(n=files["other"].file_number)))

    assert on_followed == (expected is not None)
    assert on_other == (expected == Scope.ALL.value)


@pytest.mark.parametrize(("action", "role"), CASES, ids=[f"{a.value}-{r}" for a, r in CASES])
def test_agent_of_other_structure_gets_404(alpha, beta, files, action, role):
    method, url, _ = FILE_ENDPOINTS[action]

    response = method(beta.client(role), url.format(n=files["other"].file_number))

    assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_role_on_structure_pages(alpha, role):
    client = alpha.client(role)
    manages = EXPECTED[Action.MANAGE_AGENTS][ROLES.index(role)] is not None

    assert client.get("/beneficiaires/").status_code == 200
    assert client.get("/beneficiaires/nouveau/").status_code == 200
    assert (client.get("/utilisateurs/").status_code == 200) == manages
    assert (client.get("/utilisateurs/inviter/").status_code == 200) == manages
