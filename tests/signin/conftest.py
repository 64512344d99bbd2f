"""The local OpenID provider (deploy/oidc-provider, the npm package oidc-provider configured like
ProConnect), started once for the sign-in tests, and a browser-less walk through its pages."""

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from django.conf import settings
from django.test import Client

from core.signin import provider

PROVIDER_DIR = Path(settings.BASE_DIR) / "deploy" / "oidc-provider"
CALLBACK_URL = "http://localhost:8000/oidc/callback/"
POST_LOGOUT_URL = "http://localhost:8000/deconnexion/retour/"
# Short enough for the expired-code test to wait it out, long enough for every other test.
CODE_TTL_SECONDS = 4


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    port = _free_port()
    issuer = f"http://localhost:{port}"
    environment = {
        **os.environ,
        "OIDC_PROVIDER_PORT": str(port),
        "OIDC_PROVIDER_HOST": "127.0.0.1",
        "OIDC_PROVIDER_ISSUER": issuer,
        "OIDC_REDIRECT_URIS": CALLBACK_URL,
        "OIDC_POST_LOGOUT_REDIRECT_URIS": POST_LOGOUT_URL,
        "OIDC_CODE_TTL_SECONDS": str(CODE_TTL_SECONDS),
    }
    process = subprocess.Popen(
        ["node", str(PROVIDER_DIR / "server.mjs")],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{issuer}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("The local OpenID provider did not start.")
            time.sleep(0.2)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def oidc(oidc_provider, settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Point the application at the local provider for one test."""
    settings.OIDC_OP_ISSUER = oidc_provider
    settings.OIDC_OP_DISCOVERY_URL = f"{oidc_provider}/.well-known/openid-configuration"
    provider.clear_cache()
    yield oidc_provider
    provider.clear_cache()


def _form_action(page: str, form_id: str) -> str:
    match = re.search(rf'<form[^>]*action="([^"]+)"[^>]*id="{form_id}"', page) or re.search(
        rf'<form[^>]*id="{form_id}"[^>]*action="([^"]+)"', page
    )
    assert match, f"form {form_id} not found on the provider's page"
    return unescape(match.group(1))


def _follow_until(session: requests.Session, response: requests.Response, prefix: str) -> str:
    """Follow redirects until one leaves for ``prefix``; return that URL without visiting it."""
    for _ in range(10):
        location = response.headers.get("Location")
        if not location:
            return ""
        target = urljoin(response.url, location)
        if target.startswith(prefix):
            return target
        response = session.get(target, allow_redirects=False)
    raise AssertionError("too many redirects at the provider")


def sign_in_at_provider(authorize_url: str, identity: str | None = None, **custom: str) -> str:
    """Log in on the provider's page as a demo ``identity`` or a custom one.

    Returns the callback URL (with code and state) the provider sends the browser to.
    """
    session = requests.Session()
    response = session.get(authorize_url, allow_redirects=True)
    page = response.text
    if identity is not None:
        action = _form_action(page, "demo-identities-form")
        data = {"identity": identity}
    else:
        action = _form_action(page, "custom-identity-form")
        data = {"identity": "custom", **custom}
    response = session.post(urljoin(response.url, action), data=data, allow_redirects=False)
    callback = _follow_until(session, response, CALLBACK_URL)
    assert callback, "the provider did not send the browser back to the application"
    return callback


def local_path(url: str) -> str:
    """Return the path and query of ``url``, as the Django test client takes them."""
    return re.sub(r"^https?://[^/]+", "", url)


def start(client: Client) -> str:
    response = client.post("/connexion/proconnect/")
    assert response.status_code == 302, response.status_code
    return response["Location"]


def finish(structure_client: Client, callback_url: str) -> "object":
    """Walk the public relay, then the structure's callback; return the final response."""
    relay = Client(HTTP_HOST="localhost").get(local_path(callback_url))
    assert relay.status_code == 302, relay.status_code
    return structure_client.get(local_path(relay["Location"]))
