"""The sign-in relay and the sign-out return on the public host, fed with hostile input."""

import pytest
from django.test import Client

from tests.helpers import as_server, page_text


def public() -> Client:
    return as_server(Client(HTTP_HOST="localhost"))


@pytest.mark.parametrize(
    "query",
    [
        "state=%00~x&code=y",
        "state=alpha%00~x&code=y",
        # Repeated parameters: the last value is the one read.
        "state=alpha~x&state=%00&code=y",
    ],
)
def test_relay_nul_byte_state(db, query):
    response = public().get(f"/oidc/callback/?{query}")

    assert response.status_code == 400
    assert "Requête incorrecte" in page_text(response)


def test_sign_out_return_nul_byte_state(db):
    response = public().get("/deconnexion/retour/?state=%00~x")

    assert response.status_code == 400
    assert "Requête incorrecte" in page_text(response)


@pytest.mark.parametrize(
    "method, path",
    [
        # A bookmarked or typed sign-out address.
        ("get", "/deconnexion/"),
        # A provider configured with response_mode=form_post.
        ("post", "/oidc/callback/"),
    ],
)
def test_wrong_method_french_page(db, method, path):
    response = getattr(public(), method)(path)

    assert response.status_code == 405
    assert "<h1>" in page_text(response), "blank page"
