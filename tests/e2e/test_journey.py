"""A social worker's day in a real browser: sign in through the provider, create a file, find it
again by typing the name without accents, and sign out of both the application and the
provider."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import SIGN_IN_BUTTON, choose_demo_identity
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

SOCIAL_WORKER = "karim.benali@demo.suivi-social.test"
# The search field's label starts with these words ("…par nom, prénom, numéro de dossier…").
SEARCH_LABEL = re.compile(r"^Rechercher un(·e)? bénéficiaire par nom, prénom")


def test_social_worker_journey(page: Page, stack: Stack) -> None:
    structure_home = stack.structure_url("autun", "/")
    sign_in_page = re.compile(rf"^{re.escape(stack.structure_url('autun', '/connexion/'))}")

    # A visitor without a session lands on the structure's sign-in page.
    page.goto(structure_home)
    expect(page).to_have_url(sign_in_page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("CCAS d'Autun")

    # Through the provider's page and back to the structure, by the public relay.
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.provider_issuer)}/interaction/"))
    choose_demo_identity(page, SOCIAL_WORKER)
    expect(page).to_have_url(stack.structure_url("autun", "/tableau-de-bord/"))
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Bénéficiaires"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bénéficiaires")

    # Create a file whose names carry accents and a cedilla.
    page.get_by_role("link", name="Ajouter un·e bénéficiaire").click()
    expect(page).to_have_url(stack.structure_url("autun", "/beneficiaires/nouveau/"))
    referents = page.get_by_role("group", name=re.compile(r"^Agent\(s\) référent\(s\)"))
    expect(referents.get_by_role("checkbox", name="Karim BENALI")).to_be_checked()
    # DSFR draws its own box over the native checkbox: people click the label.
    referents.get_by_text("Marie DUPONT", exact=True).click()
    expect(referents.get_by_role("checkbox", name="Marie DUPONT")).to_be_checked()
    page.get_by_label("Prénom(s)").fill("Hélène Bénédicte")
    page.get_by_label("Nom usuel").fill("Çaillé")
    page.get_by_label("Date de naissance").fill("1958-03-14")
    page.get_by_role("button", name="Créer le dossier").click()

    expect(page).to_have_url(re.compile(r"/beneficiaires/[A-Z0-9]+/$"))
    file_number = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.get_by_role("heading", level=1)).to_have_text("Hélène Bénédicte ÇAILLÉ")
    expect(page.get_by_role("status").first).to_contain_text("a été créé")
    file_meta = page.locator(".suivi-meta")
    expect(file_meta).to_contain_text("N° dossier")
    expect(file_meta.get_by_text(file_number, exact=True)).to_be_visible()
    expect(file_meta).to_contain_text("Karim BENALI, Marie DUPONT")
    expect(page.locator("dd").filter(has_text=re.compile(r"^14/03/1958"))).to_be_visible()

    # Back to the list, the file is found by its names typed without accents.
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Bénéficiaires"
    ).click()
    expect(page).to_have_url(stack.structure_url("autun", "/beneficiaires/"))
    page.get_by_label(SEARCH_LABEL).fill("helene caille")
    page.get_by_role("search").get_by_role("button", name="Rechercher", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]recherche=helene\+caille(&|$)"))
    expect(page.get_by_role("status")).to_contain_text("1 bénéficiaire")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ÇAILLÉ")
    expect(rows.first).to_contain_text("Hélène Bénédicte")
    expect(rows.first).to_contain_text(file_number)
    rows.first.get_by_role("link", name="ÇAILLÉ").click()
    expect(page).to_have_url(stack.structure_url("autun", f"/beneficiaires/{file_number}/"))

    # Sign out: the provider's page posts its own form, then the public return URL sends the
    # browser back to the structure's sign-in page.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(stack.structure_url("autun", "/connexion/?deconnecte=1"))
    expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté·e.")
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)

    # The session has ended, so the list redirects to the sign-in page.
    page.goto(stack.structure_url("autun", "/beneficiaires/"))
    expect(page).to_have_url(stack.structure_url("autun", "/connexion/?next=/beneficiaires/"))
    expect(page.get_by_role("button", name=SIGN_IN_BUTTON)).to_be_visible()

    # The provider's session has ended too, so signing in again shows the identity choice.
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.provider_issuer)}/interaction/"))
    expect(page.locator("form#demo-identities-form")).to_be_visible()
