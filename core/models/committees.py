from django.db import models
from django.db.models import JSONField, Value

from core.enums import CommitteeKind


class Committee(models.Model):
    """A session of the structure's commission that examines aid requests and decides them."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Programmée"
        CLOSED = "closed", "Close"

    kind = models.CharField("instance", max_length=20, choices=CommitteeKind.choices)
    date = models.DateField("date de la séance")
    status = models.CharField(
        "statut", max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    closed_at = models.DateTimeField("close le", null=True, blank=True)
    closed_by = models.ForeignKey(
        "core.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    minutes = models.FileField("procès-verbal", upload_to="commissions/", blank=True)
    # The lines of the minutes as the session closed them, so that archiving a person can
    # rebuild the same minutes without their name. Empty for sessions closed before it existed.
    minutes_rows = models.JSONField(
        "lignes du procès-verbal", default=list, db_default=Value([], JSONField()), blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "séance de commission"
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} du {self.date:%d/%m/%Y}"
