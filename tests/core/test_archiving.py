"""Archiving a file: nothing personal left anywhere in the structure's schema or files, the
statistics unchanged, the confirmation screen and who may use it."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from core import pdf
from core.enums import BeneficiaryStatus, HelpRequestStatus
from core.models import (
    AuditEvent,
    Beneficiary,
    Comment,
    Document,
    Followup,
    FollowupType,
    HelpRequest,
    Notification,
    Relative,
)
from core.services import committees
from core.services.accompaniments import save_followup, save_help_request
from core.services.archiving import (
    ERASED,
    KEPT_BENEFICIARY_FIELDS,
    AlreadyArchived,
    archive_beneficiary,
    erased_item_fields,
)
from core.services.beneficiaries import (
    ConcurrentUpdate,
    create_beneficiary,
    save_relative,
    update_beneficiary,
)
from core.services.comments import add_comment
from core.services.documents import add_document
from core.statistics import Filters, compute, structure_aggregates
from tests.helpers import page_text

TODAY = timezone.localdate()
BIRTH_DATE = date(1961, 3, 17)
NIR = "161037101412345"
DOCUMENT_TEXT = "Qz90X contenu du justificatif"
PDF_BYTES = (
    b"%PDF-1.4\n% " + DOCUMENT_TEXT.encode() + b"\n1 0 obj << /Type /Catalog >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def _token(number: int, name: str, max_length: int) -> str:
    """Return a value found nowhere else: "Qz", a number, "X" (never in a file number, which
    has no 0 or 1, nor in a hexadecimal storage key), then the field's name when it fits."""
    token = f"Qz{number:02d}X"
    longer = f"{token}-{name}"
    return longer if len(longer) <= max_length else token


def _distinctive_file_values() -> dict[str, str]:
    """Return a distinctive value for every free-text field of a file that archiving erases."""
    values = {}
    for number, field in enumerate(Beneficiary._meta.concrete_fields):
        is_text = field.get_internal_type() in ("CharField", "TextField")
        if not is_text or field.choices or field.name in KEPT_BENEFICIARY_FIELDS:
            continue
        values[field.name] = _token(number, field.name, field.max_length or 200)
    values["email"] = "qz98x.personne@exemple.test"
    values["social_security_number"] = NIR
    values["phone_1"] = "06 12 34 56 78"
    values["phone_2"] = "+33 7 98 76 54 32"
    return values


@pytest.fixture
def full_file(alpha, django_capture_on_commit_callbacks):
    """A file of alpha with a distinctive value in every personal field and item, a history of
    changes, and links to and from other files. Returns the file and the values to look for."""
    manager, social_worker = alpha.agents["manager"], alpha.agents["social_worker"]
    values = _distinctive_file_values()
    with tenant_context(alpha.structure), django_capture_on_commit_callbacks(execute=True):
        beneficiary = create_beneficiary(
            manager,
            {
                **values,
                "usual_name": "Qz60X-Ancien-Nom",
                "birth_date": BIRTH_DATE,
                "gender": "female",
                "family_situation": "single",
                "city": "Autun",
                "nationality": "FR",
                "income_amount": Decimal("1234.56"),
                "minor_children": 2,
            },
            [manager, social_worker],
        )
        # A change, so the trail contains [old, new] pairs of personal values.
        update_beneficiary(manager, beneficiary, {"usual_name": values["usual_name"]})

        other = create_beneficiary(manager, {"first_names": "Autre", "usual_name": "Dossier"})
        relative = save_relative(
            manager,
            beneficiary,
            Relative(),
            {
                "relationship": "child",
                "first_name": "Qz61X-Prenom-Enfant",
                "last_name": "Qz62X-Nom-Enfant",
                "birth_date": date(2010, 5, 4),
                "city": "Qz63X-Ville-Enfant",
                "email": "qz64x.enfant@exemple.test",
                "phone": "0699887766",
                "additional_information": "Qz65X-infos-enfant",
            },
        )
        save_relative(manager, beneficiary, relative, {"first_name": "Qz66X-Prenom-Corrige"})
        save_relative(
            manager, beneficiary, Relative(), {"relationship": "other", "linked_beneficiary": other}
        )
        # The other file's household names this one.
        save_relative(
            manager,
            other,
            Relative(),
            {"relationship": "spouse", "linked_beneficiary": beneficiary},
        )

        food = FollowupType.objects.get(default_code="aide_alimentaire")
        document = add_document(
            manager,
            beneficiary,
            SimpleUploadedFile("Qz67X-avis-imposition.pdf", PDF_BYTES),
            kind="proof",
            themes=["housing"],
            is_confidential=False,
        )
        followup = save_followup(
            manager,
            Followup(beneficiary=beneficiary),
            {
                "date": TODAY - timedelta(days=20),
                "medium": "phone_call",
                "synthesis": "Qz68X compte rendu de l'entretien",
                "private_synthesis": "Qz69X compte rendu privé",
                "third_person_name": "Qz70X-Tiers",
                "place": "Qz71X-Lieu",
                "prescribing_organisation": "Qz72X-Prescripteur",
            },
            [food],
            documents=[document],
        )
        save_followup(
            manager, followup, {"synthesis": "Qz73X compte rendu corrigé"}, [food], documents=None
        )
        help_request = save_help_request(
            manager,
            HelpRequest(beneficiary=beneficiary),
            {
                "opening_date": TODAY - timedelta(days=10),
                "followup_type": food,
                "synthesis": "Qz74X synthèse de la demande",
                "private_synthesis": "Qz75X synthèse privée de la demande",
                "prescribing_organisation": "Qz76X-Organisme",
                "instructor_organisation": "Qz77X-Instructeur",
                "requested_amount": Decimal("150.00"),
            },
        )
        refused = save_help_request(
            manager,
            HelpRequest(beneficiary=beneficiary),
            {
                "opening_date": TODAY - timedelta(days=9),
                "followup_type": food,
                "status": HelpRequestStatus.REFUSED,
                "refusal_reason": "Qz78X motif du refus",
                "requested_amount": Decimal("90.00"),
            },
        )
        committee = _closed_committee_deciding(manager, beneficiary, food, other)
        add_comment(manager, followup, "Qz79X commentaire sur l'entretien")
        add_comment(manager, help_request, "Qz80X commentaire sur la demande")
        add_comment(social_worker, refused, "Qz81X commentaire sur le refus")

    searched = {
        *values.values(),
        "Qz60X-Ancien-Nom",
        "Qz61X-Prenom-Enfant",
        "Qz62X-Nom-Enfant",
        "Qz63X-Ville-Enfant",
        "qz64x.enfant@exemple.test",
        "0699887766",
        "Qz65X-infos-enfant",
        "Qz66X-Prenom-Corrige",
        "Qz67X-avis-imposition",
        "Qz68X",
        "Qz69X",
        "Qz70X-Tiers",
        "Qz71X-Lieu",
        "Qz72X-Prescripteur",
        "Qz73X",
        "Qz74X",
        "Qz75X",
        "Qz76X-Organisme",
        "Qz77X-Instructeur",
        "Qz78X",
        "Qz79X",
        "Qz80X",
        "Qz81X",
        "Qz82X",
        "Qz90X",
        BIRTH_DATE.isoformat(),
        # The phone numbers as search_text stores them.
        "0612345678",
        "0798765432",
    }
    beneficiary.committee = committee
    return beneficiary, sorted(searched)


def _closed_committee_deciding(manager, beneficiary, food, other):
    """Close a commission session that refused an aid request of ``beneficiary`` and granted
    one of ``other``; return the session."""
    session_day = TODAY - timedelta(days=5)
    refused = save_help_request(
        manager,
        HelpRequest(beneficiary=beneficiary),
        {
            "opening_date": TODAY - timedelta(days=8),
            "followup_type": food,
            "is_complete": True,
            "requested_amount": Decimal("300.00"),
        },
    )
    granted = save_help_request(
        manager,
        HelpRequest(beneficiary=other),
        {
            "opening_date": TODAY - timedelta(days=8),
            "followup_type": food,
            "is_complete": True,
            "requested_amount": Decimal("200.00"),
        },
    )
    committee = committees.create_committee(manager, "standing", session_day)
    committees.add_requests(manager, committee, [refused.pk, granted.pk])
    errors = committees.record_decisions(
        manager,
        committee,
        [
            committees.Decision(refused, "refused", None, "Qz82X motif de la commission"),
            committees.Decision(granted, "accepted", Decimal("120.00"), ""),
        ],
    )
    assert errors == {}
    return committees.close_committee(manager, committee)


def _text_columns(schema: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE' "
            "AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')",
            [schema],
        )
        return cursor.fetchall()


def _found_in_schema(schema: str, values: list[str]) -> list[str]:
    """Return "table.column: value" for each value found in a text, JSON or array column."""
    patterns = [f"%{value}%" for value in values]
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns(schema):
            cursor.execute(
                f'SELECT "{column}"::text FROM "{schema}"."{table}" '  # noqa: S608
                f'WHERE "{column}"::text ILIKE ANY(%s)',
                [patterns],
            )
            for (text,) in cursor.fetchall():
                found += [
                    f"{table}.{column}: {value}"
                    for value in values
                    if value.lower() in text.lower()
                ]
    return found


def _found_in_files(root: Path, values: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes().lower()
        found += [f"{path}: {value}" for value in values if value.lower().encode() in content]
    return found


def test_values_are_present_before_archiving(alpha, full_file):
    beneficiary, searched = full_file
    schema = alpha.structure.schema_name

    with tenant_context(alpha.structure):
        found = _found_in_schema(schema, searched)
    found_in_files = _found_in_files(Path(settings.MEDIA_ROOT) / schema, [DOCUMENT_TEXT])

    # The search itself works: every value sits somewhere before archiving, the document's
    # content in its stored file only.
    assert {line.rsplit(": ", 1)[1] for line in found} == set(searched) - {"Qz90X"}
    assert found_in_files != []


def test_archived_values_found_nowhere(alpha, full_file, django_capture_on_commit_callbacks):
    beneficiary, searched = full_file
    schema = alpha.structure.schema_name

    with tenant_context(alpha.structure), django_capture_on_commit_callbacks(execute=True):
        archive_beneficiary(alpha.agents["manager"], beneficiary)
    with tenant_context(alpha.structure):
        found = _found_in_schema(schema, searched)
    found_in_files = _found_in_files(Path(settings.MEDIA_ROOT) / schema, searched)

    assert found == []
    assert found_in_files == []


def test_archiving_erases_export_searches(alpha, full_file):
    # An export of the beneficiary list records its search in a structure-wide audit row,
    # attached to no file: the person's name, phone or file number typed there must go too.
    beneficiary, _ = full_file
    client = alpha.client("manager")
    searches = ["qz05x-usual_name", "Qz07X", "06 12 34 56", beneficiary.file_number]
    for search in [*searches, "Durand"]:
        client.post(f"/exports/beneficiaires/?recherche={search}", {"format": "csv"})

    with tenant_context(alpha.structure):
        archive_beneficiary(alpha.agents["manager"], beneficiary)
        kept = [
            event.changes["filters"].get("recherche")
            for event in AuditEvent.objects.filter(action="export_beneficiaries")
        ]

    assert sorted(kept, key=str) == sorted(["Durand", *[ERASED] * len(searches)], key=str)


def test_archiving_keeps_statistics_fields(alpha, full_file):
    beneficiary, _ = full_file

    with tenant_context(alpha.structure):
        archive_beneficiary(alpha.agents["manager"], beneficiary)
        archived = Beneficiary.objects.get(pk=beneficiary.pk)
        followup = Followup.objects.get(beneficiary=archived)
        requests = list(HelpRequest.objects.filter(beneficiary=archived).order_by("opening_date"))
        types = list(archived.followup_types.values_list("default_code", flat=True))

    assert archived.status == BeneficiaryStatus.ARCHIVED
    assert archived.birth_date is None
    assert archived.birth_year == 1961
    assert archived.gender == "female"
    assert archived.family_situation == "single"
    assert archived.city == "Autun"
    assert archived.city_key == "autun"
    assert archived.nationality == ""
    assert archived.income_amount is None
    assert archived.minor_children is None
    assert archived.archived_by_id == alpha.agents["manager"].pk
    assert archived.archived_at is not None
    assert types == ["aide_alimentaire"]
    assert followup.medium == "phone_call"
    assert followup.date == TODAY - timedelta(days=20)
    assert [item.requested_amount for item in requests] == [
        Decimal("150.00"),
        Decimal("90.00"),
        Decimal("300.00"),
    ]
    assert [item.status for item in requests][1] == HelpRequestStatus.REFUSED
    assert all(item.anonymized_at is not None for item in requests)


def test_archiving_erases_every_item_text(alpha, full_file):
    beneficiary, _ = full_file

    with tenant_context(alpha.structure):
        archive_beneficiary(alpha.agents["manager"], beneficiary)
        texts = [
            getattr(item, name)
            for model in (Followup, HelpRequest)
            for item in model.objects.filter(beneficiary=beneficiary)
            for name in erased_item_fields(model)
        ]
        relatives = Relative.objects.filter(beneficiary=beneficiary).count()
        linked = Relative.objects.filter(linked_beneficiary=beneficiary).count()
        documents = Document.objects.filter(beneficiary=beneficiary).count()
        comments = Comment.objects.filter(followup__beneficiary=beneficiary).count()
        comments += Comment.objects.filter(help_request__beneficiary=beneficiary).count()
        notifications = Notification.objects.filter(beneficiary=beneficiary).count()

    assert set(texts) == {""}
    assert relatives == 0
    assert linked == 0
    assert documents == 0
    assert comments == 0
    assert notifications == 0


def test_archiving_is_recorded_without_personal_values(alpha, full_file):
    beneficiary, _ = full_file

    with tenant_context(alpha.structure):
        archive_beneficiary(alpha.agents["social_worker"], beneficiary)
        event = AuditEvent.objects.get(action="archive_beneficiary")

    assert event.beneficiary_id == beneficiary.pk
    assert event.actor_id == alpha.agents["social_worker"].pk
    assert event.changes == {"status": ["active", "archived"]}


def test_archiving_twice_is_refused(alpha, full_file):
    beneficiary, _ = full_file

    with tenant_context(alpha.structure):
        archive_beneficiary(alpha.agents["manager"], beneficiary)
        with pytest.raises(AlreadyArchived):
            archive_beneficiary(alpha.agents["manager"], beneficiary)


def test_edit_racing_archiving_is_rejected(alpha, full_file):
    # The page or API call checked the file before the archiving committed: its values must not
    # come back into the archived file.
    beneficiary, _ = full_file

    with tenant_context(alpha.structure):
        archive_beneficiary(alpha.agents["manager"], beneficiary)
        with pytest.raises(ConcurrentUpdate):
            update_beneficiary(alpha.agents["social_worker"], beneficiary, {"usual_name": "Qz55X"})
        archived = Beneficiary.objects.get(pk=beneficiary.pk)

    assert archived.usual_name == ""
    assert archived.status == BeneficiaryStatus.ARCHIVED


def _figures(start: date, end: date) -> dict[str, object]:
    """Return every figure of the statistics page except the counts of people, and the
    national aggregates except the counts of files."""
    statistics = compute(Filters(start, end))
    tables = {
        table.key: (table.rows, table.total)
        for section in statistics.sections
        if section.key != "people"
        for table in section.tables
    }
    aggregates = structure_aggregates(start, end)
    for month in aggregates["months"].values():
        month.pop("active_files")
        month.pop("new_files")
    return {
        "tables": tables,
        "interviews": statistics.interviews,
        "help_requests": statistics.help_requests,
        "aggregates": aggregates,
    }


def test_statistics_other_than_people_unchanged(alpha, full_file):
    beneficiary, _ = full_file
    start, end = TODAY - timedelta(days=60), TODAY

    with tenant_context(alpha.structure):
        before = _figures(start, end)
        people_before = compute(Filters(start, end)).people
        archive_beneficiary(alpha.agents["manager"], beneficiary)
        after = _figures(start, end)
        people_after = compute(Filters(start, end)).people

    assert before["interviews"] == 1
    assert before["help_requests"] == 4
    assert after == before
    # People counts leave archived files out, as the statistics page explains.
    assert people_after == people_before - 1


# The confirmation screen


def test_confirmation_screen_says_it_cannot_be_undone(alpha, full_file):
    beneficiary, _ = full_file

    response = alpha.client("manager").get(f"/beneficiaires/{beneficiary.file_number}/archiver/")

    assert response.status_code == 200
    assert "ne peut pas être annulée" in page_text(response)


def test_archiving_without_confirmation_is_refused(alpha, full_file):
    beneficiary, _ = full_file

    response = alpha.client("manager").post(f"/beneficiaires/{beneficiary.file_number}/archiver/")

    assert response.status_code == 200
    assert "Cochez la case pour confirmer l'archivage" in page_text(response)
    with tenant_context(alpha.structure):
        assert Beneficiary.objects.get(pk=beneficiary.pk).status == BeneficiaryStatus.ACTIVE


def test_confirmed_archiving_anonymises_file(alpha, full_file):
    beneficiary, _ = full_file
    client = alpha.client("social_worker")

    response = client.post(
        f"/beneficiaires/{beneficiary.file_number}/archiver/", {"confirmation": "on"}
    )
    page = client.get(f"/beneficiaires/{beneficiary.file_number}/")

    assert response.status_code == 302
    assert "Dossier archivé" in page_text(page)
    assert "Qz" not in page_text(page)
    with tenant_context(alpha.structure):
        archived = Beneficiary.objects.get(pk=beneficiary.pk)
    assert archived.status == BeneficiaryStatus.ARCHIVED
    assert archived.first_names == ""


def test_archiving_an_archived_file_redirects(alpha, full_file):
    beneficiary, _ = full_file
    with tenant_context(alpha.structure):
        archive_beneficiary(alpha.agents["manager"], beneficiary)

    response = alpha.client("manager").post(
        f"/beneficiaires/{beneficiary.file_number}/archiver/", {"confirmation": "on"}
    )

    assert response.status_code == 302


def test_file_page_offers_archiving_to_allowed_roles(alpha, full_file):
    beneficiary, _ = full_file
    url = f"/beneficiaires/{beneficiary.file_number}/"

    manager_page = page_text(alpha.client("manager").get(url))
    instructor_page = page_text(alpha.client("instructor").get(url))

    assert "Archiver le dossier" in manager_page
    assert "Archiver le dossier" not in instructor_page


@pytest.mark.parametrize("role", ["instructor", "reception_agent", "referent"])
def test_role_without_archiving_gets_404(alpha, full_file, role):
    beneficiary, _ = full_file

    response = alpha.client(role).post(
        f"/beneficiaires/{beneficiary.file_number}/archiver/", {"confirmation": "on"}
    )

    assert response.status_code == 404
    with tenant_context(alpha.structure):
        assert Beneficiary.objects.get(pk=beneficiary.pk).status == BeneficiaryStatus.ACTIVE


def test_agent_of_other_structure_gets_404(alpha, beta, full_file):
    beneficiary, _ = full_file

    response = beta.client("manager").post(
        f"/beneficiaires/{beneficiary.file_number}/archiver/", {"confirmation": "on"}
    )

    assert response.status_code == 404


@pytest.mark.parametrize("page", ["archiver", "conservation", "exporter"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_file_pages_reject_other_methods(alpha, full_file, page, method):
    beneficiary, _ = full_file
    client = alpha.client("manager")

    response = getattr(client, method)(f"/beneficiaires/{beneficiary.file_number}/{page}/")

    assert response.status_code == 405
    assert "Action impossible sur cette page" in page_text(response)
    with tenant_context(alpha.structure):
        assert Beneficiary.objects.get(pk=beneficiary.pk).status == BeneficiaryStatus.ACTIVE


def test_archiving_rewrites_committee_minutes(
    alpha, full_file, monkeypatch, django_capture_on_commit_callbacks
):
    beneficiary, _ = full_file
    committee = beneficiary.committee
    rendered = []
    render_minutes = pdf.minutes_pdf

    def spy(structure, session, rows, closed_on, closed_by):
        rendered.append(rows)
        return render_minutes(structure, session, rows, closed_on, closed_by)

    monkeypatch.setattr(pdf, "minutes_pdf", spy)
    with tenant_context(alpha.structure):
        old_minutes = Path(committee.minutes.path)
        with django_capture_on_commit_callbacks(execute=True):
            archive_beneficiary(alpha.agents["manager"], beneficiary)
        committee.refresh_from_db()
        new_minutes = Path(committee.minutes.path)
        food = FollowupType.objects.get(default_code="aide_alimentaire").name

    (rows,) = rendered
    by_file = {row.file_number: row for row in rows}
    archived_row = by_file[beneficiary.file_number]
    other_row = next(row for row in rows if row.file_number != beneficiary.file_number)
    assert archived_row.person == "Personne archivée"
    assert archived_row.status == HelpRequestStatus.REFUSED
    assert archived_row.requested_amount == Decimal("300.00")
    assert archived_row.followup_type == food
    assert archived_row.refusal_reason == ""
    assert other_row.person == "Autre DOSSIER"
    assert other_row.allocated_amount == Decimal("120.00")
    assert not old_minutes.exists()
    assert new_minutes.read_bytes().startswith(b"%PDF")


def test_archived_person_has_no_decision_letter(alpha, full_file):
    beneficiary, _ = full_file
    committee = beneficiary.committee
    with tenant_context(alpha.structure):
        refused = HelpRequest.objects.get(beneficiary=beneficiary, committee=committee)
        archive_beneficiary(alpha.agents["manager"], beneficiary)

    response = alpha.client("manager").get(f"/commissions/{committee.pk}/courriers/{refused.pk}/")

    assert response.status_code == 404
