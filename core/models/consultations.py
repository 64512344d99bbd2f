from django.db import models


class Consultation(models.Model):
    """One opening of a file by an agent, shown to the manager as "Qui a consulté ce dossier"."""

    beneficiary = models.ForeignKey(
        "core.Beneficiary", on_delete=models.CASCADE, related_name="consultations"
    )
    agent = models.ForeignKey("core.Agent", on_delete=models.PROTECT, related_name="+")
    consulted_at = models.DateTimeField("date", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "consultation"
        ordering = ["-consulted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.agent_id} → {self.beneficiary_id}"
