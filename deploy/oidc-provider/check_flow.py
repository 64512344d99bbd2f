#!/usr/bin/env python3
"""End-to-end check of the local ProConnect-like OpenID Connect provider.

By default the script starts ``node server.mjs`` on a free local port with a
2-second authorization code lifetime, runs every check, then stops the server
with SIGTERM. With ``--issuer`` it checks a provider that is already running.
The client settings are then read from the same environment variables as the
server, with the same defaults: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
OIDC_REDIRECT_URIS, OIDC_POST_LOGOUT_REDIRECT_URIS and OIDC_CODE_TTL_SECONDS.

The redirect URIs are never contacted: the script stops at the redirect that
targets them and reads ``code`` and ``state`` from its Location header.

Usage (from the repository root, after ``npm ci`` in deploy/oidc-provider):
    .venv/bin/python deploy/oidc-provider/check_flow.py
    .venv/bin/python deploy/oidc-provider/check_flow.py --issuer http://localhost:9000

Requires the ``requests`` and ``pyjwt`` (with ``cryptography``) packages.
Exits with status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import requests

SCRIPT_DIR = Path(__file__).resolve().parent
IDENTITIES_FILE = SCRIPT_DIR / "identities.json"

SCOPES = "openid email given_name usual_name uid siret idp_id"
PROFILE_CLAIMS = ["email", "given_name", "usual_name", "uid", "siret", "organization_label", "idp_id"]
FREE_FORM_FIELDS = ["email", "given_name", "usual_name", "uid", "siret", "organization_label", "idp_id"]

# Hosts under .localhost resolve to the loopback interface, so even a client that
# followed these redirects would stay on this machine.
SPAWNED_REDIRECT_URI = "http://rp.localhost:8765/oidc/callback/"
SPAWNED_POST_LOGOUT_REDIRECT_URI = "http://rp.localhost:8765/deconnexion/retour/"
SPAWNED_CODE_TTL_SECONDS = 2

HTTP_TIMEOUT_SECONDS = 10
MAX_REDIRECTS = 10
STARTUP_TIMEOUT_SECONDS = 20
SHUTDOWN_TIMEOUT_SECONDS = 10


class CheckFailed(Exception):
    """Raised by a check whose expectation does not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_equal(actual, expected, label: str) -> None:
    if actual != expected:
        raise CheckFailed(f"{label}: expected {expected!r}, got {actual!r}")


@dataclass
class ProviderSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    code_ttl_seconds: int
    discovery: dict = field(default_factory=dict)
    jwks: jwt.PyJWKSet | None = None


# --- HTML forms -------------------------------------------------------------


@dataclass
class Form:
    form_id: str | None
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    """HTML parser that collects the forms of a page with their named inputs and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.html_lang: str | None = None
        self._current: Form | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        elif tag == "form":
            self._current = Form(
                form_id=attributes.get("id"),
                action=attributes.get("action", ""),
                method=attributes.get("method", "get").lower(),
            )
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attributes.get("name"):
            self._current.fields[attributes["name"]] = attributes.get("value") or ""
        elif tag == "button" and self._current is not None and attributes.get("name"):
            self._current.buttons.append((attributes["name"], attributes.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def parse_page(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


def find_form(page: FormParser, form_id: str) -> Form:
    for form in page.forms:
        if form.form_id == form_id:
            return form
    raise CheckFailed(f"no form with id {form_id!r}; forms found: {[f.form_id for f in page.forms]}")


# --- Browser-like navigation --------------------------------------------------


@dataclass
class Outcome:
    """End of a navigation: either a redirect to the client or a page of the provider."""

    callback_url: str | None = None
    page: requests.Response | None = None

    @property
    def callback_params(self) -> dict[str, str]:
        expect(self.callback_url is not None, f"expected a redirect to the client, got HTTP {self.page and self.page.status_code}")
        return {name: values[0] for name, values in parse_qs(urlsplit(self.callback_url).query).items()}


def navigate(session: requests.Session, method: str, url: str, stop_prefixes: list[str], data=None) -> Outcome:
    """Send a request and follow redirects until a page, or a redirect to one of stop_prefixes."""
    for _ in range(MAX_REDIRECTS):
        response = session.request(method, url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT_SECONDS)
        location = response.headers.get("Location")
        if response.status_code in (301, 302, 303, 307, 308) and location:
            target = urljoin(url, location)
            if any(target.startswith(prefix) for prefix in stop_prefixes):
                return Outcome(callback_url=target)
            method, url, data = "GET", target, None
            continue
        return Outcome(page=response)
    raise CheckFailed(f"more than {MAX_REDIRECTS} redirects starting from {url}")


def authorization_url(settings: ProviderSettings, state: str, nonce: str, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": settings.redirect_uri,
        "scope": SCOPES,
        "state": state,
        "nonce": nonce,
        "acr_values": "eidas1",
        **extra,
    }
    return f"{settings.discovery['authorization_endpoint']}?{urlencode(params)}"


@dataclass
class SignIn:
    state: str
    nonce: str
    params: dict[str, str]


def open_login_page(session: requests.Session, settings: ProviderSettings, **extra) -> tuple[requests.Response, str, str]:
    state, nonce = secrets.token_hex(16), secrets.token_hex(16)
    outcome = navigate(session, "GET", authorization_url(settings, state, nonce, **extra), [settings.redirect_uri])
    expect(outcome.page is not None, f"expected the login page, got a redirect to {outcome.callback_url}")
    expect_equal(outcome.page.status_code, 200, "login page status")
    return outcome.page, state, nonce


def submit_form(session: requests.Session, settings: ProviderSettings, page: requests.Response, form: Form, data: dict) -> Outcome:
    expect_equal(form.method, "post", f"method of form {form.form_id}")
    return navigate(session, "POST", urljoin(page.url, form.action), [settings.redirect_uri], data=data)


def sign_in(session: requests.Session, settings: ProviderSettings, *, demo_email: str | None = None,
            free_form: dict | None = None, **extra) -> SignIn:
    """Sign in with a demo identity button or the free form, and return state, nonce and callback."""
    page, state, nonce = open_login_page(session, settings, **extra)
    parsed = parse_page(page.text)
    if demo_email is not None:
        form = find_form(parsed, "demo-identities-form")
        outcome = submit_form(session, settings, page, form, {"identity": demo_email})
    else:
        form = find_form(parsed, "custom-identity-form")
        outcome = submit_form(session, settings, page, form, {**form.fields, **(free_form or {})})
    params = outcome.callback_params
    expect_equal(params.get("state"), state, "state in the callback")
    expect("code" in params, f"no code in the callback {outcome.callback_url}")
    return SignIn(state=state, nonce=nonce, params=params)


# --- Token and userinfo helpers ----------------------------------------------


def exchange_code(settings: ProviderSettings, code: str, **extra) -> requests.Response:
    """Call the token endpoint with client_secret_post authentication, as ProConnect documents."""
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.redirect_uri,
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        **extra,
    }
    return requests.post(settings.discovery["token_endpoint"], data=body, timeout=HTTP_TIMEOUT_SECONDS)


def decode_signed_jwt(settings: ProviderSettings, token: str) -> dict:
    """Verify an RS256 JWT with the provider's JWKS, its issuer and its audience."""
    header = jwt.get_unverified_header(token)
    expect_equal(header.get("alg"), "RS256", "JWT alg header")
    keys = [key for key in settings.jwks.keys if key.key_id == header.get("kid")]
    expect(len(keys) == 1, f"kid {header.get('kid')!r} not found in the JWKS")
    return jwt.decode(
        token,
        key=keys[0].key,
        algorithms=["RS256"],
        audience=settings.client_id,
        issuer=settings.issuer,
    )


def tokens_for(settings: ProviderSettings, sign_in_result: SignIn) -> tuple[dict, dict]:
    """Exchange the code and return the token response and the verified ID token claims."""
    response = exchange_code(settings, sign_in_result.params["code"])
    expect_equal(response.status_code, 200, f"token endpoint status ({response.text})")
    token_response = response.json()
    id_token = decode_signed_jwt(settings, token_response["id_token"])
    expect_equal(id_token.get("nonce"), sign_in_result.nonce, "nonce in the ID token")
    return token_response, id_token


def fetch_userinfo(settings: ProviderSettings, access_token: str) -> tuple[requests.Response, dict]:
    response = requests.get(
        settings.discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    expect_equal(response.status_code, 200, f"userinfo status ({response.text})")
    content_type = response.headers.get("Content-Type", "")
    expect(content_type.startswith("application/jwt"), f"userinfo Content-Type is {content_type!r}, expected application/jwt")
    return response, decode_signed_jwt(settings, response.text)


def load_demo_identities() -> list[dict]:
    return json.loads(IDENTITIES_FILE.read_text(encoding="utf-8"))


def demo_identity(email: str) -> dict:
    for identity in load_demo_identities():
        if identity["email"] == email:
            return identity
    raise CheckFailed(f"{email} is not in {IDENTITIES_FILE}")


def subject_after_free_form_login(settings: ProviderSettings, fields: dict) -> str:
    with requests.Session() as session:
        result = sign_in(session, settings, free_form=fields)
    _, id_token = tokens_for(settings, result)
    return id_token["sub"]


# --- Checks -------------------------------------------------------------------

CHECKS = []


def check(function):
    CHECKS.append(function)
    return function


@check
def health_returns_ok(settings):
    response = requests.get(f"{settings.issuer}/health", timeout=HTTP_TIMEOUT_SECONDS)
    expect_equal(response.status_code, 200, "health status")
    expect_equal(response.text, "ok", "health body")


@check
def discovery_mirrors_proconnect(settings):
    discovery = settings.discovery
    expect_equal(discovery["issuer"], settings.issuer, "issuer")
    for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"]:
        expect(endpoint in discovery, f"{endpoint} missing from the discovery document")
    expect_equal(discovery["scopes_supported"], SCOPES.split(), "scopes_supported")
    for claim in ["sub", *PROFILE_CLAIMS, "acr"]:
        expect(claim in discovery["claims_supported"], f"{claim} missing from claims_supported")
    expect_equal(discovery["token_endpoint_auth_methods_supported"], ["client_secret_post"], "token auth methods")
    expect_equal(discovery["response_types_supported"], ["code"], "response_types_supported")
    expect("RS256" in discovery["id_token_signing_alg_values_supported"], "RS256 missing for ID tokens")
    expect("RS256" in discovery["userinfo_signing_alg_values_supported"], "RS256 missing for userinfo")
    expect("eidas1" in discovery["acr_values_supported"], "eidas1 missing from acr_values_supported")


@check
def jwks_exposes_public_rsa_key(settings):
    keys = requests.get(settings.discovery["jwks_uri"], timeout=HTTP_TIMEOUT_SECONDS).json()["keys"]
    expect_equal(len(keys), 1, "number of keys in the JWKS")
    key = keys[0]
    expect_equal((key["kty"], key.get("use"), key.get("alg")), ("RSA", "sig", "RS256"), "key type, use and alg")
    expect(key.get("kid"), "the key has no kid")
    private_members = {"d", "p", "q", "dp", "dq", "qi"} & key.keys()
    expect(not private_members, f"the JWKS leaks private key members {sorted(private_members)}")


@check
def login_page_lists_identities(settings):
    with requests.Session() as session:
        page, _, _ = open_login_page(session, settings)
    expect(page.headers.get("Content-Type", "").startswith("text/html"), "login page is not HTML")
    parsed = parse_page(page.text)
    expect_equal(parsed.html_lang, "fr", "lang attribute")
    expect("Connexion de test ProConnect" in page.text, "title 'Connexion de test ProConnect' missing")
    demo_form = find_form(parsed, "demo-identities-form")
    expect_equal(
        [value for name, value in demo_form.buttons if name == "identity"],
        [identity["email"] for identity in load_demo_identities()],
        "demo identity buttons",
    )
    custom_form = find_form(parsed, "custom-identity-form")
    for name in ["identity", *FREE_FORM_FIELDS]:
        expect(name in custom_form.fields, f"free form field {name!r} missing")
    expect("Autre identité" in page.text, "'Autre identité' heading missing")
    action_path = urlsplit(demo_form.action).path
    expect(action_path.startswith("/interaction/") and action_path.endswith("/login"), f"unexpected form action {demo_form.action}")


@check
def code_flow_with_demo_identity(settings):
    identity = demo_identity("marie.dupont@demo.suivi-social.test")
    with requests.Session() as session:
        result = sign_in(session, settings, demo_email=identity["email"])
    expect_equal(result.params.get("iss"), settings.issuer, "iss in the callback (RFC 9207)")

    token_response, id_token = tokens_for(settings, result)
    expect_equal(token_response.get("token_type"), "Bearer", "token_type")
    expect_equal(id_token.get("acr"), "eidas1", "acr in the ID token")
    expect(len(id_token["sub"]) == 64, f"sub is not a 64-character hex digest: {id_token['sub']!r}")
    for claim in PROFILE_CLAIMS:
        expect(claim not in id_token, f"{claim} should only be in the userinfo response, not the ID token")

    _, userinfo = fetch_userinfo(settings, token_response["access_token"])
    expect_equal(userinfo["sub"], id_token["sub"], "userinfo sub")
    for claim in PROFILE_CLAIMS:
        expect_equal(userinfo.get(claim), identity[claim], f"userinfo {claim}")


@check
def code_reuse_is_rejected(settings):
    with requests.Session() as session:
        result = sign_in(session, settings, demo_email="karim.benali@demo.suivi-social.test")
    first = exchange_code(settings, result.params["code"])
    expect_equal(first.status_code, 200, "first exchange status")
    second = exchange_code(settings, result.params["code"])
    expect_equal(second.status_code, 400, "second exchange status")
    expect_equal(second.json().get("error"), "invalid_grant", "second exchange error")


@check
def wrong_client_secret_is_rejected(settings):
    with requests.Session() as session:
        result = sign_in(session, settings, demo_email="karim.benali@demo.suivi-social.test")
    response = exchange_code(settings, result.params["code"], client_secret="not-the-secret")
    expect_equal(response.status_code, 401, "status with a wrong secret")
    expect_equal(response.json().get("error"), "invalid_client", "error with a wrong secret")


@check
def expired_code_is_rejected(settings):
    with requests.Session() as session:
        result = sign_in(session, settings, demo_email="lucie.martin@demo.suivi-social.test")
    # Expiry is checked with one-second precision, so wait one extra second.
    time.sleep(settings.code_ttl_seconds + 1.5)
    response = exchange_code(settings, result.params["code"])
    expect_equal(response.status_code, 400, "status for an expired code")
    expect_equal(response.json().get("error"), "invalid_grant", "error for an expired code")


@check
def existing_session_skips_login_page(settings):
    with requests.Session() as session:
        first = sign_in(session, settings, demo_email="lucie.martin@demo.suivi-social.test")
        _, first_id_token = tokens_for(settings, first)

        state, nonce = secrets.token_hex(16), secrets.token_hex(16)
        outcome = navigate(session, "GET", authorization_url(settings, state, nonce), [settings.redirect_uri])
        params = outcome.callback_params
        expect_equal(params.get("state"), state, "state of the single sign-on callback")
        second = SignIn(state=state, nonce=nonce, params=params)
        _, second_id_token = tokens_for(settings, second)
        expect_equal(second_id_token["sub"], first_id_token["sub"], "sub after single sign-on")

        # prompt=login forces the login page even with a session.
        page, _, _ = open_login_page(session, settings, prompt="login")
        expect("custom-identity-form" in page.text, "prompt=login did not show the login page")


@check
def free_form_without_email_has_no_email_claim(settings):
    fields = {
        "email": "",
        "given_name": "Sans",
        "usual_name": "Courriel",
        "siret": "00000004200010",
        "organization_label": "Organisation de test",
    }
    with requests.Session() as session:
        result = sign_in(session, settings, free_form=fields)
    token_response, _ = tokens_for(settings, result)
    _, userinfo = fetch_userinfo(settings, token_response["access_token"])
    expect("email" not in userinfo, f"userinfo contains an email claim: {userinfo.get('email')!r}")
    expect_equal(userinfo.get("given_name"), "Sans", "userinfo given_name")
    expect_equal(userinfo.get("usual_name"), "Courriel", "userinfo usual_name")
    expect_equal(userinfo.get("siret"), "00000004200010", "userinfo siret")
    expect_equal(userinfo.get("organization_label"), "Organisation de test", "userinfo organization_label")
    expect(userinfo.get("uid"), "userinfo has no uid although it is derived when left empty")
    expect(userinfo.get("idp_id"), "userinfo has no idp_id although it has a default")


@check
def free_form_claims_reach_userinfo(settings):
    fields = {
        "email": "agent.libre@demo.suivi-social.test",
        "given_name": "Agent",
        "usual_name": "Libre",
        "uid": "free-form-uid",
        "siret": "00000002600013",
        "organization_label": "CCAS de Nevers (démo)",
        "idp_id": "free-form-idp",
    }
    with requests.Session() as session:
        result = sign_in(session, settings, free_form=fields)
    token_response, _ = tokens_for(settings, result)
    _, userinfo = fetch_userinfo(settings, token_response["access_token"])
    for name, value in fields.items():
        expect_equal(userinfo.get(name), value, f"userinfo {name}")


@check
def sub_depends_on_email_and_idp_id(settings):
    base = {"email": "meme.agent@demo.suivi-social.test", "given_name": "Même", "usual_name": "Agent",
            "idp_id": "idp-alpha"}
    first = subject_after_free_form_login(settings, base)
    again = subject_after_free_form_login(settings, {**base, "given_name": "Autre prénom"})
    upper_case = subject_after_free_form_login(settings, {**base, "email": base["email"].upper()})
    other_idp = subject_after_free_form_login(settings, {**base, "idp_id": "idp-beta"})
    expect_equal(again, first, "sub for the same email and idp_id")
    expect_equal(upper_case, first, "sub for the same email in upper case")
    expect(other_idp != first, "sub did not change with idp_id")


@check
def requested_acr_is_returned(settings):
    acr = "https://proconnect.gouv.fr/assurance/self-asserted-2fa"
    with requests.Session() as session:
        result = sign_in(session, settings, demo_email="karim.benali@demo.suivi-social.test", acr_values=acr)
    _, id_token = tokens_for(settings, result)
    expect_equal(id_token.get("acr"), acr, "acr in the ID token")


@check
def pkce_is_optional_but_enforced_when_used(settings):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    for code_verifier, expected_status in [(verifier, 200), ("wrong-" + verifier, 400)]:
        with requests.Session() as session:
            result = sign_in(session, settings, demo_email="karim.benali@demo.suivi-social.test",
                             code_challenge=challenge, code_challenge_method="S256")
        response = exchange_code(settings, result.params["code"], code_verifier=code_verifier)
        expect_equal(response.status_code, expected_status, f"token status with code_verifier {code_verifier[:10]}…")


@check
def abort_returns_access_denied(settings):
    with requests.Session() as session:
        page, state, _ = open_login_page(session, settings)
        form = find_form(parse_page(page.text), "abort-form")
        params = submit_form(session, settings, page, form, form.fields).callback_params
    expect_equal(params.get("error"), "access_denied", "error in the callback")
    expect_equal(params.get("state"), state, "state in the error callback")


@check
def logout_redirects_with_state(settings):
    with requests.Session() as session:
        result = sign_in(session, settings, demo_email="nathalie.roux@demo.suivi-social.test")
        token_response, _ = tokens_for(settings, result)

        logout_state = secrets.token_hex(16)
        query = urlencode({
            "id_token_hint": token_response["id_token"],
            "state": logout_state,
            "post_logout_redirect_uri": settings.post_logout_redirect_uri,
        })
        stop = [settings.post_logout_redirect_uri]
        outcome = navigate(session, "GET", f"{settings.discovery['end_session_endpoint']}?{query}", stop)
        expect(outcome.page is not None and outcome.page.status_code == 200, "end_session did not return the logout form page")
        form = find_form(parse_page(outcome.page.text), "op.logoutForm")
        expect_equal(form.fields.get("logout"), "yes", "logout input of the logout form")

        # A browser submits this form with JavaScript. A plain HTTP client posts its hidden inputs.
        response = session.post(urljoin(outcome.page.url, form.action), data=form.fields,
                                allow_redirects=False, timeout=HTTP_TIMEOUT_SECONDS)
        expect_equal(response.status_code, 303, "logout confirmation status")
        location = response.headers["Location"]
        expect(location.startswith(settings.post_logout_redirect_uri), f"logout redirected to {location}")
        expect_equal(parse_qs(urlsplit(location).query).get("state"), [logout_state], "state after logout")

        # The provider session is gone, so the next sign-in shows the login page again.
        page, _, _ = open_login_page(session, settings)
        expect("custom-identity-form" in page.text, "login page not shown after logout")


@check
def logout_rejects_unregistered_redirect(settings):
    with requests.Session() as session:
        result = sign_in(session, settings, demo_email="inconnu@demo.suivi-social.test")
        token_response, _ = tokens_for(settings, result)
        query = urlencode({
            "id_token_hint": token_response["id_token"],
            "state": secrets.token_hex(16),
            "post_logout_redirect_uri": "http://rp.localhost:8765/not-registered/",
        })
        response = session.get(f"{settings.discovery['end_session_endpoint']}?{query}",
                               allow_redirects=False, timeout=HTTP_TIMEOUT_SECONDS)
    expect_equal(response.status_code, 400, "status for an unregistered post_logout_redirect_uri")


# --- Provider process ----------------------------------------------------------


def free_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_provider() -> tuple[subprocess.Popen, ProviderSettings]:
    if not (SCRIPT_DIR / "node_modules" / "oidc-provider").is_dir():
        sys.exit(f"oidc-provider is not installed: run `npm ci` in {SCRIPT_DIR} first")
    port = free_local_port()
    settings = ProviderSettings(
        issuer=f"http://localhost:{port}",
        client_id="suivi-social",
        client_secret="check-flow-secret",
        redirect_uri=SPAWNED_REDIRECT_URI,
        post_logout_redirect_uri=SPAWNED_POST_LOGOUT_REDIRECT_URI,
        code_ttl_seconds=SPAWNED_CODE_TTL_SECONDS,
    )
    env = {
        **os.environ,
        "OIDC_PROVIDER_PORT": str(port),
        "OIDC_PROVIDER_HOST": "127.0.0.1",
        "OIDC_PROVIDER_ISSUER": settings.issuer,
        "OIDC_CLIENT_ID": settings.client_id,
        "OIDC_CLIENT_SECRET": settings.client_secret,
        "OIDC_REDIRECT_URIS": settings.redirect_uri,
        "OIDC_POST_LOGOUT_REDIRECT_URIS": settings.post_logout_redirect_uri,
        "OIDC_CODE_TTL_SECONDS": str(settings.code_ttl_seconds),
        "OIDC_IDENTITIES_FILE": str(IDENTITIES_FILE),
    }
    process = subprocess.Popen([os.environ.get("NODE", "node"), str(SCRIPT_DIR / "server.mjs")], env=env)
    return process, settings


def wait_until_healthy(settings: ProviderSettings, process: subprocess.Popen | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"the provider exited with status {process.returncode} during start-up")
        try:
            if requests.get(f"{settings.issuer}/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    sys.exit(f"the provider at {settings.issuer} was not healthy after {STARTUP_TIMEOUT_SECONDS} s")


def stop_provider(process: subprocess.Popen) -> bool:
    """Send SIGTERM and return True when the provider exits with status 0 in time."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS) == 0
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False


def settings_from_environment(issuer: str) -> ProviderSettings:
    """Read the client settings with the same variables and defaults as server.mjs."""
    def first(name: str, default: str) -> str:
        return os.environ.get(name, default).split(",")[0].strip()

    return ProviderSettings(
        issuer=issuer.rstrip("/"),
        client_id=os.environ.get("OIDC_CLIENT_ID", "suivi-social"),
        client_secret=os.environ.get("OIDC_CLIENT_SECRET", "suivi-social-dev-secret"),
        redirect_uri=first("OIDC_REDIRECT_URIS", "http://localhost:8000/oidc/callback/"),
        post_logout_redirect_uri=first("OIDC_POST_LOGOUT_REDIRECT_URIS", "http://localhost:8000/deconnexion/retour/"),
        code_ttl_seconds=int(os.environ.get("OIDC_CODE_TTL_SECONDS", "60")),
    )


def run_checks(settings: ProviderSettings, skipped: set[str]) -> tuple[int, int]:
    settings.discovery = requests.get(
        f"{settings.issuer}/.well-known/openid-configuration", timeout=HTTP_TIMEOUT_SECONDS
    ).json()
    settings.jwks = jwt.PyJWKSet.from_dict(
        requests.get(settings.discovery["jwks_uri"], timeout=HTTP_TIMEOUT_SECONDS).json()
    )
    passed = failed = 0
    for function in CHECKS:
        name = function.__name__
        if name in skipped:
            print(f"SKIP {name}")
            continue
        try:
            function(settings)
        except (CheckFailed, requests.RequestException, jwt.PyJWTError, KeyError, ValueError) as error:
            failed += 1
            print(f"FAIL {name}: {type(error).__name__}: {error}")
        else:
            passed += 1
            print(f"PASS {name}")
    return passed, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", help="check a running provider at this issuer URL instead of starting one")
    parser.add_argument("--skip-expired-code", action="store_true",
                        help="skip the expired-code check, which waits OIDC_CODE_TTL_SECONDS + 1.5 seconds")
    args = parser.parse_args()

    skipped = {"expired_code_is_rejected"} if args.skip_expired_code else set()
    process = None
    if args.issuer:
        settings = settings_from_environment(args.issuer)
    else:
        process, settings = start_provider()

    try:
        wait_until_healthy(settings, process)
        passed, failed = run_checks(settings, skipped)
    finally:
        stopped_cleanly = stop_provider(process) if process is not None else None

    if stopped_cleanly is not None:
        if stopped_cleanly:
            passed += 1
            print("PASS provider_exits_cleanly_on_sigterm")
        else:
            failed += 1
            print(f"FAIL provider_exits_cleanly_on_sigterm: exit status {process.returncode}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
