import secrets
from datetime import date

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone

from core.enums import (
    AccommodationMode,
    AccommodationZone,
    BeneficiaryStatus,
    Civility,
    FamilySituation,
    Gender,
    Gir,
    IncomeSource,
    Mobility,
    OrientationType,
    PensionOrganisation,
    ProtectionMeasure,
    SocioProfessionalCategory,
)
from core.nationalities import NATIONALITY_CHOICES
from core.nir import validate_nir
from core.text import normalize

# No 0/O, 1/I or L: a file number is read aloud on the phone and copied by hand.
FILE_NUMBER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
FILE_NUMBER_LENGTH = 10


def phone_digits(phone: str) -> str:
    """Return the phone number's digits, with +33 written as a leading 0."""
    digits = "".join(char for char in phone if char.isdigit())
    if phone.strip().startswith("+33"):
        digits = "0" + digits[2:]
    return digits


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
    nationality = models.CharField(
        "nationalité", max_length=3, choices=NATIONALITY_CHOICES, blank=True
    )

    accommodation_mode = models.CharField(
        "mode d'hébergement", max_length=30, choices=AccommodationMode.choices, blank=True
    )
    accommodation_details = models.CharField("précisions hébergement", max_length=300, blank=True)
    accommodation_name = models.CharField("nom de l'hébergement", max_length=200, blank=True)
    accommodation_zone = models.CharField(
        "zone d'hébergement", max_length=20, choices=AccommodationZone.choices, blank=True
    )
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

    # Health ("Santé").
    gir = models.CharField("GIR", max_length=10, choices=Gir.choices, blank=True)
    doctor = models.CharField("médecin traitant", max_length=200, blank=True)
    health_additional_information = models.TextField("autres informations de santé", blank=True)
    social_security_number = models.CharField(
        "n° de sécurité sociale", max_length=15, blank=True, validators=[validate_nir]
    )
    insurance = models.CharField("mutuelle", max_length=200, blank=True)

    # Activity and income ("Activité et revenu").
    socio_professional_category = models.CharField(
        "catégorie socio-professionnelle",
        max_length=30,
        choices=SocioProfessionalCategory.choices,
        blank=True,
    )
    occupation = models.CharField("profession(s)", max_length=200, blank=True)
    employer = models.CharField("employeur", max_length=200, blank=True)
    employer_siret = models.CharField("SIRET de l'employeur", max_length=14, blank=True)
    income_sources = ArrayField(
        models.CharField(max_length=30, choices=IncomeSource.choices),
        verbose_name="natures des ressources",
        default=list,
        blank=True,
    )
    income_amount = models.DecimalField(
        "montant des ressources (€ par mois)", max_digits=9, decimal_places=2, null=True, blank=True
    )
    partner_income_sources = ArrayField(
        models.CharField(max_length=30, choices=IncomeSource.choices),
        verbose_name="natures des ressources du conjoint",
        default=list,
        blank=True,
    )
    partner_income_amount = models.DecimalField(
        "montant des ressources du conjoint (€ par mois)",
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
    )
    major_children_income_sources = ArrayField(
        models.CharField(max_length=30, choices=IncomeSource.choices),
        verbose_name="natures des ressources des enfants majeurs",
        default=list,
        blank=True,
    )
    major_children_income_amount = models.DecimalField(
        "montant des ressources des enfants majeurs (€ par mois)",
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
    )
    pole_emploi_id = models.CharField(
        "n° France Travail (ex-Pôle Emploi)", max_length=20, blank=True
    )
    pension_organisations = ArrayField(
        models.CharField(max_length=30, choices=PensionOrganisation.choices),
        verbose_name="organismes de retraite",
        default=list,
        blank=True,
    )
    other_pension_organisations = models.CharField(
        "autres organismes de retraite", max_length=200, blank=True
    )
    caf_number = models.CharField("n° CAF", max_length=20, blank=True)
    bank = models.CharField("banque", max_length=200, blank=True)
    funeral_contract = models.CharField("contrat obsèques", max_length=200, blank=True)

    # Legal protection and external bodies ("Structures extérieures").
    protection_measure = models.CharField(
        "mesure de protection", max_length=30, choices=ProtectionMeasure.choices, blank=True
    )
    representative = models.CharField(
        "nom, prénom, coordonnées du mandataire", max_length=300, blank=True
    )
    prescribing_organisation = models.CharField(
        "organisme prescripteur", max_length=200, blank=True
    )
    orientation_type = models.CharField(
        "mode d'orientation", max_length=20, choices=OrientationType.choices, blank=True
    )
    orientation_organisation = models.CharField(
        "organisme d'orientation", max_length=200, blank=True
    )
    service_providers = models.CharField("prestataires", max_length=300, blank=True)
    involved_partners = models.CharField("partenaires intervenants", max_length=300, blank=True)

    additional_information = models.TextField("informations complémentaires", blank=True)

    # Set by archiving, which erases the birth date but keeps its year for the age brackets.
    birth_year = models.PositiveSmallIntegerField("année de naissance", null=True, blank=True)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)
    # Empty when the retention job archived the file.
    archived_by = models.ForeignKey(
        "core.Agent",
        verbose_name="archivé par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # "Conservation justifiée": an agent's reason to keep the file past its retention limit.
    # The retention job leaves the file as it is until this date, included.
    retention_hold_until = models.DateField(
        "conservation justifiée jusqu'au", null=True, blank=True
    )
    retention_hold_reason = models.TextField("motif de la conservation justifiée", blank=True)
    # The archiving day announced to the referents by the retention job, which archives the
    # file on that day at the earliest. A later retention limit (a new contact, a hold) voids it.
    archiving_planned_on = models.DateField("archivage prévu le", null=True, blank=True)

    # Follow-up types used by the file's interviews and aid requests, kept by their services
    # so the list can show and filter them without scanning those tables.
    followup_types = models.ManyToManyField(
        "core.FollowupType",
        verbose_name="accompagnements",
        related_name="beneficiaries",
        blank=True,
    )
    # Incremented by every saved change; an edit form that started from an older version is
    # refused instead of overwriting what another agent saved meanwhile.
    version = models.PositiveIntegerField(default=1)

    # Lower-case, accent-free names and file number, kept by save() for the trigram index.
    search_text = models.TextField(editable=False, default="")
    # The city in the same form, kept by save() for the list's city filter and its index.
    city_key = models.CharField(max_length=150, editable=False, default="")
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
            # The list's default order, so its first page needs no sort of every file.
            models.Index(
                fields=["usual_name", "birth_name", "first_names", "id"],
                name="beneficiary_name_order",
            ),
            # The city filter, then the default order within one city.
            models.Index(
                fields=["city_key", "usual_name", "birth_name", "first_names", "id"],
                name="beneficiary_city_order",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.refresh_search_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text", "city_key"}
        super().save(*args, **kwargs)

    def refresh_search_keys(self) -> None:
        """Compute ``search_text`` and ``city_key`` from the fields they are made of.

        save() calls it; a bulk insert, which bypasses save(), calls it on each file.
        """
        parts = [self.usual_name, self.birth_name, self.first_names, self.file_number]
        parts += [phone_digits(self.phone_1), phone_digits(self.phone_2)]
        self.search_text = normalize(" ".join(parts))
        self.city_key = normalize(self.city)

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
