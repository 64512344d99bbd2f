from django.db import models

from core.enums import FollowupTypeKind


class FollowupType(models.Model):
    """A kind of support the structure offers ("type d'accompagnement")."""

    name = models.CharField("nom", max_length=150, unique=True)
    kind = models.CharField("catégorie", max_length=20, choices=FollowupTypeKind.choices)
    # Code of the default catalogue entry this type was seeded from, empty for custom types.
    default_code = models.CharField(max_length=60, blank=True)
    is_proposed = models.BooleanField("proposé par la structure", default=True)

    class Meta:
        verbose_name = "type d'accompagnement"
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name
