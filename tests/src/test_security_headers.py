"""Security headers on the main pages, and no inline script or style that the
Content-Security-Policy would block."""

import json
import re
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django_tenants.utils import tenant_context

from core.services.beneficiaries import create_beneficiary
from core.signin import provider
from tests.src.subprocess_settings import PRODUCTION_REQUIRED, run_django

STRUCTURE_PAGES = [
    ("manager", "/tableau-de-bord/"),
    ("manager", "/beneficiaires/"),
    ("manager", "/beneficiaires/nouveau/"),
    ("manager", "/accompagnements/"),
    ("manager", "/statistiques/"),
    ("manager", "/commissions/"),
    ("manager", "/utilisateurs/"),
    ("manager", "/structure/"),
    ("manager", "/mon-compte/"),
    ("manager", "/notifications/"),
    ("manager", "/exports/beneficiaires/"),
    (None, "/connexion/"),
    (None, "/api/docs/"),
]
PUBLIC_PAGES = [
    "/",
    "/console/",
    "/console/structures/nouvelle/",
    "/console/statistiques/",
    "/console/journal/",
    "/api/nationale/docs/",
]

# An inline <script> (one without src, other than a JSON data block), a <style> element, a
# style attribute or an event handler attribute: all blocked by the policy.
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"
    r"|<style\b"
    r"|\sstyle=\""
    r"|\son[a-z]+=\"",
    re.IGNORECASE,
)


def _assert_security_headers(response) -> None:
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def _assert_no_inline_code(response) -> None:
    found = INLINE_CODE.findall(response.content.decode())
    assert found == []


@pytest.mark.parametrize(("role", "path"), STRUCTURE_PAGES)
def test_structure_page_has_security_headers(alpha, role, path):
    response = alpha.client(role).get(path)

    assert response.status_code == 200
    _assert_security_headers(response)
    _assert_no_inline_code(response)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_security_headers(national, path):
    response = national.get(path)

    assert response.status_code == 200
    _assert_security_headers(response)
    _assert_no_inline_code(response)


def test_public_sign_in_page_has_security_headers(db):
    response = Client(HTTP_HOST="localhost").get("/connexion/")

    assert response.status_code == 200
    _assert_security_headers(response)
    _assert_no_inline_code(response)


def test_beneficiary_file_has_no_inline_code(alpha):
    with tenant_context(alpha.structure):
        file = create_beneficiary(
            alpha.agents["social_worker"],
            {"usual_name": "Martin", "first_names": "Léa", "status": "active"},
            [alpha.agents["social_worker"]],
        )

    for tab in ["", "?onglet=historique", "?onglet=documents", "?onglet=foyer"]:
        response = alpha.client("social_worker").get(f"/beneficiaires/{file.file_number}/{tab}")
        assert response.status_code == 200
        _assert_security_headers(response)
        _assert_no_inline_code(response)


def test_form_action_allows_provider_and_service_hosts(alpha):
    policy = alpha.client().get("/connexion/")["Content-Security-Policy"]

    form_action = re.search(r"form-action ([^;]+)", policy).group(1).split()
    assert form_action == [
        "'self'",
        "http://localhost:8000",
        "http://*.localhost:8000",
        "http://localhost:9000",
    ]


def test_session_cookie_is_host_only_and_http_only(alpha, monkeypatch):
    endpoints = SimpleNamespace(authorization_endpoint="http://localhost:9000/authorize")
    monkeypatch.setattr(provider, "metadata", lambda: endpoints)
    client = alpha.client()

    client.post("/connexion/proconnect/")

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["domain"] == ""
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_production_cookies_and_hsts():
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_DOMAIN",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_DOMAIN",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "CONTENT_SECURITY_POLICY",
    ]
    script = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}))"
    )

    result = run_django(
        script,
        {
            **PRODUCTION_REQUIRED,
            "DJANGO_ENV": "production",
            "OIDC_OP_ISSUER": "https://proconnect.example.fr/api/v2",
        },
    )

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["SESSION_COOKIE_DOMAIN"] is None
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_DOMAIN"] is None
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == [
        "'self'",
        "https://suivi.example.fr",
        "https://*.suivi.example.fr",
        "https://proconnect.example.fr",
    ]
