"""Documents on a beneficiary file: upload checks, storage per structure, confidentiality,
downloads through the application, changes and deletion."""

import html
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import SuspiciousOperation
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from core.enums import BeneficiaryStatus, Role
from core.models import Agent, AuditEvent, Beneficiary, Document
from core.services.beneficiaries import create_beneficiary
from core.services.documents import (
    PDF,
    add_document,
    clean_file_name,
    documents_for,
)
from core.signin.views import BACKEND_PATH
from core.views.documents import size_label
from tests.helpers import page_text

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
OLE2_BYTES = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG_BYTES = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT_TYPE = "application/vnd.oasis.opendocument.text"


def ooxml_bytes(main_part_type: str, main_part: str, extra: tuple[str, ...] = ()) -> bytes:
    """A minimal OOXML package: what identifies it is the main part in [Content_Types].xml."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/{main_part}" ContentType="{main_part_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr(main_part, "<document/>")
        for name in extra:
            archive.writestr(name, b"\x00")
    return buffer.getvalue()


def odf_bytes(mimetype: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


DOCX_BYTES = ooxml_bytes(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "word/document.xml",
)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Store files in a temporary folder, never in the repository."""
    settings.MEDIA_ROOT = str(tmp_path)
    # django-tenants 4.0.1 caches MEDIA_ROOT joined with this setting and clears that cache
    # only when this setting changes, so it is set again to make the new MEDIA_ROOT apply.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return tmp_path


def make_file(site, referent_role: str = "social_worker") -> Beneficiary:
    with tenant_context(site.structure):
        return create_beneficiary(
            site.agents["manager"],
            {"first_names": "Jeanne", "usual_name": "Martin"},
            [site.agents[referent_role]],
        )


def upload(client, beneficiary, name="justificatif.pdf", content=PDF_BYTES, **fields):
    data = {
        "kind": "proof",
        "themes": ["housing"],
        "file": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
    }
    data.update(fields)
    return client.post(f"/beneficiaires/{beneficiary.file_number}/documents/ajouter/", data)


def store(site, beneficiary, role="social_worker", name="justificatif.pdf", **options):
    """Add a document through the service, as ``role``."""
    values = {"kind": "proof", "themes": ["housing"], "is_confidential": False} | options
    with tenant_context(site.structure):
        return add_document(
            site.agents[role], beneficiary, SimpleUploadedFile(name, PDF_BYTES), **values
        )


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def documents_tab(client, beneficiary) -> str:
    """Return the visible text of the file page's "Documents" tab."""
    page = client.get(f"/beneficiaires/{beneficiary.file_number}/").content.decode()
    start = page.index('id="panneau-documents"')
    end = page.find('id="panneau-', start + 1)
    panel = page[start:] if end == -1 else page[start:end]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", panel)).split())


def document_url(beneficiary, document, action="telecharger") -> str:
    return f"/beneficiaires/{beneficiary.file_number}/documents/{document.pk}/{action}/"


def download_status(client, url: str) -> int:
    response = client.get(url)
    if response.streaming:
        # The test client closes the stored file once its content has been read.
        b"".join(response.streaming_content)
    return response.status_code


def other_reception_agent(site) -> Agent:
    with tenant_context(site.structure):
        agent, _ = Agent.objects.get_or_create(
            email="accueil.bis@alpha.test",
            defaults={"first_name": "Paul", "last_name": "Accueil", "role": Role.RECEPTION_AGENT},
        )
    return agent


def client_for(site, agent):
    client = site.client()
    with tenant_context(site.structure):
        client.force_login(agent, backend=BACKEND_PATH)
    return client


# Uploads


def test_upload_pdf_stores_file_under_random_key(alpha, media):
    beneficiary = make_file(alpha)

    response = upload(
        alpha.client("social_worker"),
        beneficiary,
        name="Avis d'imposition.pdf",
        themes=["tax", "housing"],
    )

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        document = Document.objects.get(beneficiary=beneficiary)
        assert AuditEvent.objects.filter(action="add_document", target_id=document.pk).exists()
    assert document.name == "Avis d'imposition.pdf"
    assert document.content_type == "application/pdf"
    assert document.size == len(PDF_BYTES)
    assert document.themes == ["housing", "tax"]
    assert len(document.storage_key) == 32
    path = media / alpha.structure.schema_name / "documents" / str(beneficiary.pk)
    assert (path / document.storage_key).read_bytes() == PDF_BYTES
    assert "imposition" not in document.file.name


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.png", PNG_BYTES, "image/png"),
        ("courrier.docx", DOCX_BYTES, DOCX_TYPE),
        (
            "budget.xlsx",
            ooxml_bytes(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                "xl/workbook.xml",
            ),
            XLSX_TYPE,
        ),
        ("lettre.odt", odf_bytes(ODT_TYPE), ODT_TYPE),
        ("ancien.doc", OLE2_BYTES, "application/msword"),
    ],
)
def test_accepted_formats_read_from_content(alpha, media, name, content, content_type):
    beneficiary = make_file(alpha)

    response = upload(alpha.client("social_worker"), beneficiary, name=name, content=content)

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        document = Document.objects.get(beneficiary=beneficiary)
    assert document.content_type == content_type
    assert document.name == name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("facture.pdf", HTML_BYTES, "Ce format de document n'est pas accepté"),
        ("logo.svg", SVG_BYTES, "Les images SVG ne sont pas acceptées"),
        ("archive.zip", ooxml_bytes("text/plain", "notes.txt"), "n'est pas accepté"),
        (
            "macro.docx",
            ooxml_bytes(
                "application/vnd.ms-word.document.macroEnabled.main+xml",
                "word/document.xml",
                extra=("word/vbaProject.bin",),
            ),
            "contenant des macros",
        ),
        ("installeur.msi", OLE2_BYTES, "n'est pas accepté"),
    ],
)
def test_rejected_formats_keep_nothing(alpha, media, name, content, message):
    beneficiary = make_file(alpha)

    response = upload(alpha.client("social_worker"), beneficiary, name=name, content=content)

    assert response.status_code == 200
    assert message in page_text(response)
    with tenant_context(alpha.structure):
        assert not Document.objects.filter(beneficiary=beneficiary).exists()
    assert stored_files(media) == []


def test_file_over_limit_is_rejected(alpha, media, settings):
    settings.DOCUMENT_MAX_SIZE_MB = 1
    beneficiary = make_file(alpha)
    content = PDF_BYTES + b"0" * (1024 * 1024)

    response = upload(alpha.client("social_worker"), beneficiary, content=content)

    assert (
        "Le document dépasse la taille maximale de 1 Mo. Réduisez-le (PDF compressé, "
        "photo moins lourde) puis réessayez." in page_text(response)
    )
    with tenant_context(alpha.structure):
        assert not Document.objects.exists()
    assert stored_files(media) == []


def test_type_is_required(alpha, media):
    beneficiary = make_file(alpha)

    response = upload(alpha.client("social_worker"), beneficiary, kind="")

    assert "Choisissez le type de document." in page_text(response)
    assert stored_files(media) == []


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("C:\\Users\\agent\\scan.PDF", "scan.PDF"),
        ("../../etc/passwd", "passwd.pdf"),
        ("facture\u202efdp.exe", "facturefdp.exe.pdf"),
        ("relevé\x00\x1f 03.2024", "relevé 03.2024.pdf"),
        ('a<b>:"c|?*.pdf', "a_b___c___.pdf"),
        ("...", "document.pdf"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_file_name_is_cleaned(original, expected):
    assert clean_file_name(original, PDF) == expected


def test_upload_rejected_on_archived_file(alpha, media):
    beneficiary = make_file(alpha)
    with tenant_context(alpha.structure):
        Beneficiary.objects.filter(pk=beneficiary.pk).update(status=BeneficiaryStatus.ARCHIVED)
    client = alpha.client("social_worker")

    form_page = client.get(f"/beneficiaires/{beneficiary.file_number}/documents/ajouter/")
    response = upload(client, beneficiary)

    assert form_page.status_code == 302
    assert response.status_code == 302
    with tenant_context(alpha.structure):
        assert not Document.objects.exists()
    assert stored_files(media) == []


def test_referent_uploads_only_on_own_files(alpha, media):
    own = make_file(alpha, referent_role="referent")
    other = make_file(alpha, referent_role="social_worker")
    client = alpha.client("referent")

    accepted = upload(client, own)
    rejected = upload(client, other)

    assert accepted.status_code == 302
    assert rejected.status_code == 404
    with tenant_context(alpha.structure):
        assert list(Document.objects.values_list("beneficiary_id", flat=True)) == [own.pk]


def test_structures_store_in_separate_folders(alpha, beta, media):
    alpha_document = store(alpha, make_file(alpha))
    beta_document = store(beta, make_file(beta))

    alpha_path = media / "alpha" / alpha_document.file.name
    beta_path = media / "beta" / beta_document.file.name
    assert alpha.structure.schema_name == "alpha"
    assert beta.structure.schema_name == "beta"
    assert alpha_path.is_file()
    assert beta_path.is_file()
    assert sorted(path.name for path in media.iterdir()) == ["alpha", "beta"]


def test_s3_storage_prefixes_schema(alpha):
    # The backend and options that src/settings.py sets when AWS_STORAGE_BUCKET_NAME is set.
    storage = storages.create_storage(
        {
            "BACKEND": "core.services.documents.TenantS3Storage",
            "OPTIONS": {"bucket_name": "documents", "endpoint_url": None, "location": "suivi"},
        }
    )

    with tenant_context(alpha.structure):
        stored_name = storage._normalize_name("documents/1/abc")

    assert stored_name == "suivi/alpha/documents/1/abc"
    with tenant_context(alpha.structure), pytest.raises(SuspiciousOperation):
        storage._normalize_name("../beta/documents/1/abc")


# The Documents tab


def test_tab_empty_state(alpha):
    beneficiary = make_file(alpha)

    text = documents_tab(alpha.client("reception_agent"), beneficiary)

    assert "Aucun document n'a été ajouté." in text
    assert "Ajouter un document" in text


def test_tab_groups_documents_by_type(alpha, media):
    beneficiary = make_file(alpha)
    store(alpha, beneficiary, name="cerfa.pdf", kind="cerfa", themes=["tax"])
    store(alpha, beneficiary, name="rapport.pdf", kind="report", themes=[])

    text = documents_tab(alpha.client("manager"), beneficiary)

    assert text.index("CERFA") < text.index("cerfa.pdf")
    assert text.index("cerfa.pdf") < text.index("Rapports")
    assert text.index("Rapports") < text.index("rapport.pdf")
    assert "Justificatifs" not in text
    assert "Impôt" in text
    assert ".pdf – 1 Ko" in text
    assert "Télécharger" in text
    assert "Aucun document n'a été ajouté." not in text


@pytest.mark.parametrize(
    ("size", "label"),
    [(80, "1 Ko"), (839_680, "820 Ko"), (1_572_864, "1,5 Mo"), (15 * 1024 * 1024, "15 Mo")],
)
def test_size_label(size, label):
    assert size_label(size) == label


def test_reception_agent_sees_no_delete_button(alpha, media):
    beneficiary = make_file(alpha)
    document = store(alpha, beneficiary)

    page = page_text(
        alpha.client("reception_agent").get(f"/beneficiaires/{beneficiary.file_number}/")
    )

    assert document_url(beneficiary, document, "modifier") in page
    assert document_url(beneficiary, document, "supprimer") not in page


# Confidential documents


def test_confidential_document_visibility(alpha, media):
    beneficiary = make_file(alpha, referent_role="referent")
    document = store(
        alpha, beneficiary, role="reception_agent", name="secret.pdf", is_confidential=True
    )
    file_url = f"/beneficiaires/{beneficiary.file_number}/"
    clients = {
        "author": alpha.client("reception_agent"),
        "other reception agent": client_for(alpha, other_reception_agent(alpha)),
        "manager": alpha.client("manager"),
        "social worker": alpha.client("social_worker"),
        "referent of the file": alpha.client("referent"),
    }

    listed = {
        viewer: "secret.pdf" in page_text(client.get(file_url))
        for viewer, client in clients.items()
    }
    downloads = {
        viewer: download_status(client, document_url(beneficiary, document))
        for viewer, client in clients.items()
    }

    assert listed == {
        "author": True,
        "other reception agent": False,
        "manager": True,
        "social worker": True,
        "referent of the file": False,
    }
    assert downloads == {
        "author": 200,
        "other reception agent": 404,
        "manager": 200,
        "social worker": 200,
        "referent of the file": 404,
    }


def test_confidential_name_stays_out_of_history(alpha, media):
    beneficiary = make_file(alpha)
    store(alpha, beneficiary, role="manager", name="signalement.pdf", is_confidential=True)

    page = page_text(
        alpha.client("reception_agent").get(f"/beneficiaires/{beneficiary.file_number}/")
    )

    assert "signalement" not in page


def test_documents_for_applies_confidential_rule(alpha, media):
    beneficiary = make_file(alpha)
    shared = store(alpha, beneficiary, name="partage.pdf")
    store(alpha, beneficiary, name="confidentiel.pdf", is_confidential=True)

    with tenant_context(alpha.structure):
        for_reception = list(documents_for(alpha.agents["reception_agent"], beneficiary))
        for_instructor = documents_for(alpha.agents["instructor"], beneficiary).count()

    assert for_reception == [shared]
    assert for_instructor == 2


# Downloads


def test_download_streams_file_and_is_audited(alpha, media):
    beneficiary = make_file(alpha)
    document = store(alpha, beneficiary, name="Relevé CAF.pdf")

    response = alpha.client("reception_agent").get(document_url(beneficiary, document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Relev%C3%A9%20CAF.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    with tenant_context(alpha.structure):
        event = AuditEvent.objects.get(action="download_document")
    assert event.target_id == document.pk
    assert event.beneficiary_id == beneficiary.pk
    assert event.actor_id == alpha.agents["reception_agent"].pk


def test_download_from_other_structure_is_404(alpha, beta, media):
    beneficiary = make_file(alpha)
    document = store(alpha, beneficiary)
    beta_file = make_file(beta)
    client = beta.client("manager")

    same_url = client.get(document_url(beneficiary, document))
    under_own_file = client.get(document_url(beta_file, document))

    assert same_url.status_code == 404
    assert under_own_file.status_code == 404
    with tenant_context(beta.structure):
        assert not AuditEvent.objects.filter(action="download_document").exists()


def test_document_of_another_file_is_404(alpha, media):
    first = make_file(alpha)
    second = make_file(alpha)
    document = store(alpha, first)

    response = alpha.client("manager").get(document_url(second, document))

    assert response.status_code == 404


def test_stored_file_has_no_public_url(alpha, media):
    beneficiary = make_file(alpha)
    document = store(alpha, beneficiary)
    client = alpha.client("manager")

    for url in (
        f"/{document.file.name}",
        f"/alpha/{document.file.name}",
        f"/media/alpha/{document.file.name}",
    ):
        assert client.get(url).status_code == 404


# Changes and deletion


def test_edit_changes_details_not_file(alpha, media):
    beneficiary = make_file(alpha)
    document = store(alpha, beneficiary)
    stored_name = document.file.name

    response = alpha.client("instructor").post(
        document_url(beneficiary, document, "modifier"),
        {"kind": "report", "themes": ["justice", "employment"], "is_confidential": "on"},
    )

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        document.refresh_from_db()
        event = AuditEvent.objects.get(action="update_document")
    assert document.kind == "report"
    assert document.themes == ["employment", "justice"]
    assert document.is_confidential
    assert document.file.name == stored_name
    assert event.changes["kind"] == ["proof", "report"]


def test_delete_asks_then_removes_file(alpha, media, django_capture_on_commit_callbacks):
    beneficiary = make_file(alpha)
    document = store(alpha, beneficiary)
    path = media / "alpha" / document.file.name
    client = alpha.client("social_worker")

    confirmation = client.get(document_url(beneficiary, document, "supprimer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(document_url(beneficiary, document, "supprimer"))

    assert "Ce document sera supprimé définitivement." in page_text(confirmation)
    assert response.status_code == 302
    assert not path.exists()
    with tenant_context(alpha.structure):
        assert not Document.objects.filter(pk=document.pk).exists()
        assert AuditEvent.objects.filter(action="delete_document", target_id=document.pk).exists()


def test_delete_forbidden_to_instructor(alpha, media):
    beneficiary = make_file(alpha)
    document = store(alpha, beneficiary)

    response = alpha.client("instructor").post(document_url(beneficiary, document, "supprimer"))

    assert response.status_code == 404
    assert (media / "alpha" / document.file.name).is_file()
