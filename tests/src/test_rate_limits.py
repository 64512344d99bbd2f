"""Rate limits on sign-in and on the APIs: 429, in French, with Retry-After."""

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.test import Client


@pytest.fixture(autouse=True)
def _low_limits(settings) -> Iterator[None]:
    settings.RATE_LIMIT_SIGN_IN = "3/m"
    settings.RATE_LIMIT_API = "3/m"
    settings.TRUSTED_PROXY_COUNT = 0
    caches["rate_limits"].clear()
    yield
    caches["rate_limits"].clear()


def _statuses(client: Client, method: str, path: str, count: int, **extra) -> list[int]:
    return [getattr(client, method)(path, **extra).status_code for _ in range(count)]


def test_sign_in_start_is_limited(alpha):
    client = alpha.client()

    statuses = _statuses(client, "post", "/connexion/proconnect/", 4)

    assert 429 not in statuses[:3]
    assert statuses[3] == 429


def test_limited_sign_in_returns_french_page(alpha):
    client = alpha.client()
    _statuses(client, "post", "/connexion/proconnect/", 3)

    response = client.post("/connexion/proconnect/")

    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 60


def test_sign_in_callback_and_relay_are_limited(alpha):
    structure_statuses = _statuses(alpha.client(), "get", "/oidc/retour/", 4)
    public_statuses = _statuses(Client(HTTP_HOST="localhost"), "get", "/oidc/callback/", 1)

    assert structure_statuses[3] == 429
    # One address, one counter: the relay on the public host shares the sign-in limit.
    assert public_statuses == [429]


def test_other_client_address_is_not_limited(alpha):
    _statuses(alpha.client(), "post", "/connexion/proconnect/", 4)

    response = alpha.client().post("/connexion/proconnect/", REMOTE_ADDR="192.0.2.8")

    assert response.status_code != 429


def test_sign_in_page_itself_is_not_limited(alpha):
    statuses = _statuses(alpha.client(), "get", "/connexion/", 5)

    assert statuses == [200] * 5


def test_structure_api_returns_french_json_429(alpha):
    client = alpha.client("social_worker")
    _statuses(client, "get", "/api/beneficiaires/", 3)

    response = client.get("/api/beneficiaires/")

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Trop de requêtes en peu de temps")
    assert "3 requêtes par minute" in response.json()["detail"]
    assert 1 <= int(response["Retry-After"]) <= 60


def test_national_api_is_limited(db):
    client = Client(HTTP_HOST="localhost")
    _statuses(client, "get", "/api/nationale/statistiques/", 3)

    response = client.get("/api/nationale/statistiques/")

    assert response.status_code == 429
    assert response.json()["detail"].startswith("Trop de requêtes en peu de temps")


def test_forwarded_address_counts_behind_trusted_proxy(alpha, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = alpha.client()
    for _ in range(3):
        client.post("/connexion/proconnect/", HTTP_X_FORWARDED_FOR="198.51.100.1")

    limited = client.post("/connexion/proconnect/", HTTP_X_FORWARDED_FOR="198.51.100.1")
    other = client.post("/connexion/proconnect/", HTTP_X_FORWARDED_FOR="198.51.100.2")

    assert limited.status_code == 429
    assert other.status_code != 429


def test_forged_forwarded_address_is_ignored(alpha, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = alpha.client()
    for number in range(3):
        client.post(
            "/connexion/proconnect/", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}, 198.51.100.1"
        )

    response = client.post(
        "/connexion/proconnect/", HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.1"
    )

    assert response.status_code == 429
