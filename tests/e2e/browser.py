"""Playwright helpers for the end-to-end tests: launching Debian's Chromium, signing in through
the local OpenID provider's pages, and running axe-core from the copy that ships with
axe-playwright-python (no network access)."""

import re
from typing import Any

from axe_playwright_python.base import AXE_FILE_PATH
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from tests.e2e.stack import Stack

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every server of the stack is local: never go through a proxy from the environment.
    "--no-proxy-server",
]
DEFAULT_TIMEOUT_MS = 15_000
SIGN_IN_BUTTON = "S'identifier avec ProConnect"
# Impacts that fail the accessibility test. The test only prints "minor" and "moderate" ones.
BLOCKING_IMPACTS = {"serious", "critical"}
# WCAG 2.1 A and AA, the basis of the RGAA, plus axe's best practices.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}

_axe_script: str | None = None

# Records each Content-Security-Policy violation of a page in window.cspViolations. Playwright
# runs init scripts before the page's own scripts and outside the page's policy.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI}`
    + ` (${event.sourceFile || "page"}:${event.lineNumber})`
  );
});
"""


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)


def new_context(browser: Browser) -> BrowserContext:
    """Create a browser context without cookies, so without a session anywhere."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    return context


def choose_demo_identity(page: Page, email: str) -> None:
    """Sign in as the demo identity ``email`` on the provider's login page."""
    page.locator(f'form#demo-identities-form button[value="{email}"]').click()


def sign_in(page: Page, stack: Stack, email: str, slug: str | None = None) -> None:
    """Sign in as ``email`` on a structure's host, or on the national console without ``slug``.

    Leaves the page where the application sends the agent after signing in.
    """
    start = stack.structure_url(slug, "/connexion/") if slug else stack.public_url("/connexion/")
    page.goto(start)
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.provider_issuer)}/interaction/"))
    choose_demo_identity(page, email)
    home = stack.structure_url(slug, "/") if slug else stack.public_url("/")
    page.wait_for_url(re.compile(rf"^{re.escape(home)}"))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is and return its violations."""
    global _axe_script
    if _axe_script is None:
        _axe_script = AXE_FILE_PATH.read_text(encoding="utf-8")
    page.evaluate(_axe_script)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return results["violations"]


def csp_violations(page: Page) -> list[str]:
    """Return the Content-Security-Policy violations reported since the page loaded."""
    return page.evaluate("window.cspViolations || []")


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """Format each violation as its rule, impact and help text, then each element's selector."""
    lines = []
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    - {target}: {node['html'][:200]}")
    return "\n".join(lines)
