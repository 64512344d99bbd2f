"""Public-schema models of the national statistics: the monthly snapshot of each structure's
aggregates and the tokens of the national API's clients.

Nothing here is about a person: a snapshot row is a count (and, for the amount indicators, the
sum in euros over the aid requests counted) for one structure, one month, one indicator and one
category.
"""

import hashlib
import secrets

from django.db import models
from django.utils import timezone


class StatisticsSnapshot(models.Model):
    """One figure of one structure (or, with no structure, of the whole country) for a month.

    ``dimension`` is the category inside the indicator (a follow-up type code, a status, or
    ``type/medium`` and ``type/status`` for crossed ones), empty for an indicator without
    categories. ``suppressed`` is decided by
    ``tenants.national_statistics.publish`` after each refresh; a row starts suppressed, so a
    refresh interrupted before publication never shows an unchecked figure.
    """

    structure = models.ForeignKey(
        "tenants.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="statistics",
    )
    month = models.DateField("mois")
    indicator = models.CharField("indicateur", max_length=40)
    dimension = models.CharField("catégorie", max_length=130, blank=True)
    count = models.PositiveIntegerField("effectif")
    # Set on the amount indicators (aid_requested, aid_granted, aid_paid and their breakdowns by
    # type): the sum over the ``count`` aid requests, hidden with that count.
    amount = models.DecimalField(
        "montant (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    # TODO: drop these three columns once no running version reads them. They held the amounts
    # of the "aid_requests" rows, hidden with the count of requests opened, and are no longer
    # written.
    requested_amount = models.DecimalField(
        "montant demandé (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    granted_amount = models.DecimalField(
        "montant accordé (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    paid_amount = models.DecimalField(
        "montant payé (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    suppressed = models.BooleanField("secret statistique", default=True)
    refreshed_at = models.DateTimeField("calculé le", default=timezone.now)

    class Meta:
        verbose_name = "chiffre de la statistique nationale"
        ordering = ["month", "indicator", "dimension", "structure_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "month", "indicator", "dimension"],
                name="statistics_snapshot_unique_cell",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["month", "structure"], name="statistics_month_structure")]

    def __str__(self) -> str:
        return f"{self.structure_id or 'national'} {self.month:%Y-%m} {self.indicator}"


TOKEN_PREFIX = "ssn_"  # noqa: S105 (a marker, not a secret)


def hash_token(secret: str) -> str:
    """SHA-256 of the whole token: tokens are 256 random bits, so no slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


class NationalApiTokenQuerySet(models.QuerySet["NationalApiToken"]):
    def usable(self) -> "NationalApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class NationalApiToken(models.Model):
    """A secret given to one client of the national API. Only its hash is stored."""

    name = models.CharField("nom du client", max_length=150)
    # The first characters of the secret, shown in the console to tell tokens apart.
    prefix = models.CharField("début du jeton", max_length=16)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        "tenants.NationalUser",
        verbose_name="créé par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)

    objects = NationalApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "jeton de l'API nationale"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def issue(cls, name: str, created_by: object = None) -> tuple["NationalApiToken", str]:
        """Create a token and return it with its secret, which is never stored nor shown again."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            name=name,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_token(secret),
            created_by=created_by,
        )
        return token, secret

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


__all__ = ["NationalApiToken", "StatisticsSnapshot", "hash_token"]
