from django.db import models


class Comment(models.Model):
    """A note between agents on an interview or an aid request."""

    followup = models.ForeignKey(
        "core.Followup", on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    help_request = models.ForeignKey(
        "core.HelpRequest", on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    author = models.ForeignKey("core.Agent", on_delete=models.PROTECT, related_name="+")
    content = models.TextField("commentaire")
    created_at = models.DateTimeField("date", auto_now_add=True)

    class Meta:
        verbose_name = "commentaire"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(followup__isnull=True) ^ models.Q(help_request__isnull=True),
                name="comment_on_exactly_one_item",
            ),
        ]

    def __str__(self) -> str:
        return f"Commentaire {self.pk}"
