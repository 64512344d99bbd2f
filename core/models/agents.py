from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from core.enums import Role


class AgentManager(BaseUserManager["Agent"]):
    def get_by_natural_key(self, email: str) -> "Agent":
        return self.get(email=email.lower())


class Agent(AbstractBaseUser):
    """A person working in the structure, invited by its manager or by the national team.

    Agents never have a password: ProConnect proves who they are, and the invitation decides
    whether they may enter. Deactivated agents keep their row so the audit trail stays whole.
    """

    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=150)
    last_name = models.CharField("nom", max_length=150)
    role = models.CharField("rôle", max_length=30, choices=Role.choices)
    is_active = models.BooleanField("accès activé", default=True)
    # The last ProConnect subject seen. It changes when the agent's identity provider changes,
    # so the e-mail address, not this value, is the invitation key.
    oidc_sub = models.CharField(max_length=255, blank=True)
    invited_by_label = models.CharField("invité par", max_length=300, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]
    objects = AgentManager()

    is_national = False

    class Meta:
        verbose_name = "agent"
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}".strip()

    def has_usable_password(self) -> bool:
        return False
