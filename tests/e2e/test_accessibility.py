"""axe-core on the main pages, as each kind of user sees them: no "serious" or "critical"
violation of WCAG 2.1 A and AA (the RGAA's basis) or of axe's best practices.

On failure the message lists each violation with its rule, impact and the elements' selectors.
"""

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.browser import (
    BLOCKING_IMPACTS,
    SIGN_IN_BUTTON,
    axe_violations,
    choose_demo_identity,
    csp_violations,
    describe_violations,
    new_context,
    sign_in,
)
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

MANAGER = "marie.dupont@demo.suivi-social.test"
SOCIAL_WORKER = "karim.benali@demo.suivi-social.test"
NATIONAL = "national@demo.suivi-social.test"
NOT_INVITED = "inconnu@demo.suivi-social.test"


class Visitors:
    """Pages for the demo identities: each one signs in once for the module, in a context of
    its own (at Autun, or at the national console for NATIONAL)."""

    def __init__(self, browser: Browser, stack: Stack) -> None:
        self.browser = browser
        self.stack = stack
        self.contexts: dict[str, BrowserContext] = {}
        self.others: list[BrowserContext] = []

    def signed_in(self, email: str) -> Page:
        if email not in self.contexts:
            context = self.contexts[email] = new_context(self.browser)
            slug = None if email == NATIONAL else "autun"
            sign_in(context.new_page(), self.stack, email, slug)
        return self.contexts[email].pages[0]

    def anonymous(self) -> Page:
        context = new_context(self.browser)
        self.others.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in [*self.contexts.values(), *self.others]:
            context.close()


@pytest.fixture(scope="module")
def visitors(browser: Browser, stack: Stack) -> Iterator[Visitors]:
    opened = Visitors(browser, stack)
    yield opened
    opened.close()


def sign_in_page(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.anonymous()
    page.goto(stack.structure_url("autun", "/connexion/"))
    return page


def beneficiary_list(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(SOCIAL_WORKER)
    page.goto(stack.structure_url("autun", "/beneficiaires/"))
    expect(page.get_by_role("table")).to_be_visible()
    return page


def creation_form_with_errors(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(SOCIAL_WORKER)
    page.goto(stack.structure_url("autun", "/beneficiaires/nouveau/"))
    referents = page.get_by_role("group", name=re.compile(r"^Agent\(s\) référent\(s\)"))
    referents.get_by_text("Karim BENALI", exact=True).click()  # untick the only referent
    page.get_by_label("Nom usuel").fill("Martin")
    page.get_by_label("Code postal").fill("714")
    page.get_by_label("Téléphone 1").fill("12 34")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("alert")).to_contain_text("Le dossier n'a pas été enregistré")
    return page


def search_with_close_spellings(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(SOCIAL_WORKER)
    page.goto(stack.structure_url("autun", "/beneficiaires/?recherche=eloize+lefebvre"))
    expect(page.get_by_role("status")).to_contain_text("orthographes proches")
    expect(page.get_by_role("table").get_by_role("link", name="LEFÈVRE-DUPONT")).to_be_visible()
    return page


def beneficiary_file(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(SOCIAL_WORKER)
    page.goto(stack.structure_url("autun", "/beneficiaires/?recherche=eloise+lefevre"))
    page.get_by_role("table").get_by_role("link", name="LEFÈVRE-DUPONT").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Éloïse LEFÈVRE-DUPONT")
    return page


def agent_list(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(MANAGER)
    page.goto(stack.structure_url("autun", "/utilisateurs/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Utilisateurs de la structure")
    return page


def national_structure_list(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(NATIONAL)
    page.goto(stack.public_url("/console/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Structures")
    return page


def refusal_page(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.anonymous()
    page.goto(stack.structure_url("autun", "/connexion/"))
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()
    choose_demo_identity(page, NOT_INVITED)
    expect(page).to_have_url(re.compile(r"/oidc/retour/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous n'avez pas accès à cet espace")
    return page


def not_found_page(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(SOCIAL_WORKER)
    response = page.goto(stack.structure_url("autun", "/beneficiaires/ZZZZZZZZZZ/"))
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    return page


def unknown_structure_page(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.anonymous()
    response = page.goto(stack.structure_url("inconnue", "/"))
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    return page


PAGES = [
    sign_in_page,
    beneficiary_list,
    search_with_close_spellings,
    creation_form_with_errors,
    beneficiary_file,
    agent_list,
    national_structure_list,
    refusal_page,
    not_found_page,
    unknown_structure_page,
]


@pytest.mark.parametrize("visit", PAGES, ids=[visit.__name__ for visit in PAGES])
def test_no_serious_accessibility_violation(
    visit: Callable[[Visitors, Stack], Page], visitors: Visitors, stack: Stack
) -> None:
    page = visit(visitors, stack)
    violations = axe_violations(page)
    if violations:
        # pytest shows this output with a failure, or with -rP, so minor violations show too.
        print(f"axe on {page.url}:\n{describe_violations(violations)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"{len(blocking)} serious or critical accessibility violation(s) on {page.url}:\n"
        + describe_violations(blocking)
    )


def api_documentation(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.anonymous()
    page.goto(stack.public_url("/api/nationale/docs/"))
    expect(page.locator("#swagger-ui .info .title")).to_be_visible()
    return page


def structure_statistics(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(MANAGER)
    page.goto(stack.structure_url("autun", "/statistiques/"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


def national_statistics(visitors: Visitors, stack: Stack) -> Page:
    page = visitors.signed_in(NATIONAL)
    page.goto(stack.public_url("/console/statistiques/"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


CSP_PAGES = [*PAGES, api_documentation, structure_statistics, national_statistics]


@pytest.mark.parametrize("visit", CSP_PAGES, ids=[visit.__name__ for visit in CSP_PAGES])
def test_no_content_security_policy_violation(
    visit: Callable[[Visitors, Stack], Page], visitors: Visitors, stack: Stack
) -> None:
    page = visit(visitors, stack)
    # DSFR's scripts run after the load event; let them finish before reading the violations.
    page.wait_for_load_state("networkidle")

    assert csp_violations(page) == []


def test_inline_style_is_reported_as_violation(visitors: Visitors, stack: Stack) -> None:
    page = sign_in_page(visitors, stack)

    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\"></p>')")

    expect(page.locator("p[style]")).to_have_count(1)
    page.wait_for_function("window.cspViolations.length > 0")
    assert csp_violations(page)[0].startswith("style-src-attr blocked inline")
