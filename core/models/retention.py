from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# Two years after the last contact with the person: the CNIL's retention guidance for social
# and medico-social follow-up files ("base active" of the reception and support processing).
DEFAULT_FILE_MONTHS = 24
DEFAULT_WARNING_DAYS = 30


def _months(label: str, default: int, maximum: int) -> models.PositiveSmallIntegerField:  # type: ignore[type-arg]
    return models.PositiveSmallIntegerField(
        label,
        default=default,
        validators=[MinValueValidator(1), MaxValueValidator(maximum)],
    )


class RetentionPolicy(models.Model):
    """Retention durations of the structure, one row per schema, read with ``load()``.

    The defaults other than the file's are product choices that the manager can change: a
    year for refused aid requests and for the consultation log, five years for the audit
    trail.
    """

    file_months = _months("durée de conservation des dossiers (mois)", DEFAULT_FILE_MONTHS, 120)
    refused_request_months = _months(
        "durée de conservation des demandes d'aide refusées (mois)", 12, 120
    )
    consultation_months = _months("durée de conservation des consultations (mois)", 12, 120)
    audit_months = _months("durée de conservation de l'historique des changements (mois)", 60, 240)
    warning_days = models.PositiveSmallIntegerField(
        "prévenir les référents (jours avant l'archivage)",
        default=DEFAULT_WARNING_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "durées de conservation"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="retention_policy_single_row"),
        ]

    def __str__(self) -> str:
        return "Durées de conservation"

    @classmethod
    def load(cls) -> "RetentionPolicy":
        """Return the structure's row, or the defaults (unsaved) when none was saved yet."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
