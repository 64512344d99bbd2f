"""Creating, finding and revoking API tokens. Only the SHA-256 hash of a secret is stored."""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.enums import Role
from core.models import Agent, ApiToken
from core.services import audit

logger = logging.getLogger(__name__)

# Every secret starts with this, so a leaked one is easy to recognise in logs and scanners.
SECRET_PREFIX = "ssk_"  # noqa: S105 (a public marker, not a secret)
# Writing the last use on every request would turn each read into a write.
LAST_USE_PRECISION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(manager: Agent, name: str, role: Role | str) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored or shown again."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name,
            role=Role(role),
            key_hash=hash_secret(secret),
            prefix=secret[: len(SECRET_PREFIX) + 6],
            created_by=manager,
        )
        audit.record(manager, "create_api_token", token, {"name": name, "role": token.role})
    logger.info("API token %s created by agent %s", token.pk, manager.pk)
    return token, secret


def revoke_token(manager: Agent, token: ApiToken) -> None:
    if token.revoked:
        return
    with transaction.atomic():
        token.revoked = True
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked", "revoked_at"])
        audit.record(manager, "revoke_api_token", token, {"name": token.name})
    logger.info("API token %s revoked by agent %s", token.pk, manager.pk)


def find_token(secret: str) -> ApiToken | None:
    """Return the token whose secret is ``secret``, revoked or not, or None."""
    return (
        ApiToken.objects.select_related("created_by").filter(key_hash=hash_secret(secret)).first()
    )


def record_use(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
