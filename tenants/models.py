"""Public-schema models: structures (the tenants), their domains, the national team and the
sign-in directory. Nothing here is about a person helped by a structure."""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

siret_validator = RegexValidator(r"^[0-9]{14}$", "Un numéro SIRET comporte 14 chiffres.")
siren_validator = RegexValidator(r"^[0-9]{9}$", "Un numéro SIREN comporte 9 chiffres.")
insee_code_validator = RegexValidator(
    r"^([0-9]{5}|2[AB][0-9]{3})$",
    "Un code INSEE de commune comporte 5 caractères, par exemple 71014.",
)
# A name goes into e-mail subjects, where a line break is refused by the mail library.
single_line_validator = RegexValidator(
    r"[\x00-\x1f\x7f]",
    "Ce champ ne peut contenir ni retour à la ligne ni caractère de contrôle.",
    inverse_match=True,
)
slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{1,40}[a-z0-9]$",
    "L'identifiant ne peut contenir que des lettres minuscules sans accent, des chiffres et des "
    "tirets, commence par une lettre et compte de 3 à 42 caractères.",
)

# Subdomains that must never name a structure: the public schema, the template schemas, and
# names people could mistake for the platform's own pages.
RESERVED_SLUGS = {
    "public",
    "www",
    "api",
    "admin",
    "console",
    "static",
    "media",
    "support",
    "template",
    "information-schema",
}


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS or value.startswith(("pg-", "template-")):
        raise ValidationError(f"L'identifiant « {value} » est réservé : choisissez-en un autre.")


class Structure(TenantMixin):
    """A CCAS, CIAS, commune or association using the service, with its own schema."""

    class Kind(models.TextChoices):
        CCAS = "ccas", "CCAS"
        CIAS = "cias", "CIAS"
        COMMUNE = "commune", "Commune"
        ASSOCIATION = "association", "Association"

    class Status(models.TextChoices):
        PROVISIONING = "provisioning", "En cours de création"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspendue"

    # The schema is created by tenants.provisioning, never by save().
    auto_create_schema = False

    slug = models.CharField(
        "identifiant",
        max_length=42,
        unique=True,
        validators=[slug_validator, validate_slug_not_reserved],
    )
    name = models.CharField("nom", max_length=200, validators=[single_line_validator])
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    sirets = ArrayField(
        models.CharField(max_length=14, validators=[siret_validator]),
        verbose_name="numéros SIRET",
        default=list,
    )
    insee_code = models.CharField(
        "code INSEE de la commune", max_length=5, blank=True, validators=[insee_code_validator]
    )
    epci_siren = models.CharField(
        "SIREN de l'EPCI", max_length=9, blank=True, validators=[siren_validator]
    )
    address = models.TextField("adresse")
    phone = models.CharField("téléphone", max_length=30, blank=True)
    email = models.EmailField("adresse e-mail", blank=True)
    status = models.CharField(
        "statut", max_length=20, choices=Status.choices, default=Status.PROVISIONING
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    class Meta:
        verbose_name = "structure"
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(insee_code="") & models.Q(epci_siren="")),
                name="structure_has_insee_code_or_epci_siren",
                violation_error_message=(
                    "Indiquez le code INSEE de la commune ou le SIREN de l'EPCI."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def host(self) -> str:
        return f"{self.slug}.{settings.BASE_DOMAIN}"

    @property
    def url(self) -> str:
        """The structure's address, as agents type it in their browser."""
        return build_url(self.host)


class Domain(DomainMixin):
    class Meta:
        verbose_name = "domaine"


class NationalUserManager(BaseUserManager["NationalUser"]):
    def get_by_natural_key(self, email: str) -> "NationalUser":
        return self.get(email=email.lower())


class NationalUser(AbstractBaseUser):
    """A member of the national team, who signs in on the public domain only."""

    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    objects = NationalUserManager()

    class Meta:
        verbose_name = "membre de l'équipe nationale"
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.email = self.email.lower()
        super().save(*args, **kwargs)

    # National users never sign in with a password; ProConnect proves who they are.
    def has_usable_password(self) -> bool:
        return False

    is_national = True


class DirectoryEntry(models.Model):
    """One invitation of an e-mail address to a structure, mirrored from the structure's agents.

    The sign-in page reads it to tell a refused person where they are invited instead.
    """

    email = models.EmailField("adresse e-mail")
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="directory")
    is_active = models.BooleanField("accès activé", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "entrée de l'annuaire de connexion"
        ordering = ["email", "structure_id"]
        constraints = [
            models.UniqueConstraint(fields=["email", "structure"], name="directory_unique_email"),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.structure_id}"


def build_url(host: str, path: str = "/") -> str:
    """Return an absolute URL on ``host`` with the configured scheme and port."""
    port = f":{settings.PUBLIC_URL_PORT}" if settings.PUBLIC_URL_PORT else ""
    return f"{settings.PUBLIC_URL_SCHEME}://{host}{port}{path}"


def public_url(path: str = "/") -> str:
    return build_url(settings.BASE_DOMAIN, path)


from tenants.models_offboarding import NationalAuditEvent, StructureDeletionRequest  # noqa: E402, F401
from tenants.models_statistics import NationalApiToken, StatisticsSnapshot  # noqa: E402, F401
