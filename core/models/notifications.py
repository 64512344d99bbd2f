from django.db import models

from core.enums import NotificationKind


class Notification(models.Model):
    """Something an agent should know about: shown in the application and in the daily digest."""

    recipient = models.ForeignKey(
        "core.Agent", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField("type", max_length=20, choices=NotificationKind.choices)
    beneficiary = models.ForeignKey(
        "core.Beneficiary", on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    message = models.CharField("message", max_length=300)
    link = models.CharField(max_length=300, blank=True)
    # Deduplication key: the same event never notifies the same agent twice.
    key = models.CharField(max_length=120)
    is_read = models.BooleanField("lue", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set once the notification went out in a daily digest e-mail.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "notification"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], name="notification_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return self.message
