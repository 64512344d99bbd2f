"""Writes that reach an archived file: every service locks the file's row and rejects the
write, so nothing lands after the archiving, and the pages answer with a French message."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from core.models import (
    AuditEvent,
    Beneficiary,
    Comment,
    Document,
    Followup,
    FollowupType,
    HelpRequest,
    Relative,
)
from core.services.accompaniments import delete_item, save_followup, save_help_request
from core.services.archiving import archive_beneficiary
from core.services.beneficiaries import (
    AlreadyArchived,
    create_beneficiary,
    delete_relative,
    save_relative,
)
from core.services.comments import add_comment
from core.services.documents import add_document, delete_document, update_document
from tests.helpers import page_text

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def stale(alpha):
    """A file with a relative, an interview, an aid request and a document, archived after a
    page read it: returns the objects as that page still holds them."""
    manager = alpha.agents["manager"]
    with tenant_context(alpha.structure):
        beneficiary = create_beneficiary(
            manager, {"first_names": "Jeanne", "usual_name": "Martin"}, [manager]
        )
        food = FollowupType.objects.get(default_code="aide_alimentaire")
        relative = save_relative(
            manager, beneficiary, Relative(), {"relationship": "minor_child", "first_name": "Léa"}
        )
        followup = save_followup(
            manager,
            Followup(beneficiary=beneficiary),
            {"date": date(2025, 1, 10), "medium": "phone_call"},
            [food],
        )
        help_request = save_help_request(
            manager,
            HelpRequest(beneficiary=beneficiary),
            {"opening_date": date(2025, 1, 11), "followup_type": food},
        )
        document = add_document(
            manager,
            beneficiary,
            SimpleUploadedFile("avis.pdf", PDF_BYTES),
            kind="proof",
            themes=[],
            is_confidential=False,
        )
        archive_beneficiary(manager, Beneficiary.objects.get(pk=beneficiary.pk))
        events = AuditEvent.objects.count()
    return {
        "beneficiary": beneficiary,
        "relative": relative,
        "followup": followup,
        "help_request": help_request,
        "document": document,
        "food": food,
        "events": events,
    }


def _rejected(alpha, stale, write):
    """Run ``write`` on the archived file; check it is rejected and wrote no audit row."""
    with tenant_context(alpha.structure):
        with pytest.raises(AlreadyArchived) as raised:
            write(alpha.agents["manager"])
        events = AuditEvent.objects.count()
    assert "archivé" in raised.value.messages[0]
    assert events == stale["events"]


def test_relative_added_to_archived_file(alpha, stale):
    _rejected(
        alpha,
        stale,
        lambda agent: save_relative(
            agent,
            stale["beneficiary"],
            Relative(),
            {"relationship": "minor_child", "first_name": "X"},
        ),
    )
    with tenant_context(alpha.structure):
        assert not Relative.objects.filter(beneficiary=stale["beneficiary"]).exists()


def test_relative_removed_from_archived_file(alpha, stale):
    _rejected(alpha, stale, lambda agent: delete_relative(agent, stale["relative"]))


def test_interview_added_to_archived_file(alpha, stale):
    _rejected(
        alpha,
        stale,
        lambda agent: save_followup(
            agent,
            Followup(beneficiary=stale["beneficiary"]),
            {"date": date(2025, 2, 1), "medium": "phone_call", "synthesis": "Après archivage"},
            [stale["food"]],
        ),
    )
    with tenant_context(alpha.structure):
        assert Followup.objects.filter(beneficiary=stale["beneficiary"]).count() == 1


def test_interview_edited_in_archived_file(alpha, stale):
    _rejected(
        alpha,
        stale,
        lambda agent: save_followup(
            agent, stale["followup"], {"synthesis": "Après archivage"}, [stale["food"]]
        ),
    )
    with tenant_context(alpha.structure):
        assert Followup.objects.get(pk=stale["followup"].pk).synthesis == ""


def test_aid_request_added_to_archived_file(alpha, stale):
    _rejected(
        alpha,
        stale,
        lambda agent: save_help_request(
            agent,
            HelpRequest(beneficiary=stale["beneficiary"]),
            {
                "opening_date": date(2025, 2, 1),
                "followup_type": stale["food"],
                "requested_amount": Decimal("80"),
            },
        ),
    )
    with tenant_context(alpha.structure):
        assert HelpRequest.objects.filter(beneficiary=stale["beneficiary"]).count() == 1


def test_item_deleted_from_archived_file(alpha, stale):
    _rejected(alpha, stale, lambda agent: delete_item(agent, stale["help_request"]))
    with tenant_context(alpha.structure):
        assert HelpRequest.objects.filter(pk=stale["help_request"].pk).exists()


@pytest.mark.parametrize("kind", ["followup", "help_request"])
def test_comment_on_archived_file(alpha, stale, kind):
    _rejected(alpha, stale, lambda agent: add_comment(agent, stale[kind], "Après archivage"))
    with tenant_context(alpha.structure):
        assert not Comment.objects.exists()


def test_document_added_to_archived_file(alpha, stale):
    _rejected(
        alpha,
        stale,
        lambda agent: add_document(
            agent,
            stale["beneficiary"],
            SimpleUploadedFile("nouveau.pdf", PDF_BYTES),
            kind="proof",
            themes=[],
            is_confidential=False,
        ),
    )
    with tenant_context(alpha.structure):
        assert not Document.objects.exists()


def test_document_changed_in_archived_file(alpha, stale):
    _rejected(
        alpha,
        stale,
        lambda agent: update_document(
            agent, stale["document"], kind="proof", themes=["housing"], is_confidential=True
        ),
    )


def test_document_deleted_from_archived_file(alpha, stale):
    _rejected(alpha, stale, lambda agent: delete_document(agent, stale["document"]))


def _page_holds_stale_file(monkeypatch, module, stale):
    """Make the page read the file as it was before the archiving committed."""
    beneficiary = stale["beneficiary"]

    def stale_file(agent, file_number, action):
        return beneficiary

    monkeypatch.setattr(module, "get_beneficiary_for", stale_file)


def test_relative_page_racing_archiving(alpha, stale, monkeypatch):
    from core.views import relatives

    _page_holds_stale_file(monkeypatch, relatives, stale)
    client = alpha.client("manager")
    number = stale["beneficiary"].file_number

    response = client.post(
        f"/beneficiaires/{number}/entourage/ajouter/",
        {"relationship": "minor_child", "first_name": "Léo"},
        follow=True,
    )

    assert response.status_code == 200
    assert "a été archivé" in page_text(response)


def test_document_page_racing_archiving(alpha, stale, monkeypatch):
    from core.views import documents

    _page_holds_stale_file(monkeypatch, documents, stale)
    client = alpha.client("manager")
    number = stale["beneficiary"].file_number

    response = client.post(
        f"/beneficiaires/{number}/documents/ajouter/",
        {"file": SimpleUploadedFile("nouveau.pdf", PDF_BYTES), "kind": "proof"},
        follow=True,
    )

    assert response.status_code == 200
    assert "a été archivé" in page_text(response)


def test_comment_page_racing_archiving(alpha, stale, monkeypatch):
    from core.views import accompaniments

    followup = stale["followup"]
    followup.beneficiary = stale["beneficiary"]
    monkeypatch.setattr(
        accompaniments, "_get_item", lambda request, kind, item_id, action: followup
    )
    client = alpha.client("manager")

    response = client.post(
        f"/accompagnements/entretiens/{followup.pk}/commentaires/",
        {"contenu": "Après archivage"},
        follow=True,
    )

    assert response.status_code == 200
    assert "a été archivé" in page_text(response)
