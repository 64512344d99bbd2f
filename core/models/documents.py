from django.contrib.postgres.fields import ArrayField
from django.db import models

from core.enums import DocumentTheme, DocumentType


def document_path(document: "Document", filename: str) -> str:
    # The storage prefixes the structure's schema; the name never repeats the original file
    # name, so no URL or path can be guessed from what the person's document was called.
    return f"documents/{document.beneficiary_id}/{document.storage_key}"


class Document(models.Model):
    """A file attached to a beneficiary's file: a proof, a form, a letter."""

    beneficiary = models.ForeignKey(
        "core.Beneficiary", on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField("type de document", max_length=20, choices=DocumentType.choices)
    themes = ArrayField(
        models.CharField(max_length=30, choices=DocumentTheme.choices),
        verbose_name="thèmes",
        default=list,
        blank=True,
    )
    is_confidential = models.BooleanField("confidentiel", default=False)
    name = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField("taille (octets)")
    storage_key = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to=document_path, max_length=300)
    created_by = models.ForeignKey("core.Agent", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("ajouté le", auto_now_add=True)

    class Meta:
        verbose_name = "document"
        ordering = ["kind", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
