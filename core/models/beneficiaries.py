import secrets
from datetime import date

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone

from core.enums import (
    AccommodationMode,
    BeneficiaryStatus,
    Civility,
    FamilySituation,
    Gender,
    Mobility,
)
from core.text import normalize

# No 0/O, 1/I or L: a file number is read aloud on the phone and copied by hand.
FILE_NUMBER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
FILE_NUMBER_LENGTH = 10


def generate_file_number() -> str:
    """Return a random file number; it carries no sequence, date or structure information."""
    return "".join(secrets.choice(FILE_NUMBER_ALPHABET) for _ in range(FILE_NUMBER_LENGTH))


class Beneficiary(models.Model):
    """The shared file of a person helped by the structure."""

    file_number = models.CharField("numéro de dossier", max_length=FILE_NUMBER_LENGTH, unique=True)
    status = models.CharField(
        "statut du dossier",
        max_length=20,
        choices=BeneficiaryStatus.choices,
        default=BeneficiaryStatus.ACTIVE,
    )
    referents = models.ManyToManyField(
        "core.Agent", verbose_name="agents référents", related_name="referent_files", blank=True
    )
    aidant_connect_mandate = models.BooleanField("mandat Aidant Connect", default=False)

    civility = models.CharField("civilité", max_length=10, choices=Civility.choices, blank=True)
    usual_name = models.CharField("nom usuel", max_length=150, blank=True)
    birth_name = models.CharField("nom de naissance", max_length=150, blank=True)
    first_names = models.CharField("prénom(s)", max_length=150, blank=True)
    birth_date = models.DateField("date de naissance", null=True, blank=True)
    birth_place = models.CharField("lieu de naissance", max_length=150, blank=True)
    death_date = models.DateField("date de décès", null=True, blank=True)
    gender = models.CharField("genre", max_length=10, choices=Gender.choices, blank=True)

    accommodation_mode = models.CharField(
        "mode d'hébergement", max_length=30, choices=AccommodationMode.choices, blank=True
    )
    accommodation_details = models.CharField("précisions hébergement", max_length=300, blank=True)
    street_number = models.CharField("numéro de rue", max_length=20, blank=True)
    street = models.CharField("nom de la rue", max_length=200, blank=True)
    address_complement = models.CharField("complément d'adresse", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("ville", max_length=150, blank=True)
    region = models.CharField("région", max_length=100, blank=True)

    no_phone = models.BooleanField("n'a pas de téléphone", default=False)
    phone_1 = models.CharField("téléphone 1", max_length=20, blank=True)
    phone_2 = models.CharField("téléphone 2", max_length=20, blank=True)
    email = models.EmailField("adresse e-mail", blank=True)

    family_situation = models.CharField(
        "situation familiale", max_length=30, choices=FamilySituation.choices, blank=True
    )
    minor_children = models.PositiveSmallIntegerField(
        "nombre d'enfant(s) mineur(s)", null=True, blank=True
    )
    major_children = models.PositiveSmallIntegerField(
        "nombre d'enfant(s) majeur(s)", null=True, blank=True
    )
    caregiver = models.BooleanField("aidant familial", default=False)
    mobility = models.CharField(
        "données mobilité", max_length=30, choices=Mobility.choices, blank=True
    )

    additional_information = models.TextField("informations complémentaires", blank=True)

    # Lower-case, accent-free names and file number, kept by save() for the trigram index.
    search_text = models.TextField(editable=False, default="")
    created_by = models.ForeignKey(
        "core.Agent",
        verbose_name="créé par",
        on_delete=models.PROTECT,
        related_name="created_files",
        null=True,
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "bénéficiaire"
        ordering = ["usual_name", "birth_name", "first_names", "id"]
        indexes = [
            GinIndex(
                fields=["search_text"], opclasses=["gin_trgm_ops"], name="beneficiary_search_trgm"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.search_text = normalize(
            " ".join([self.usual_name, self.birth_name, self.first_names, self.file_number])
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @property
    def last_name(self) -> str:
        return self.usual_name or self.birth_name

    @property
    def display_name(self) -> str:
        """ "Prénom NOM", or the file number when the file has no name."""
        name = " ".join(part for part in [self.first_names, self.last_name.upper()] if part)
        return name or f"n°{self.file_number}"

    def age(self, today: date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        today = today or timezone.localdate()
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday
