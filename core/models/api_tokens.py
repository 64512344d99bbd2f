"""Tokens that let another program use the structure's API ("jetons d'accès API")."""

from django.db import models

from core.enums import Role
from core.models.agents import Agent


class ApiToken(models.Model):
    """A secret an integration sends as ``Authorization: Bearer <secret>``.

    Only the SHA-256 hash of the secret is stored, so the secret is shown once, at creation.
    The token acts as the manager who created it, with the token's own role.
    """

    name = models.CharField("nom", max_length=100)
    role = models.CharField("rôle", max_length=30, choices=Role.choices)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the secret, shown in the list to tell tokens apart.
    prefix = models.CharField("début du jeton", max_length=16)
    created_by = models.ForeignKey(
        "core.Agent", verbose_name="créé par", on_delete=models.PROTECT, related_name="api_tokens"
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked = models.BooleanField("révoqué", default=False)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)

    class Meta:
        verbose_name = "jeton d'accès API"
        verbose_name_plural = "jetons d'accès API"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ApiTokenAgent(Agent):
    """The agent an API token acts as: its creator's row, with the token's role.

    Instances are built in memory by the token authentication and never saved, so the
    creator's own role is never overwritten. Audit rows take their label from ``full_name``,
    which names the token.
    """

    class Meta:
        proxy = True

    api_token: ApiToken

    @classmethod
    def for_token(cls, token: ApiToken) -> "ApiTokenAgent":
        creator = token.created_by
        agent = cls(
            pk=creator.pk,
            email=creator.email,
            first_name=creator.first_name,
            last_name=creator.last_name,
            role=token.role,
            is_active=creator.is_active and not token.revoked,
        )
        agent.api_token = token
        return agent

    @property
    def full_name(self) -> str:
        creator = f"{self.first_name} {self.last_name.upper()}".strip()
        return f"Jeton API « {self.api_token.name} » créé par {creator}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        raise TypeError("An API token's agent is built in memory and must not be saved.")
