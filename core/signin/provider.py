"""The OpenID provider's metadata, read from its discovery document."""

import logging
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

_CACHE_SECONDS = 3600
_cache: dict[str, tuple[float, Any]] = {}


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered with an error or something unreadable."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


def _get_json(url: str) -> Any:
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"{url}: {error}") from error


def _cached(key: str, url: str) -> Any:
    cached = _cache.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    value = _get_json(url)
    _cache[key] = (time.monotonic() + _CACHE_SECONDS, value)
    return value


def metadata() -> ProviderMetadata:
    document = _cached("discovery", settings.OIDC_OP_DISCOVERY_URL)
    try:
        return ProviderMetadata(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            userinfo_endpoint=document["userinfo_endpoint"],
            jwks_uri=document["jwks_uri"],
            end_session_endpoint=document.get("end_session_endpoint", ""),
        )
    except (KeyError, TypeError) as error:
        raise ProviderUnavailable(f"Incomplete discovery document: {error}") from error


def signing_keys(refresh: bool = False) -> list[dict[str, Any]]:
    """Return the provider's public keys; ``refresh`` skips the cache after a key rotation."""
    if refresh:
        _cache.pop("jwks", None)
    keys = _cached("jwks", metadata().jwks_uri).get("keys", [])
    return list(keys)


def clear_cache() -> None:
    _cache.clear()
