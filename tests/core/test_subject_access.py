"""The right-of-access export of one file ("Exporter le dossier"), as JSON and PDF."""

import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.enums import Civility, FollowupMedium
from core.models import AuditEvent, Beneficiary, Followup, FollowupType, HelpRequest, Relative
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary, record_consultation, save_relative
from core.services.comments import add_comment
from core.services.documents import add_document
from core.services.subject_access import subject_access_data
from core.subject_access_pdf import subject_access_pdf
from tests.helpers import page_text

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NIR_BODY = "1850371014123"
NIR = f"{NIR_BODY}{97 - int(NIR_BODY) % 97:02d}"
PRIVATE_INTERVIEW = "PRIVE-ENTRETIEN-5521"
PRIVATE_REQUEST = "PRIVE-DEMANDE-8830"
SHARED_INTERVIEW = "Compte rendu partagé : point sur le logement."
COMMENT = "Rappeler la CAF la semaine prochaine."
# Characters a PDF font may lack, markup that must stay text, control characters other than
# NUL (which PostgreSQL refuses), and Windows line ends.
ODD_TEXT = (
    "Zoë ŒUVRE « guillemets » — l’apostrophe, 20\u202f€, emoji 😀, مرحبا, 漢字, "
    "<b>balise</b> & esperluette, contrôle \x01\x07\x1f, fin\r\nde ligne\rMac\ttab"
)
# Derived copies of other fields that the export leaves out on purpose.
INTERNAL_FIELDS = {"id", "search_text", "city_key", "version"}


def export_url(beneficiary):
    return f"/beneficiaires/{beneficiary.file_number}/exporter/"


def export(site, role, beneficiary, **options):
    data = {"format": "json"} | options
    return site.client(role).post(export_url(beneficiary), data)


def exported_json(site, role, beneficiary, **options):
    response = export(site, role, beneficiary, **options)
    assert response.status_code == 200
    return json.loads(response.content)


def file_fields(data):
    return {
        entry["key"]: entry for section in data["file"]["sections"] for entry in section["fields"]
    }


def model_fields():
    return {
        field.name
        for field in Beneficiary._meta.get_fields()
        if (field.concrete or field.many_to_many) and not field.auto_created
    } - INTERNAL_FIELDS


@pytest.fixture
def jean(alpha):
    """A file with values in most sections, an interview, an aid request, a relative, a
    comment, a document and a consultation."""
    agents = alpha.agents
    with tenant_context(alpha.structure):
        food = FollowupType.objects.get(default_code="aide_alimentaire")
        beneficiary = create_beneficiary(
            agents["manager"],
            {
                "civility": "mister",
                "first_names": "Jean",
                "usual_name": "Martin",
                "birth_date": date(1985, 3, 12),
                "city": "Autun",
                "caregiver": True,
                "income_sources": ["rsa", "apl"],
                "income_amount": Decimal("1234.50"),
                "social_security_number": NIR,
                "additional_information": "Préfère être appelé le matin.",
            },
            [agents["referent"]],
        )
        save_relative(
            agents["social_worker"],
            beneficiary,
            Relative(),
            {"relationship": "child", "first_name": "Léa", "last_name": "Martin"},
        )
        followup = save_followup(
            agents["social_worker"],
            Followup(beneficiary=beneficiary),
            {
                "date": date(2026, 10, 1),
                "medium": "phone_call",
                "synthesis": SHARED_INTERVIEW,
                "private_synthesis": PRIVATE_INTERVIEW,
            },
            [food],
        )
        add_comment(agents["manager"], followup, COMMENT)
        save_help_request(
            agents["social_worker"],
            HelpRequest(beneficiary=beneficiary, followup_type=food),
            {
                "opening_date": date(2026, 10, 2),
                "requested_amount": Decimal("150.00"),
                "private_synthesis": PRIVATE_REQUEST,
            },
        )
        add_document(
            agents["social_worker"],
            beneficiary,
            SimpleUploadedFile("avis-imposition.pdf", PDF_BYTES),
            kind="proof",
            themes=["housing"],
            is_confidential=False,
        )
        record_consultation(agents["instructor"], beneficiary)
    return beneficiary


@pytest.fixture
def other_file(alpha):
    """A file the referent persona does not follow."""
    with tenant_context(alpha.structure):
        return create_beneficiary(
            alpha.agents["manager"], {"first_names": "Zoé", "usual_name": "Autre"}
        )


def test_json_contains_every_beneficiary_field(alpha, jean):
    data = exported_json(alpha, "manager", jean)

    assert set(file_fields(data)) == model_fields()


def test_json_fields_have_french_labels_and_value_labels(alpha, jean):
    fields = file_fields(exported_json(alpha, "manager", jean))

    assert fields["civility"]["label"] == "Civilité"
    assert fields["civility"]["value"] == "mister"
    assert fields["civility"]["display"] == Civility.MISTER.label
    assert fields["birth_date"]["value"] == "1985-03-12"
    assert fields["birth_date"]["display"] == "12/03/1985"
    assert fields["income_sources"]["value"] == ["rsa", "apl"]
    assert fields["income_amount"]["value"] == "1234.50"
    assert fields["caregiver"]["display"] == "Oui"
    assert fields["referents"]["value"] == [alpha.agents["referent"].full_name]


def test_json_contains_every_part_of_the_file(alpha, jean):
    data = exported_json(alpha, "manager", jean)
    [relative] = data["relatives"]
    [followup] = data["followups"]
    [help_request] = data["help_requests"]
    [document] = data["documents"]
    [consultation] = data["consultations"]
    followup_fields = {entry["key"]: entry for entry in followup["fields"]}
    document_fields = {entry["key"]: entry for entry in document["fields"]}

    assert relative["title"] == "Léa MARTIN"
    assert followup_fields["synthesis"]["value"] == SHARED_INTERVIEW
    assert followup_fields["medium"]["display"] == FollowupMedium.PHONE_CALL.label
    assert followup["comments"][0]["content"] == COMMENT
    assert {entry["key"] for entry in help_request["fields"]} >= {"requested_amount", "status"}
    assert document_fields["name"]["value"] == "avis-imposition.pdf"
    assert document_fields["size"]["value"] == len(PDF_BYTES)
    assert "storage_key" not in document_fields
    assert "file" not in document_fields
    assert consultation["agent"] == alpha.agents["instructor"].full_name


def test_json_history_uses_french_labels(alpha, jean):
    data = exported_json(alpha, "manager", jean)
    operations = [row["operation"] for row in data["history"]]
    creation = data["history"][0]
    labels = {change["label"] for change in creation["changes"]}

    assert operations[0] == "Création du dossier"
    assert "Ajout d'un entretien" in operations
    assert "Nom usuel" in labels
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+\d\d:\d\d", creation["date"])


def test_private_syntheses_left_out_by_default(alpha, jean):
    response = export(alpha, "manager", jean)
    followup_keys = {
        entry["key"] for entry in json.loads(response.content)["followups"][0]["fields"]
    }

    assert PRIVATE_INTERVIEW not in response.content.decode()
    assert PRIVATE_REQUEST not in response.content.decode()
    assert "private_synthesis" not in followup_keys


def test_manager_option_includes_private_syntheses(alpha, jean):
    response = export(alpha, "manager", jean, private_syntheses="on")
    data = json.loads(response.content)

    assert PRIVATE_INTERVIEW in response.content.decode()
    assert PRIVATE_REQUEST in response.content.decode()
    assert data["export"]["private_syntheses_included"] is True


def test_private_syntheses_option_only_on_manager_form(alpha, jean):
    manager_page = page_text(alpha.client("manager").get(export_url(jean)))
    worker_page = page_text(alpha.client("social_worker").get(export_url(jean)))

    assert "Inclure les comptes rendus privés" in manager_page
    assert "note de travail de l'agent qui l'a écrit" in manager_page
    assert "Inclure les comptes rendus privés" not in worker_page


@pytest.mark.parametrize("role", ["social_worker", "instructor", "referent"])
def test_private_syntheses_refused_to_other_roles(alpha, jean, role):
    response = export(alpha, role, jean, private_syntheses="on")

    assert response.status_code == 404
    assert not jean_exports(alpha)


def jean_exports(site):
    with tenant_context(site.structure):
        return list(AuditEvent.objects.filter(action="export_file"))


def test_author_private_synthesis_left_out_of_own_export(alpha, jean):
    # The social worker wrote the private synthesis, but the export is the structure's response
    # to the person: only the manager's option adds private syntheses.
    response = export(alpha, "social_worker", jean)

    assert PRIVATE_INTERVIEW not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("manager", 200),
        ("social_worker", 200),
        ("instructor", 200),
        ("reception_agent", 404),
        ("referent", 200),
    ],
)
def test_export_role_matrix_on_followed_file(alpha, jean, role, status):
    assert alpha.client(role).get(export_url(jean)).status_code == status
    assert export(alpha, role, jean).status_code == status


def test_referent_gets_404_on_file_not_followed(alpha, other_file):
    assert alpha.client("referent").get(export_url(other_file)).status_code == 404
    assert export(alpha, "referent", other_file).status_code == 404


def test_agent_of_other_structure_gets_404(alpha, beta, jean):
    response = beta.client("manager").post(export_url(jean), {"format": "json"})

    assert response.status_code == 404
    assert beta.client("manager").get(export_url(jean)).status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(alpha, jean):
    response = alpha.client().get(export_url(jean))

    assert response.status_code == 302


def test_export_writes_audit_row(alpha, jean):
    export(alpha, "manager", jean, format="pdf", private_syntheses="on")
    [event] = jean_exports(alpha)

    assert event.actor_id == alpha.agents["manager"].pk
    assert event.beneficiary_id == jean.pk
    assert event.changes["format"] == "PDF"
    assert event.changes["private_syntheses_included"] is True
    assert event.changes["nir_included"] is False


def test_form_page_writes_no_audit_row(alpha, jean):
    alpha.client("manager").get(export_url(jean))

    assert jean_exports(alpha) == []


def test_export_shows_in_file_history(alpha, jean):
    export(alpha, "social_worker", jean)
    page = page_text(alpha.client("manager").get(f"/beneficiaires/{jean.file_number}/"))

    assert "Export du dossier (droit d'accès)" in page
    assert "Comptes rendus privés inclus : « Non »" in page
    assert "Format : « JSON »" in page


def test_file_page_links_to_export(alpha, jean):
    manager_page = page_text(alpha.client("manager").get(f"/beneficiaires/{jean.file_number}/"))
    reception_page = page_text(
        alpha.client("reception_agent").get(f"/beneficiaires/{jean.file_number}/")
    )

    assert export_url(jean) in manager_page
    assert "Exporter le dossier" in manager_page
    assert export_url(jean) not in reception_page


def test_nir_left_out_unless_asked(alpha, jean):
    default = file_fields(exported_json(alpha, "manager", jean))["social_security_number"]
    asked = file_fields(exported_json(alpha, "manager", jean, nir="on"))["social_security_number"]

    assert default["value"] is None
    assert default["display"] == "Renseigné, non inclus dans cet export"
    assert asked["value"] == NIR


def test_json_filename_names_the_file_number(alpha, jean):
    response = export(alpha, "manager", jean)
    day = timezone.localdate()

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="dossier-{jean.file_number}-{day:%Y-%m-%d}.json"'
    )


def test_pdf_is_a_valid_pdf_with_french_filename(alpha, jean):
    response = export(alpha, "manager", jean, format="pdf")
    day = timezone.localdate()

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="dossier-{jean.file_number}-{day:%Y-%m-%d}.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert page_count(response.content) >= 2


def page_count(content):
    return len(re.findall(rb"/Type\s*/Page\b", content))


def test_pdf_text_matches_json(alpha, jean):
    pypdf = pytest.importorskip("pypdf")
    response = export(alpha, "manager", jean, format="pdf")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)

    assert jean.file_number in text
    assert SHARED_INTERVIEW in text
    assert PRIVATE_INTERVIEW not in text


@pytest.mark.parametrize("bad_format", ["", "xlsx", "<script>"])
def test_invalid_format_gets_french_error(alpha, jean, bad_format):
    response = export(alpha, "manager", jean, format=bad_format)
    page = page_text(response)

    assert response.status_code == 200
    assert "Choisissez" in page
    assert jean_exports(alpha) == []


def test_long_and_odd_values_survive_both_formats(alpha):
    long_text = ("Une phrase assez longue pour remplir des lignes entières. " * 600).strip()
    long_word = "x" * 3000
    many_lines = "\n".join(f"Ligne {number} : {ODD_TEXT}" for number in range(300))
    agents = alpha.agents
    with tenant_context(alpha.structure):
        food = FollowupType.objects.get(default_code="aide_alimentaire")
        beneficiary = create_beneficiary(
            agents["manager"],
            {
                "first_names": ODD_TEXT[:150],
                "usual_name": "Ødegård-Nguyễn",
                "additional_information": long_text,
                "health_additional_information": many_lines,
                "street": long_word[:200],
            },
        )
        for number in range(40):
            save_followup(
                agents["social_worker"],
                Followup(beneficiary=beneficiary),
                {
                    "date": date(2026, 1, 1 + number % 28),
                    "medium": "phone_call",
                    "synthesis": f"{number} {long_text[:4000]} {ODD_TEXT}",
                },
                [food],
            )
        for _ in range(150):
            record_consultation(agents["instructor"], beneficiary)

    data = exported_json(alpha, "manager", beneficiary)
    response = export(alpha, "manager", beneficiary, format="pdf")

    assert file_fields(data)["health_additional_information"]["value"] == many_lines
    assert len(data["followups"]) == 40
    assert len(data["consultations"]) == 150
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert page_count(response.content) > 10


def test_pdf_handles_a_text_longer_than_a_page(alpha, jean):
    with tenant_context(alpha.structure):
        agent = alpha.agents["manager"]
        data = subject_access_data(jean, agent, include_private_syntheses=False, include_nir=False)
    data["file"]["sections"][0]["fields"][0]["display"] = "\n".join(["Ligne"] * 400)

    content = subject_access_pdf(data)

    assert content.startswith(b"%PDF")


def count_export_queries(site, beneficiary):
    with tenant_context(site.structure), CaptureQueriesContext(connection) as queries:
        subject_access_data(
            beneficiary, site.agents["manager"], include_private_syntheses=True, include_nir=True
        )
    return len(queries)


def test_export_query_count_does_not_grow_with_rows(alpha, jean):
    before = count_export_queries(alpha, jean)
    agents = alpha.agents
    with tenant_context(alpha.structure):
        food = FollowupType.objects.get(default_code="aide_alimentaire")
        for number in range(3):
            followup = save_followup(
                agents["social_worker"],
                Followup(beneficiary=jean),
                {"date": date(2026, 11, 1 + number), "medium": "email"},
                [food],
            )
            add_comment(agents["manager"], followup, f"Commentaire {number}")
            save_relative(agents["social_worker"], jean, Relative(), {"relationship": "child"})
            record_consultation(agents["referent"], jean)

    assert count_export_queries(alpha, jean) == before
