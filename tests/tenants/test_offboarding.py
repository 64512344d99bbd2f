"""Suspending a structure stops everything but keeps its data. Deleting it takes two national
users and a prior export. Every step is recorded in the national audit trail."""

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from core.models import Beneficiary
from core.signin.views import BACKEND_PATH
from tenants.models import (
    DirectoryEntry,
    Domain,
    NationalAuditEvent,
    NationalUser,
    Structure,
    StructureDeletionRequest,
)
from tenants.offboarding import (
    OffboardingError,
    confirm_deletion,
    request_deletion,
    set_suspended,
)
from tenants.structure_archive import export_structure
from tests.helpers import page_text


def _national_client(email: str) -> tuple[NationalUser, Client]:
    user = NationalUser.objects.create(email=email)
    client = Client(HTTP_HOST="localhost")
    client.raise_request_exception = False
    client.force_login(user, backend=BACKEND_PATH)
    return user, client


@pytest.fixture
def anne(db):
    return _national_client("anne@equipe.test")


@pytest.fixture
def bruno(db):
    return _national_client("bruno@equipe.test")


def _suspend(structure: Structure, actor=None) -> Structure:
    set_suspended(structure, True, actor)
    structure.refresh_from_db()
    return structure


def _export(structure: Structure, actor=None) -> None:
    export_structure(structure, io.BytesIO(), actor=actor)


# Suspension


@pytest.mark.parametrize("path", ["/", "/connexion/", "/beneficiaires/", "/api/"])
def test_suspended_structure_refuses_every_page(alpha, path):
    _suspend(alpha.structure)

    response = alpha.client("manager").get(path)

    assert response.status_code == 403
    assert "Cet espace est suspendu" in page_text(response)


def test_suspended_page_says_data_is_kept(alpha):
    _suspend(alpha.structure)

    response = alpha.client().get("/")

    assert "Ses données sont conservées" in page_text(response)


def test_sign_in_return_for_suspended_structure_explains(alpha):
    _suspend(alpha.structure)

    response = Client(HTTP_HOST="localhost").get("/oidc/callback/", {"state": "alpha~abc"})

    assert response.status_code == 403
    assert "Cet espace est suspendu" in page_text(response)


def test_suspension_keeps_data(alpha):
    with tenant_context(alpha.structure):
        Beneficiary.objects.create(first_names="Jeanne", usual_name="Durand")

    _suspend(alpha.structure)

    with tenant_context(alpha.structure):
        assert Beneficiary.objects.filter(usual_name="Durand").exists()


def test_jobs_skip_suspended_structure(alpha, beta, monkeypatch):
    _suspend(alpha.structure)
    visited: dict[str, list[str]] = {"digest": [], "retention": [], "statistics": []}

    def record(job: str, result=None):
        def run(*args, **kwargs):
            visited[job].append(connection.schema_name)
            return result

        return run

    def record_statistics(structure, *args):
        visited["statistics"].append(structure.schema_name)
        return 0

    from core.services.notifications import DigestResult
    from core.services.retention import RetentionResult

    monkeypatch.setattr(
        "core.management.commands.send_daily_digest.notify_due_dates", record("digest", 0)
    )
    monkeypatch.setattr(
        "core.management.commands.send_daily_digest.send_digests",
        lambda structure: DigestResult(),
    )
    monkeypatch.setattr(
        "core.management.commands.apply_retention.apply_retention",
        record("retention", RetentionResult()),
    )
    monkeypatch.setattr("tenants.national_statistics.refresh_structure", record_statistics)

    call_command("send_daily_digest")
    call_command("apply_retention", stdout=io.StringIO())
    call_command("refresh_national_statistics", "--months", "1", stdout=io.StringIO())

    assert visited["digest"] == ["beta"]
    assert visited["retention"] == ["beta"]
    assert visited["statistics"] == ["beta"]


def test_console_suspension_is_audited(alpha, anne):
    user, client = anne

    client.post("/console/structures/alpha/suspension/")
    client.post("/console/structures/alpha/suspension/")

    events = NationalAuditEvent.objects.order_by("id")
    assert [event.action for event in events] == ["suspend", "reactivate"]
    assert {event.actor_id for event in events} == {user.pk}


# Deletion: preconditions


def test_deletion_of_active_structure_is_refused(alpha, anne):
    user, _ = anne

    with pytest.raises(OffboardingError, match="Suspendez d'abord"):
        request_deletion(alpha.structure, user)


def test_deletion_without_export_is_refused(alpha, anne):
    user, _ = anne
    _suspend(alpha.structure, user)

    with pytest.raises(OffboardingError, match="Exportez d'abord"):
        request_deletion(alpha.structure, user)


def test_export_before_suspension_does_not_count(alpha, anne):
    user, _ = anne
    _export(alpha.structure, user)
    NationalAuditEvent.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    _suspend(alpha.structure, user)

    with pytest.raises(OffboardingError, match="Exportez d'abord"):
        request_deletion(alpha.structure, user)


def test_requester_cannot_confirm(alpha, anne):
    user, _ = anne
    structure = _suspend(alpha.structure, user)
    _export(structure, user)
    request_deletion(structure, user)

    with pytest.raises(OffboardingError, match="un autre membre"):
        confirm_deletion(structure, user)
    assert schema_exists("alpha")


def test_expired_request_cannot_be_confirmed(alpha, anne, bruno):
    structure = _suspend(alpha.structure, anne[0])
    _export(structure, anne[0])
    request_deletion(structure, anne[0])
    StructureDeletionRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(OffboardingError, match="a expiré"):
        confirm_deletion(structure, bruno[0])
    assert schema_exists("alpha")


def test_second_request_while_pending_is_refused(alpha, anne, bruno):
    structure = _suspend(alpha.structure, anne[0])
    _export(structure, anne[0])
    request_deletion(structure, anne[0])

    with pytest.raises(OffboardingError, match="déjà en cours"):
        request_deletion(structure, bruno[0])


def test_reactivation_cancels_deletion_request(alpha, anne):
    structure = _suspend(alpha.structure, anne[0])
    _export(structure, anne[0])
    request_deletion(structure, anne[0])

    set_suspended(structure, False, anne[0])

    assert not StructureDeletionRequest.objects.exists()
    assert NationalAuditEvent.objects.filter(action="deletion_cancel").count() == 1


# Deletion: the two-person flow in the console


def _request_through_console(client: Client) -> None:
    client.post("/console/structures/alpha/suspension/")
    # Reading the whole archive lets the test client close the response.
    b"".join(client.post("/console/structures/alpha/export/").streaming_content)
    client.post("/console/structures/alpha/suppression/demande/")


def test_confirmed_deletion_drops_schema_rows_and_files(
    alpha, anne, bruno, django_capture_on_commit_callbacks
):
    with tenant_context(alpha.structure):
        default_storage.save("documents/1/cle", ContentFile(b"contenu"))
    _request_through_console(anne[1])

    with django_capture_on_commit_callbacks(execute=True):
        response = bruno[1].post(
            "/console/structures/alpha/suppression/confirmation/", {"slug_confirmation": "alpha"}
        )

    assert response.status_code == 302
    assert not schema_exists("alpha")
    assert not Structure.objects.filter(slug="alpha").exists()
    assert not Domain.objects.filter(domain="alpha.localhost").exists()
    assert not DirectoryEntry.objects.filter(email="manager@alpha.test").exists()
    with tenant_context(Structure(schema_name="alpha")):
        assert not default_storage.exists("documents/1/cle")


def test_deletion_is_recorded_with_both_users(alpha, anne, bruno):
    _request_through_console(anne[1])

    bruno[1].post(
        "/console/structures/alpha/suppression/confirmation/", {"slug_confirmation": "alpha"}
    )

    actions = list(NationalAuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["suspend", "export", "deletion_request", "deletion"]
    deletion = NationalAuditEvent.objects.get(action="deletion")
    assert deletion.actor == bruno[0]
    assert deletion.details["requested_by"] == "anne@equipe.test"
    assert deletion.structure_slug == "alpha"


def test_confirmation_needs_typed_identifier(alpha, anne, bruno):
    _request_through_console(anne[1])

    response = bruno[1].post(
        "/console/structures/alpha/suppression/confirmation/",
        {"slug_confirmation": "beta"},
        follow=True,
    )

    assert "saisissez exactement l'identifiant « alpha »" in page_text(response)
    assert schema_exists("alpha")


def test_requester_sees_refusal_in_console(alpha, anne):
    _request_through_console(anne[1])

    response = anne[1].post(
        "/console/structures/alpha/suppression/confirmation/",
        {"slug_confirmation": "alpha"},
        follow=True,
    )

    assert "un autre membre de l'équipe nationale doit la confirmer" in page_text(response)
    assert schema_exists("alpha")


def test_request_without_export_shows_french_error(alpha, anne):
    anne[1].post("/console/structures/alpha/suspension/")

    response = anne[1].post("/console/structures/alpha/suppression/demande/", follow=True)

    assert response.status_code == 200
    assert "Exportez d'abord les données" in page_text(response)


def test_cancelled_request_cannot_be_confirmed(alpha, anne, bruno):
    _request_through_console(anne[1])

    bruno[1].post("/console/structures/alpha/suppression/annulation/")
    response = bruno[1].post(
        "/console/structures/alpha/suppression/confirmation/",
        {"slug_confirmation": "alpha"},
        follow=True,
    )

    assert "Aucune demande de suppression" in page_text(response)
    assert schema_exists("alpha")


def test_journal_lists_events_after_deletion(alpha, anne, bruno):
    _request_through_console(anne[1])
    bruno[1].post(
        "/console/structures/alpha/suppression/confirmation/", {"slug_confirmation": "alpha"}
    )

    response = anne[1].get("/console/journal/")

    text = page_text(response)
    assert "Suppression" in text
    assert "CCAS Alpha (alpha)" in text


def test_deletion_pages_hidden_from_agents(alpha):
    client = alpha.client("manager")

    response = client.post("/console/structures/alpha/suppression/demande/")

    assert response.status_code == 404
