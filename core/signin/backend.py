"""Authentication backend for ProConnect, the State's OpenID Connect federation.

mozilla-django-oidc's backend trusts too much for ProConnect: it checks neither ``iss`` nor
``aud`` of the ID token, allows no clock skew, reads userinfo as JSON although ProConnect signs
it as a JWT, and its ``get_user`` ignores ``is_active``. This backend keeps its configuration
names and replaces the verification. Who may enter is decided here: an identity enters a
structure only if an active agent of that structure was invited with its e-mail address.
"""

import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from core.models import Agent
from core.signin import provider
from tenants.models import NationalUser

logger = logging.getLogger(__name__)

REQUIRED_CLAIMS = ("sub", "email")


class SignInFailed(Exception):
    """The sign-in could not be completed; ``reason`` selects the message shown."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class SignInRefused(Exception):
    """ProConnect vouched for the identity, but it has no active access here."""

    def __init__(self, claims: dict[str, Any], deactivated: bool) -> None:
        super().__init__("refused")
        self.claims = claims
        self.deactivated = deactivated


def on_public_site() -> bool:
    return connection.schema_name == get_public_schema_name()


class ProConnectBackend(OIDCAuthenticationBackend):
    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        # Sign-in goes through authenticate_code(), called by the callback view; Django's
        # generic authenticate() (a password form, say) never signs anyone in here.
        return None

    def authenticate_code(self, code: str, nonce: str) -> tuple[Any, str]:
        """Exchange ``code``, verify both signed responses; return the user and the ID token."""
        tokens = self._exchange_code(code)
        id_token = tokens.get("id_token")
        access_token = tokens.get("access_token")
        if not id_token or not access_token:
            raise SignInFailed("invalid_token", "token response without id_token or access_token")

        id_claims = self.verify_jwt(id_token, nonce=nonce)
        claims = self._fetch_userinfo(access_token)
        if claims.get("sub") != id_claims.get("sub"):
            raise SignInFailed("invalid_token", "userinfo sub differs from the ID token's")
        missing = [name for name in REQUIRED_CLAIMS if not claims.get(name)]
        if missing:
            raise SignInFailed("missing_claim", ", ".join(missing))

        return self._find_user(claims), id_token

    def _exchange_code(self, code: str) -> dict[str, Any]:
        endpoints = provider.metadata()
        payload = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback_url(),
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "client_secret": settings.OIDC_RP_CLIENT_SECRET,
        }
        try:
            response = requests.post(
                endpoints.token_endpoint, data=payload, timeout=settings.OIDC_TIMEOUT
            )
        except requests.RequestException as error:
            raise provider.ProviderUnavailable(str(error)) from error
        if response.status_code >= 500:
            raise provider.ProviderUnavailable(f"token endpoint returned {response.status_code}")
        if response.status_code != 200:
            # invalid_grant: the code expired, was already used or belongs to another client.
            raise SignInFailed("code_rejected", response.text[:200])
        try:
            return dict(response.json())
        except ValueError as error:
            raise SignInFailed("invalid_token", "token response is not JSON") from error

    def _fetch_userinfo(self, access_token: str) -> dict[str, Any]:
        endpoints = provider.metadata()
        try:
            response = requests.get(
                endpoints.userinfo_endpoint,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=settings.OIDC_TIMEOUT,
            )
        except requests.RequestException as error:
            raise provider.ProviderUnavailable(str(error)) from error
        if response.status_code != 200:
            raise SignInFailed("invalid_token", f"userinfo returned {response.status_code}")
        content_type = response.headers.get("content-type", "").lower()
        if not content_type.startswith("application/jwt"):
            raise SignInFailed("invalid_token", f"userinfo is {content_type}, not a signed JWT")
        return self.verify_jwt(response.text)

    def verify_jwt(self, token: str, nonce: str | None = None) -> dict[str, Any]:
        """Return the claims of ``token`` after checking signature, iss, aud, dates and nonce."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise SignInFailed("invalid_token", str(error)) from error
        if header.get("alg") != settings.OIDC_RP_SIGN_ALGO:
            raise SignInFailed("invalid_token", f"unexpected algorithm {header.get('alg')!r}")

        key = self._signing_key(header.get("kid"))
        required = ["iss", "aud", "sub"] + (["exp", "iat"] if nonce is not None else [])
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[settings.OIDC_RP_SIGN_ALGO],
                audience=settings.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_OP_ISSUER,
                leeway=settings.OIDC_LEEWAY_SECONDS,
                options={"require": required},
            )
        except jwt.InvalidTokenError as error:
            raise SignInFailed("invalid_token", str(error)) from error
        if nonce is not None and claims.get("nonce") != nonce:
            raise SignInFailed("invalid_token", "nonce mismatch")
        return dict(claims)

    def _signing_key(self, kid: str | None) -> Any:
        for refresh in (False, True):
            for jwk in provider.signing_keys(refresh=refresh):
                if jwk.get("kid") == kid and jwk.get("use", "sig") == "sig":
                    return jwt.PyJWK(jwk).key
        raise SignInFailed("invalid_token", f"no signing key with kid {kid!r}")

    def _find_user(self, claims: dict[str, Any]) -> Any:
        email = str(claims["email"]).strip().lower()
        if on_public_site():
            national = NationalUser.objects.filter(email=email).first()
            if national is None or not national.is_active:
                raise SignInRefused(claims, deactivated=national is not None)
            return national

        agent = Agent.objects.filter(email=email).first()
        if agent is None or not agent.is_active:
            raise SignInRefused(claims, deactivated=agent is not None)
        if agent.oidc_sub != claims["sub"]:
            agent.oidc_sub = str(claims["sub"])
            agent.save(update_fields=["oidc_sub", "updated_at"])
        return agent

    def get_user(self, user_id: Any) -> Any:
        """Return the active user of this site with that id, or None.

        Checked on every request, so deactivating an agent ends their open sessions too.
        """
        model = NationalUser if on_public_site() else Agent
        return model.objects.filter(pk=user_id, is_active=True).first()


def callback_url() -> str:
    """Return the single redirect URI registered at the provider, on the public domain."""
    from tenants.models import public_url

    return public_url("/oidc/callback/")
