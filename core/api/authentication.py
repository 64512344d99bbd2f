"""Authentication of API requests: a bearer token, or the agent's browser session."""

import logging
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.api.tokens import find_token, record_use
from core.models import ApiTokenAgent

logger = logging.getLogger(__name__)

REJECTED_CREDENTIALS = "Jeton d'accès invalide ou révoqué."


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <secret>`` with a token created on the "Accès API" page.

    Tokens live in the structure's schema, so a token of one structure is unknown on the host
    of another and gets 401.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiTokenAgent, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, secret = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        secret = secret.strip()
        if not secret or " " in secret:
            raise exceptions.AuthenticationFailed(
                "En-tête Authorization mal formé : écrivez « Bearer <jeton> »."
            )
        token = find_token(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(REJECTED_CREDENTIALS)
        agent = ApiTokenAgent.for_token(token)
        if token.revoked or not agent.is_active:
            # Revoked, or the manager who created it was deactivated.
            logger.warning("Rejected API token %s: revoked or creator deactivated", token.pk)
            raise exceptions.AuthenticationFailed(REJECTED_CREDENTIALS)
        record_use(token)
        return agent, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The agent's browser session, as DRF checks it, with the CSRF rejection in French.

    DRF checks the CSRF token only for writes: a session read needs none.
    """

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise exceptions.PermissionDenied(
                "Jeton CSRF absent ou invalide : une écriture par session doit envoyer le "
                "jeton CSRF dans l'en-tête X-CSRFToken. Une intégration utilise plutôt un "
                "jeton d'accès (Bearer)."
            ) from None


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = BearerTokenAuthentication
    name = "jeton"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton créé par le responsable de la structure, page « Accès API ».",
        }


class CsrfSessionScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = CsrfSessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "Session d'un agent connecté ; une écriture envoie aussi l'en-tête "
            "X-CSRFToken.",
        }
