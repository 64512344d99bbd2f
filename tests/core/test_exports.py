import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from core.enums import Role
from core.models import AuditEvent, Followup, FollowupType, HelpRequest
from core.roles import MATRIX, Action, Scope
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary
from tests.helpers import visible_text

BENEFICIARIES = "/exports/beneficiaires/"
FOLLOWUPS = "/exports/entretiens/"
HELP_REQUESTS = "/exports/demandes-d-aide/"

NIR_BODY = "1850371014123"
NIR = f"{NIR_BODY}{97 - int(NIR_BODY) % 97:02d}"
NIR_SHOWN = "1 85 03 71 014 123"
PRIVATE_INTERVIEW = "PRIVE-ENTRETIEN-7731"
PRIVATE_REQUEST = "PRIVE-DEMANDE-4410"
SHARED_INTERVIEW = "Compte rendu partagé de l'entretien"
SHARED_REQUEST = "Compte rendu partagé de la demande"


@pytest.fixture
def data(alpha):
    agents = alpha.agents
    with tenant_context(alpha.structure):
        food = FollowupType.objects.get(default_code="aide_alimentaire")
        housing = FollowupType.objects.get(default_code="domiciliation")
        jean = create_beneficiary(
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
                "insurance": "Mutuelle du Morvan",
                "social_security_number": NIR,
            },
            [agents["referent"]],
        )
        zoe = create_beneficiary(
            agents["manager"],
            {"first_names": "Zoé", "usual_name": "Autre", "city": "Nevers"},
            [agents["manager"]],
        )
        create_beneficiary(
            agents["manager"],
            {"first_names": "Paul", "usual_name": "Archivé", "status": "archived"},
        )
        save_followup(
            agents["social_worker"],
            Followup(beneficiary=jean),
            {
                "date": date(2026, 10, 1),
                "medium": "phone_call",
                "synthesis": SHARED_INTERVIEW,
                "private_synthesis": PRIVATE_INTERVIEW,
            },
            [food],
        )
        save_followup(
            agents["manager"],
            Followup(beneficiary=zoe),
            {"date": date(2026, 11, 1), "medium": "email", "status": "done"},
            [housing],
        )
        save_help_request(
            agents["social_worker"],
            HelpRequest(beneficiary=jean),
            {
                "opening_date": date(2026, 10, 5),
                "followup_type": food,
                "requested_amount": Decimal("80"),
                "synthesis": SHARED_REQUEST,
                "private_synthesis": PRIVATE_REQUEST,
            },
        )
    return {"jean": jean, "zoe": zoe, "food": food}


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def csv_rows(response) -> list[dict[str, str]]:
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf")
    return csv_rows_of(content)


def export(client, url: str, query: str = "", **data):
    return client.post(f"{url}?{query}" if query else url, {"format": "csv", **data})


def audit_events(site, action: str) -> list[AuditEvent]:
    with tenant_context(site.structure):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_beneficiary_csv_has_french_headers_and_labels(alpha, data):
    response = export(alpha.client("manager"), BENEFICIARIES)

    today = timezone.localdate()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="beneficiaires-alpha-{today:%Y-%m-%d}.csv"' in response["Content-Disposition"]
    rows = {row["Prénom(s)"]: row for row in csv_rows(response)}
    jean = rows["Jean"]
    assert jean["Numéro de dossier"] == data["jean"].file_number
    assert jean["Statut du dossier"] == "Actif"
    assert jean["Civilité"] == "M."
    assert jean["Nom usuel"] == "Martin"
    assert jean["Date de naissance"] == "12/03/1985"
    assert jean["Aidant familial"] == "Oui"
    assert jean["Mandat Aidant Connect"] == "Non"
    assert jean["Natures des ressources"] == "RSA, APL"
    assert jean["Montant des ressources (€ par mois)"] == "1234,50"
    assert jean["Mutuelle"] == "Mutuelle du Morvan"
    assert jean["Agents référents"] == "Référent ALPHA"
    assert jean["Accompagnements"] == "Aide alimentaire"
    assert rows["Zoé"]["Agents référents"] == "Manon RESPONSABLE"


def test_beneficiary_export_applies_the_list_filters(alpha, data):
    client = alpha.client("manager")

    default = [row["Prénom(s)"] for row in csv_rows(export(client, BENEFICIARIES))]
    nevers = csv_rows(export(client, BENEFICIARIES, "ville=nevers"))
    archived = csv_rows(export(client, BENEFICIARIES, "statut=archived"))
    descending = csv_rows(export(client, BENEFICIARIES, "tri=nom&ordre=desc"))

    assert default == ["Zoé", "Jean"]  # the list's order: by name
    assert [row["Prénom(s)"] for row in nevers] == ["Zoé"]
    assert [row["Prénom(s)"] for row in archived] == ["Paul"]
    assert [row["Prénom(s)"] for row in descending] == ["Jean", "Zoé"]


def test_accompaniment_exports_apply_the_list_filters(alpha, data):
    client = alpha.client("manager")

    done = csv_rows(export(client, FOLLOWUPS, "statut=done"))
    food = csv_rows(export(client, FOLLOWUPS, f"accompagnement={data['food'].pk}"))
    october = csv_rows(export(client, HELP_REQUESTS, "du=2026-10-01&au=2026-10-31"))
    november = csv_rows(export(client, HELP_REQUESTS, "du=2026-11-01"))

    assert [row["Bénéficiaire"] for row in done] == ["Zoé AUTRE"]
    assert [row["Bénéficiaire"] for row in food] == ["Jean MARTIN"]
    assert [row["Bénéficiaire"] for row in october] == ["Jean MARTIN"]
    assert november == []


def test_interview_and_aid_request_labels_in_french(alpha, data):
    client = alpha.client("manager")

    interview = csv_rows(export(client, FOLLOWUPS, "statut=todo"))[0]
    request = csv_rows(export(client, HELP_REQUESTS))[0]

    assert interview["Date"] == "01/10/2026"
    assert interview["Type d'entretien"] == "Entretien téléphonique"
    assert interview["Accompagnement(s)"] == "Aide alimentaire"
    assert interview["Statut"] == "À traiter"
    assert interview["Réorienté après l'entretien"] == "Non"
    assert interview["Agent"] == "Travailleur social ALPHA"
    assert interview["Compte rendu"] == SHARED_INTERVIEW
    assert request["Date d'ouverture du dossier"] == "05/10/2026"
    assert request["Accompagnement"] == "Aide alimentaire"
    assert request["Statut"] == "En cours d'instruction"
    assert request["S'agit-il d'une aide financière ?"] == "Oui"
    assert request["L'instruction de la demande est réalisée..."] == "En interne"
    assert request["Montant demandé (€)"] == "80,00"
    assert request["Compte rendu"] == SHARED_REQUEST


def test_nir_is_absent_unless_asked(alpha, data):
    client = alpha.client("manager")

    without = body(export(client, BENEFICIARIES)).decode("utf-8-sig")
    with_nir = csv_rows(export(client, BENEFICIARIES, nir="on"))

    assert "N° de sécurité sociale" not in without
    assert NIR not in without.replace(" ", "")
    jean = next(row for row in with_nir if row["Prénom(s)"] == "Jean")
    assert jean["N° de sécurité sociale"].startswith(NIR_SHOWN)
    assert [
        event.changes["nir_included"] for event in audit_events(alpha, "export_beneficiaries")
    ] == [False, True]


def test_nir_option_needs_view_nir(alpha, data, monkeypatch):
    client = alpha.client("manager")
    assert "Inclure le numéro de sécurité sociale" in visible_text(client.get(BENEFICIARIES))
    monkeypatch.delitem(MATRIX[Action.VIEW_NIR], Role.MANAGER)

    page = visible_text(client.get(BENEFICIARIES))
    refused = export(client, BENEFICIARIES, nir="on")

    assert "Inclure le numéro de sécurité sociale" not in page
    assert refused.status_code == 404
    assert audit_events(alpha, "export_beneficiaries") == []


def test_full_file_sections_need_view_full_info(alpha, data, monkeypatch):
    monkeypatch.delitem(MATRIX[Action.VIEW_FULL_INFO], Role.MANAGER)

    content = body(export(alpha.client("manager"), BENEFICIARIES)).decode("utf-8-sig")

    assert "Mutuelle" not in content
    assert "Montant des ressources" not in content
    assert "Jean" in content


def test_private_syntheses_are_never_exported(alpha, data):
    for role in ["manager", "social_worker"]:  # the social worker wrote them
        client = alpha.client(role)
        for url in [FOLLOWUPS, HELP_REQUESTS]:
            for file_format in ["csv", "xlsx"]:
                response = client.post(url, {"format": file_format})
                content = body(response)
                if file_format == "xlsx":
                    sheet = load_workbook(io.BytesIO(content)).active
                    content = repr(list(sheet.values)).encode()
                assert response.status_code == 200
                assert PRIVATE_INTERVIEW.encode() not in content
                assert PRIVATE_REQUEST.encode() not in content
                assert b"Compte rendu priv" not in content


def test_shared_synthesis_needs_permission(alpha, data):
    # An instructor reads the shared synthesis of the aid requests they wrote, not others'.
    rows = csv_rows(export(alpha.client("instructor"), HELP_REQUESTS))

    assert rows[0]["Bénéficiaire"] == "Jean MARTIN"
    assert rows[0]["Compte rendu"] == ""


def test_protected_aid_request_columns_need_their_permission(alpha, data, monkeypatch):
    monkeypatch.delitem(MATRIX[Action.VIEW_HELP_REQUEST_PROTECTED], Role.MANAGER)

    rows = csv_rows(export(alpha.client("manager"), HELP_REQUESTS))

    assert "Montant demandé (€)" not in rows[0]
    assert "Organisme instructeur" not in rows[0]
    assert "Date du paiement" not in rows[0]
    assert rows[0]["Statut"] == "En cours d'instruction"


def test_reception_agent_gets_404(alpha, data):
    client = alpha.client("reception_agent")

    for url in [BENEFICIARIES, FOLLOWUPS, HELP_REQUESTS]:
        assert client.get(url).status_code == 404
        assert export(client, url).status_code == 404
    assert "Exporter" not in visible_text(client.get("/accompagnements/"))
    assert "Exporter" not in visible_text(client.get("/beneficiaires/"))


def test_only_managers_export_beneficiaries(alpha, data):
    worker = alpha.client("social_worker")

    assert export(worker, BENEFICIARIES).status_code == 404
    assert "Exporter les entretiens" in visible_text(worker.get("/accompagnements/"))
    assert "/exports/beneficiaires/" not in worker.get("/beneficiaires/").content.decode()


def test_export_buttons_keep_the_list_filters(alpha, data):
    client = alpha.client("manager")

    beneficiaries = client.get("/beneficiaires/", {"ville": "Nevers"}).content.decode()
    help_requests = client.get(
        "/accompagnements/", {"onglet": "demandes-d-aide", "statut": "accepted"}
    ).content.decode()

    assert 'href="/exports/beneficiaires/?ville=Nevers"' in beneficiaries
    assert "/exports/demandes-d-aide/?onglet=demandes-d-aide&amp;statut=accepted" in help_requests


def test_export_page_counts_rows(alpha, data):
    page = visible_text(alpha.client("manager").get(BENEFICIARIES, {"ville": "Nevers"}))

    assert "Le fichier contiendra 1 bénéficiaire," in page
    assert "Ville : Nevers" in page


def test_referent_exports_only_items_of_own_files(alpha, data):
    rows = csv_rows(export(alpha.client("referent"), FOLLOWUPS))

    assert [row["Bénéficiaire"] for row in rows] == ["Jean MARTIN"]


def test_other_structure_never_gets_these_rows(alpha, beta, data):
    client = beta.client("manager")

    for url in [BENEFICIARIES, FOLLOWUPS, HELP_REQUESTS]:
        for file_format in ["csv", "xlsx"]:
            response = client.post(url, {"format": file_format})
            content = body(response)
            if file_format == "xlsx":
                rows = list(load_workbook(io.BytesIO(content)).active.values)
                assert len(rows) == 1  # the headers only
            else:
                assert csv_rows_of(content) == []
            assert b"Martin" not in content
            assert b"MARTIN" not in content
    assert all(event.changes["rows"] == 0 for event in audit_events(beta, "export_followups"))


def test_each_export_is_audited(alpha, data):
    manager = alpha.agents["manager"]

    body(export(alpha.client("manager"), BENEFICIARIES, "ville=Nevers"))
    body(alpha.client("manager").post(HELP_REQUESTS, {"format": "xlsx"}))

    [beneficiaries] = audit_events(alpha, "export_beneficiaries")
    [help_requests] = audit_events(alpha, "export_help_requests")
    assert beneficiaries.actor_id == manager.pk
    assert beneficiaries.target_type == "agent"
    assert beneficiaries.target_id == manager.pk
    assert beneficiaries.beneficiary_id is None
    assert beneficiaries.changes == {
        "kind": "beneficiaires",
        "format": "CSV",
        "filters": {"ville": "Nevers"},
        "nir_included": False,
        "rows": 1,
    }
    assert help_requests.changes["format"] == "XLSX"
    assert help_requests.changes["rows"] == 1


def test_showing_the_export_page_is_not_an_export(alpha, data):
    alpha.client("manager").get(FOLLOWUPS)

    assert audit_events(alpha, "export_followups") == []


def test_xlsx_has_typed_cells(alpha, data):
    response = alpha.client("manager").post(HELP_REQUESTS, {"format": "xlsx"})

    today = timezone.localdate()
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"demandes-d-aide-alpha-{today:%Y-%m-%d}.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(body(response))).active
    headers = [cell.value for cell in sheet[1]]
    values = dict(zip(headers, sheet[2], strict=True))
    opening = values["Date d'ouverture du dossier"]
    amount = values["Montant demandé (€)"]
    assert sheet.title == "Demandes d'aide"
    assert opening.value.date() == date(2026, 10, 5)
    assert opening.is_date
    assert opening.number_format == "DD/MM/YYYY"
    assert amount.value == 80
    assert amount.data_type == "n"
    assert "€" in amount.number_format
    assert values["Statut"].value == "En cours d'instruction"
    assert values["Dossier complet"].value == "Non"


def test_beneficiary_xlsx_keeps_amounts_as_numbers(alpha, data):
    response = alpha.client("manager").post(BENEFICIARIES, {"format": "xlsx"})

    rows = list(load_workbook(io.BytesIO(body(response))).active.values)
    jean = dict(zip(rows[0], next(row for row in rows if "Jean" in row), strict=True))
    assert jean["Montant des ressources (€ par mois)"] == Decimal("1234.5")
    assert jean["Date de naissance"].date() == date(1985, 3, 12)


def test_text_that_looks_like_a_formula_stays_text(alpha, data):
    with tenant_context(alpha.structure):
        create_beneficiary(
            alpha.agents["manager"], {"first_names": '=HYPERLINK("x")', "usual_name": "Zz"}
        )
    client = alpha.client("manager")

    rows = csv_rows(export(client, BENEFICIARIES, "ville="))
    sheet = load_workbook(io.BytesIO(body(client.post(BENEFICIARIES, {"format": "xlsx"})))).active

    assert '\'=HYPERLINK("x")' in [row["Prénom(s)"] for row in rows]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == '=HYPERLINK("x")']
    assert cells
    assert all(cell.data_type == "s" for cell in cells)


def test_query_count_does_not_grow_with_rows(alpha, data):
    client = alpha.client("manager")
    with CaptureQueriesContext(connection) as few:
        body(export(client, FOLLOWUPS))
    with tenant_context(alpha.structure):
        for day in range(1, 11):
            save_followup(
                alpha.agents["instructor"],
                Followup(beneficiary=data["zoe"]),
                {"date": date(2026, 9, day), "medium": "email"},
                [data["food"]],
            )

    with CaptureQueriesContext(connection) as many:
        body(export(client, FOLLOWUPS))

    assert len(many) == len(few)


def test_interview_details_need_view_followup(alpha, data, monkeypatch):
    monkeypatch.setitem(MATRIX[Action.VIEW_FOLLOWUP], Role.MANAGER, Scope.AUTHOR)

    rows = {row["Date"]: row for row in csv_rows(export(alpha.client("manager"), FOLLOWUPS))}

    assert rows["01/10/2026"]["Type d'entretien"] == ""
    assert rows["01/10/2026"]["Accompagnement(s)"] == ""
    assert rows["01/10/2026"]["Statut"] == "À traiter"
    assert rows["01/11/2026"]["Type d'entretien"] == "E-mail"
