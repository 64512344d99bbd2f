"""Exporting a whole structure as one archive, and restoring it into a new structure."""

import csv
import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from core.models import (
    ApiToken,
    Beneficiary,
    Followup,
    FollowupType,
    HelpRequest,
    Notification,
    Relative,
    RetentionPolicy,
)
from core.services import committees
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary, record_consultation, save_relative
from core.services.comments import add_comment
from core.services.documents import add_document
from tenants.models import DirectoryEntry, NationalAuditEvent, Structure
from tenants.structure_archive import (
    DOCUMENTATION_NAME,
    MANIFEST_NAME,
    ArchiveError,
    export_structure,
    schema_tables,
    stored_files,
)
from tenants.structure_restore import _restore_files, restore_structure
from tests.helpers import page_text

TODAY = timezone.localdate()
PDF_BYTES = b"%PDF-1.4\n% justificatif\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
MINUTES_BYTES = b"%PDF-1.4\n% proces-verbal\n%%EOF\n"
# Values that CSV must carry exactly: accents, quotes, commas, line breaks and an empty text.
TRICKY_TEXT = 'Élodie « dite "Lolo" », née à Autun,\nsuivie depuis 2020 ; ligne 2\r\nfin'


@pytest.fixture
def populated(alpha, django_capture_on_commit_callbacks):
    """Fill alpha with every kind of row: files, relatives, interviews, aid requests, a
    commission with minutes, comments, documents, audit rows, notifications, consultations,
    an API token and retention settings."""
    manager, worker = alpha.agents["manager"], alpha.agents["social_worker"]
    with tenant_context(alpha.structure), django_capture_on_commit_callbacks(execute=True):
        person = create_beneficiary(
            manager,
            {
                "first_names": "Élodie",
                "usual_name": "Lefèvre",
                "birth_date": TODAY - timedelta(days=40 * 365),
                "city": "Autun",
                "additional_information": TRICKY_TEXT,
                "income_amount": Decimal("1234.56"),
            },
            [manager, worker],
        )
        other = create_beneficiary(manager, {"first_names": "Paul", "usual_name": "Martin"})
        save_relative(
            manager,
            person,
            Relative(),
            {"relationship": "child", "first_name": "Léa", "last_name": "Lefèvre"},
        )
        save_relative(
            manager, person, Relative(), {"relationship": "other", "linked_beneficiary": other}
        )

        food = FollowupType.objects.get(default_code="aide_alimentaire")
        document = add_document(
            manager,
            person,
            SimpleUploadedFile("avis.pdf", PDF_BYTES),
            kind="proof",
            themes=["housing"],
            is_confidential=False,
        )
        followup = save_followup(
            manager,
            Followup(beneficiary=person),
            {"date": TODAY - timedelta(days=3), "medium": "phone_call", "synthesis": TRICKY_TEXT},
            [food],
            documents=[document],
        )
        help_request = save_help_request(
            manager,
            HelpRequest(beneficiary=person),
            {
                "opening_date": TODAY - timedelta(days=2),
                "followup_type": food,
                "is_complete": True,
                "requested_amount": Decimal("150.00"),
            },
        )
        help_request.documents.add(document)
        person.followup_types.add(food)
        committee = committees.create_committee(manager, "standing", TODAY + timedelta(days=5))
        committees.add_requests(manager, committee, [help_request.pk])
        committee.minutes.save("pv.pdf", ContentFile(MINUTES_BYTES))
        add_comment(manager, followup, "Commentaire sur l'entretien")
        add_comment(manager, help_request, "Commentaire sur la demande")
        Notification.objects.create(
            recipient=manager, kind="due_date", beneficiary=person, message="Échéance", key="k1"
        )
        record_consultation(worker, person)
        ApiToken.objects.create(
            name="Logiciel comptable",
            role="instructor",
            key_hash="a" * 64,
            prefix="ss_abc",
            created_by=manager,
        )
        RetentionPolicy(pk=1, file_months=30).save()
    connection.set_schema_to_public()
    return person


def _rows(schema: str, table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1')  # noqa: S608
        return cursor.fetchall()


def _files(structure: Structure) -> dict[str, bytes]:
    contents = {}
    with tenant_context(structure):
        for path in stored_files(default_storage):
            with default_storage.open(path) as stored:
                contents[path] = stored.read()
    return contents


def _export(structure: Structure, tmp_path, name: str = "archive.zip"):
    path = tmp_path / name
    with path.open("wb") as destination:
        export_structure(structure, destination)
    return path


def _rewrite(source, destination, change) -> None:
    """Copy the archive ``source`` to ``destination``, passing each entry through ``change``."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(destination, "w") as copy:
        for name in original.namelist():
            copy.writestr(name, change(name, original.read(name)))


def _with_manifest(source, destination, **changes) -> None:
    def change(name: str, data: bytes) -> bytes:
        if name != MANIFEST_NAME:
            return data
        manifest = json.loads(data)
        manifest.update(changes)
        return json.dumps(manifest).encode()

    _rewrite(source, destination, change)


# Round trip


def test_round_trip_restores_identical_rows(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)

    restored = restore_structure(archive, "alpha-copie").structure

    with connection.cursor() as cursor:
        tables = schema_tables(cursor, "alpha")
    assert len(tables) >= 19
    for table in tables:
        original = _rows("alpha", table)
        assert original, f"the fixture leaves {table} empty"
        assert _rows(restored.schema_name, table) == original, table


def test_round_trip_restores_identical_files(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)

    restored = restore_structure(archive, "alpha-copie").structure

    original = _files(alpha.structure)
    assert len(original) == 2
    assert _files(restored) == original


def test_restored_structure_is_suspended_with_its_directory(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)

    restored = restore_structure(archive, "alpha-copie", name="CCAS Alpha (copie)").structure

    assert restored.status == Structure.Status.SUSPENDED
    assert restored.name == "CCAS Alpha (copie)"
    assert restored.domains.get().domain == "alpha-copie.localhost"
    emails = set(DirectoryEntry.objects.filter(structure=restored).values_list("email", flat=True))
    assert emails == set(alpha.structure.directory.values_list("email", flat=True))


def test_restored_sequences_continue_after_loaded_ids(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)
    restored = restore_structure(archive, "alpha-copie").structure

    with tenant_context(restored):
        largest = Beneficiary.objects.order_by("-pk").first().pk
        created = Beneficiary.objects.create(first_names="Nouvelle", usual_name="Personne")

    assert created.pk > largest


def test_export_and_restore_are_audited(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)
    restore_structure(archive, "alpha-copie")

    actions = list(
        NationalAuditEvent.objects.order_by("id").values_list("action", "structure_slug")
    )
    assert actions == [("export", "alpha"), ("restore", "alpha-copie")]


# Archive contents


def test_manifest_describes_tables_files_and_migrations(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)

    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read(MANIFEST_NAME))
        names = set(opened.namelist())

    assert manifest["format_version"] == 1
    assert manifest["structure"]["slug"] == "alpha"
    assert "core.0001_initial" in manifest["migrations"]
    beneficiaries = next(t for t in manifest["tables"] if t["name"] == "core_beneficiary")
    assert beneficiaries["rows"] == 2
    assert beneficiaries["primary_key"] == ["id"]
    assert {"name": "id", "type": "bigint", "nullable": False} in beneficiaries["columns"]
    assert beneficiaries["file"] in names
    assert len(manifest["files"]) == 2
    assert "django_session" not in {table["name"] for table in manifest["tables"]}


def test_csv_has_header_and_exact_texts(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)

    with zipfile.ZipFile(archive) as opened:
        text = opened.read("tables/core_beneficiary.csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))

    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), key=int)
    assert rows[0]["additional_information"] == TRICKY_TEXT
    assert rows[0]["first_names"] == "Élodie"


def test_documentation_describes_columns_in_french(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)

    with zipfile.ZipFile(archive) as opened:
        documentation = opened.read(DOCUMENTATION_NAME).decode()

    assert "### `core_beneficiary` : bénéficiaire" in documentation
    assert "| `usual_name` |" in documentation
    assert "`standing` : Commission permanente" in documentation
    assert "liaison entre" in documentation


# Refusals


def test_restore_refuses_other_format_version(alpha, tmp_path):
    archive = _export(alpha.structure, tmp_path)
    changed = tmp_path / "changed.zip"
    _with_manifest(archive, changed, format_version=2)

    with pytest.raises(ArchiveError, match="au format 2"):
        restore_structure(changed, "alpha-copie")
    assert not Structure.objects.filter(slug="alpha-copie").exists()


def test_restore_refuses_other_migrations(alpha, tmp_path):
    archive = _export(alpha.structure, tmp_path)
    with zipfile.ZipFile(archive) as opened:
        migrations = json.loads(opened.read(MANIFEST_NAME))["migrations"]
    changed = tmp_path / "changed.zip"
    _with_manifest(archive, changed, migrations=[*migrations, "core.9999_future"])

    with pytest.raises(ArchiveError, match="core.9999_future"):
        restore_structure(changed, "alpha-copie")
    assert not Structure.objects.filter(slug="alpha-copie").exists()
    assert not schema_exists("alpha_copie")


def test_restore_refuses_changed_csv(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)
    changed = tmp_path / "changed.zip"
    _rewrite(
        archive,
        changed,
        lambda name, data: (
            data.replace("Lefèvre".encode(), b"Dupont")
            if name == "tables/core_beneficiary.csv"
            else data
        ),
    )

    with pytest.raises(ArchiveError, match="somme de contrôle"):
        restore_structure(changed, "alpha-copie")
    assert not Structure.objects.filter(slug="alpha-copie").exists()


def test_restore_refuses_changed_document(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)
    changed = tmp_path / "changed.zip"
    _rewrite(
        archive,
        changed,
        lambda name, data: b"autre contenu" if name.startswith("fichiers/documents/") else data,
    )

    with pytest.raises(ArchiveError, match="fichiers/documents/"):
        restore_structure(changed, "alpha-copie")


def test_restore_refuses_structure_that_is_not_empty(alpha, populated, tmp_path):
    archive = _export(alpha.structure, tmp_path)

    with pytest.raises(ArchiveError, match="« beta » n'est pas vide"):
        restore_structure(archive, "beta")
    beta = Structure.objects.get(slug="beta")
    assert beta.status == Structure.Status.ACTIVE


def test_restore_refuses_invalid_slug(alpha, tmp_path):
    archive = _export(alpha.structure, tmp_path)

    with pytest.raises(ArchiveError, match="réservé"):
        restore_structure(archive, "admin")


def test_restore_refuses_file_that_is_not_zip(db, tmp_path):
    path = tmp_path / "notes.zip"
    path.write_text("pas une archive")

    with pytest.raises(ArchiveError, match="pas une archive ZIP"):
        restore_structure(path, "alpha-copie")


def test_restore_refuses_unsafe_file_path(alpha, tmp_path):
    archive = _export(alpha.structure, tmp_path)
    changed = tmp_path / "changed.zip"
    _with_manifest(
        archive, changed, files=[{"path": "../../etc/passwd", "size": 1, "sha256": "0" * 64}]
    )

    with pytest.raises(ArchiveError, match="incomplet"):
        restore_structure(changed, "alpha-copie")


def test_failed_restore_leaves_no_file(alpha, populated, tmp_path, monkeypatch):
    archive = _export(alpha.structure, tmp_path)

    def fail_after_files(archive, manifest, saved_files):
        saved_files.extend(copy_files(archive, manifest, saved_files) or [])
        raise RuntimeError("storage full")

    copy_files = _restore_files
    monkeypatch.setattr("tenants.structure_restore._restore_files", fail_after_files)

    with pytest.raises(RuntimeError):
        restore_structure(archive, "alpha-copie")

    assert not Structure.objects.filter(slug="alpha-copie").exists()
    assert _files(Structure(schema_name="alpha_copie", slug="alpha-copie")) == {}


# Commands and console


def test_export_command_writes_archive(alpha, tmp_path):
    path = tmp_path / "alpha.zip"
    output = io.StringIO()

    call_command("export_structure", "alpha", str(path), stdout=output)

    assert zipfile.is_zipfile(path)
    assert "Archive" in output.getvalue()
    event = NationalAuditEvent.objects.get()
    assert event.actor_label == "commande sur le serveur"


def test_export_command_refuses_existing_file(alpha, tmp_path):
    path = tmp_path / "alpha.zip"
    path.write_bytes(b"ancienne archive")

    with pytest.raises(CommandError, match="existe déjà"):
        call_command("export_structure", "alpha", str(path))
    assert path.read_bytes() == b"ancienne archive"


def test_export_command_refuses_unknown_structure(db, tmp_path):
    with pytest.raises(CommandError, match="Aucune structure"):
        call_command("export_structure", "inconnue", str(tmp_path / "x.zip"))


def test_restore_command_restores(alpha, tmp_path):
    archive = _export(alpha.structure, tmp_path)
    output = io.StringIO()

    call_command("restore_structure", str(archive), "--slug", "alpha-copie", stdout=output)

    assert "restaurée" in output.getvalue()
    assert Structure.objects.filter(slug="alpha-copie").exists()


def test_restore_command_reports_bad_archive_in_french(db, tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"rien")

    with pytest.raises(CommandError, match="pas une archive ZIP"):
        call_command("restore_structure", str(path), "--slug", "alpha-copie")


def test_console_export_sends_archive(alpha, national):
    response = national.post("/console/structures/alpha/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "suivi-social-alpha-" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert MANIFEST_NAME in zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert NationalAuditEvent.objects.get().actor_label == "national.fixture@equipe.test"


def test_console_export_needs_post(alpha, national):
    response = national.get("/console/structures/alpha/export/")

    assert response.status_code == 405


def test_console_export_hidden_from_agents(alpha):
    response = alpha.client("manager").post("/console/structures/alpha/export/")

    assert response.status_code == 404


def test_console_detail_offers_export(alpha, national):
    response = national.get("/console/structures/alpha/")

    assert "Exporter les données" in page_text(response)
