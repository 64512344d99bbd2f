from django.db import models


class AuditEvent(models.Model):
    """One change made in the structure: who, when, what, and the field-level differences.

    The actor is kept as an id and a label rather than a foreign key, so deleting or anonymising
    anything never deletes the trail.
    """

    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField("auteur", max_length=300)
    action = models.CharField("opération", max_length=60)
    target_type = models.CharField(max_length=60)
    target_id = models.BigIntegerField(null=True)
    beneficiary_id = models.BigIntegerField(null=True, db_index=True)
    # {field name: [old value, new value]} for updates, {field name: value} for creations.
    changes = models.JSONField(default=dict)
    # The beneficiary's version after this change, to show what changed since a form loaded.
    object_version = models.PositiveIntegerField(null=True)

    class Meta:
        verbose_name = "événement de l'historique"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"
