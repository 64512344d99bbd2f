"""Public-schema models of a structure's lifecycle: the national audit trail and the
requests to delete a structure.

Rows name a structure by its slug, not by a foreign key, so they outlive its deletion.
"""

from typing import Any

from django.db import models

# The author shown for actions run with manage.py on a server, without a signed-in user.
COMMAND_LABEL = "commande sur le serveur"


class NationalAuditEvent(models.Model):
    """One action of the national team (or of a command) on a whole structure."""

    class Action(models.TextChoices):
        EXPORT = "export", "Export des données"
        RESTORE = "restore", "Restauration des données"
        SUSPEND = "suspend", "Suspension"
        REACTIVATE = "reactivate", "Réactivation"
        DELETION_REQUEST = "deletion_request", "Demande de suppression"
        DELETION_CANCEL = "deletion_cancel", "Annulation de la demande de suppression"
        DELETION = "deletion", "Suppression"

    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    # Kept when the national user's account is deleted: ``actor_label`` still names them.
    actor = models.ForeignKey(
        "tenants.NationalUser",
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField("auteur (libellé)", max_length=254)
    action = models.CharField("action", max_length=30, choices=Action.choices)
    structure_slug = models.CharField("identifiant de la structure", max_length=42, db_index=True)
    structure_name = models.CharField("nom de la structure", max_length=200)
    details = models.JSONField("détails", default=dict, blank=True)

    class Meta:
        verbose_name = "événement du journal national"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} de {self.structure_slug} par {self.actor_label}"

    @classmethod
    def record(
        cls, actor: Any, action: str, structure: Any, details: dict[str, Any] | None = None
    ) -> "NationalAuditEvent":
        """Record ``action`` on ``structure``; ``actor`` is None for a management command."""
        return cls.objects.create(
            actor=actor,
            actor_label=actor.email if actor is not None else COMMAND_LABEL,
            action=action,
            structure_slug=structure.slug,
            structure_name=structure.name,
            details=details or {},
        )


class StructureDeletionRequest(models.Model):
    """A national user's request to delete a structure, waiting for another one's confirmation.

    A structure has at most one request; it is replaced when requested again after it expired.
    """

    structure = models.OneToOneField(
        "tenants.Structure",
        verbose_name="structure",
        on_delete=models.CASCADE,
        related_name="deletion_request",
    )
    requested_by = models.ForeignKey(
        "tenants.NationalUser",
        verbose_name="demandée par",
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField("demandée le", auto_now_add=True)
    expires_at = models.DateTimeField("à confirmer avant le")
    # The export that the deletion relies on: the structure's data must leave with it first.
    export_event = models.ForeignKey(
        NationalAuditEvent,
        verbose_name="export préalable",
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "demande de suppression d'une structure"

    def __str__(self) -> str:
        return f"Suppression de {self.structure_id} demandée par {self.requested_by_id}"
