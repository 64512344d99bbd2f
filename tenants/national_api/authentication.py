"""Token authentication of the national API's clients: ``Authorization: Bearer <token>``."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from tenants.models_statistics import NationalApiToken, hash_token

MISSING = (
    "Authentification requise : envoyez un jeton de l'API nationale dans l'en-tête "
    "« Authorization: Bearer <jeton> »."
)
INVALID = "Jeton invalide ou révoqué."
# last_used_at is written at most this often, so reading the API does not write each time.
LAST_USED_PRECISION = timedelta(minutes=5)


class NotAuthenticated(exceptions.NotAuthenticated):
    default_detail = MISSING


@dataclass
class NationalApiClient:
    """The API client that a valid token identifies, distinct from the console's users."""

    token: NationalApiToken
    is_authenticated: bool = True
    is_anonymous: bool = False

    def __str__(self) -> str:
        return self.token.name


class NationalTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[NationalApiClient, NationalApiToken] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword or len(header) != 2:
            raise exceptions.AuthenticationFailed(MISSING)
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(INVALID) from error
        token = NationalApiToken.objects.usable().filter(token_hash=hash_token(secret)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(INVALID)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            NationalApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return NationalApiClient(token), token

    def authenticate_header(self, request: Request) -> str:
        # A WWW-Authenticate header makes DRF answer 401 rather than 403.
        return 'Bearer realm="api-nationale"'


def french_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    from rest_framework.views import exception_handler

    if isinstance(exc, exceptions.NotAuthenticated):
        replacement = NotAuthenticated()
        replacement.auth_header = getattr(exc, "auth_header", None)  # type: ignore[attr-defined]
        exc = replacement
    return exception_handler(exc, context)
