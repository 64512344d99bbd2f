"""From an interview to a paid aid, in a real browser: the forms' conditional fields, the status
rules and the file's history as a social worker sees them."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import sign_in
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

SOCIAL_WORKER = "karim.benali@demo.suivi-social.test"


def test_interview_to_paid_aid(page: Page, stack: Stack) -> None:
    sign_in(page, stack, SOCIAL_WORKER, slug="autun")
    page.goto(stack.structure_url("autun", "/beneficiaires/?recherche=eloise+lefevre"))
    page.get_by_role("table").get_by_role("link", name="LEFÈVRE-DUPONT").click()
    file_url = page.url

    # An interview with a third person: the "Tierce personne" field appears on choosing it.
    page.get_by_role("tab", name="Historique", exact=True).click()
    page.get_by_role("link", name="Synthèse d'entretien").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvel entretien")
    expect(page.get_by_label("Tierce personne")).to_be_hidden()
    # The required marker of these labels is hidden from assistive technologies: use the ids.
    page.locator("#id_date").fill("2026-11-02")
    page.get_by_label("Type d'entretien").select_option(label="Entretien avec un tiers")
    expect(page.get_by_label("Tierce personne")).to_be_visible()
    page.get_by_label("Tierce personne").fill("Sa fille")
    page.get_by_text("Aide alimentaire", exact=True).click()
    page.locator("#id_synthesis").fill("Difficultés pour payer les courses.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="Entretien du 02/11/2026")).to_be_visible()

    # An aid request, then its decision and its payment.
    page.get_by_role("link", name="Demande d'aide").click()
    page.get_by_label("Date d'ouverture du dossier").fill("2026-11-03")
    page.locator("#id_followup_type").select_option(label="Aide alimentaire")
    page.get_by_label("Montant demandé (€)").fill("150")
    page.get_by_role("button", name="Enregistrer").click()
    request_card = page.locator("article").filter(has_text="Demande d'aide du 03/11/2026")
    expect(request_card).to_contain_text("En cours d'instruction")

    # Paying before granting is refused with a French message; what was typed stays.
    request_card.get_by_role("link", name=re.compile("^Modifier")).click()
    page.get_by_label("Mode de paiement").select_option(label="Chèque")
    page.get_by_label("Date du paiement").fill("2026-11-20")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("ne peut être payée qu'une fois accordée")).to_be_visible()

    page.get_by_label("Statut").select_option(label="Accepté")
    page.get_by_label("Montant attribué (€)").fill("120")
    page.get_by_label("Date de la décision").fill("2026-11-15")
    page.get_by_role("button", name="Enregistrer").click()

    request_card = page.locator("article").filter(has_text="Demande d'aide du 03/11/2026")
    expect(request_card).to_contain_text("Accepté")
    expect(request_card).to_contain_text("120,00 €")
    expect(request_card).to_contain_text("Paiement")
    expect(request_card).to_contain_text("le 20/11/2026 (chèque)")
    assert page.url.startswith(file_url)
