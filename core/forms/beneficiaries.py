import re

from django import forms
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from core.enums import COUPLE_SITUATIONS, BeneficiaryStatus
from core.models import Agent, Beneficiary
from core.nationalities import NATIONALITY_CHOICES
from core.nir import clean_nir

PHONE_PATTERN = re.compile(r"^(\+33 ?|0)[1-9]( ?[0-9]{2}){4}$")
POSTAL_CODE_PATTERN = re.compile(r"^[0-9]{5}$")
# Reminder shown under every free-text field: the person may ask to read their file.
FREE_TEXT_HINT = (
    "N'écrivez que des informations utiles à l'accompagnement, factuelles et objectives : "
    "la personne peut demander à lire son dossier."
)

# The form's sections, in the order of the reference product's "Informations générales".
FIELDSETS = [
    (
        "Identité",
        [
            "status",
            "civility",
            "usual_name",
            "birth_name",
            "first_names",
            "birth_date",
            "birth_place",
            "death_date",
            "gender",
            "nationality",
        ],
    ),
    (
        "Adresse et hébergement",
        [
            "accommodation_mode",
            "accommodation_name",
            "accommodation_details",
            "accommodation_zone",
            "street_number",
            "street",
            "address_complement",
            "postal_code",
            "city",
            "region",
        ],
    ),
    ("Coordonnées", ["no_phone", "phone_1", "phone_2", "email"]),
    (
        "Situation familiale et mobilité",
        ["family_situation", "minor_children", "major_children", "caregiver", "mobility"],
    ),
]

# Sections shown only to roles allowed to read and edit the full file.
FULL_FIELDSETS = [
    (
        "Santé",
        ["gir", "doctor", "social_security_number", "insurance", "health_additional_information"],
    ),
    (
        "Activité et revenu",
        [
            "socio_professional_category",
            "occupation",
            "employer",
            "employer_siret",
            "income_sources",
            "income_amount",
            "partner_income_sources",
            "partner_income_amount",
            "major_children_income_sources",
            "major_children_income_amount",
            "pole_emploi_id",
            "pension_organisations",
            "other_pension_organisations",
            "caf_number",
            "bank",
            "funeral_contract",
        ],
    ),
    (
        "Protection juridique et structures extérieures",
        [
            "protection_measure",
            "representative",
            "prescribing_organisation",
            "orientation_type",
            "orientation_organisation",
            "service_providers",
            "involved_partners",
        ],
    ),
]
FULL_FIELDS = [name for _, names in FULL_FIELDSETS for name in names]

# Fields shown only when another field has one of some values (the browser hides them; the
# server keeps what they hold). {field: (controlling field, values)}; "+" means "above zero".
CONDITIONS = {
    "death_date": ("status", [BeneficiaryStatus.DECEASED]),
    "partner_income_sources": ("family_situation", sorted(COUPLE_SITUATIONS)),
    "partner_income_amount": ("family_situation", sorted(COUPLE_SITUATIONS)),
    "major_children_income_sources": ("major_children", ["+"]),
    "major_children_income_amount": ("major_children", ["+"]),
    "other_pension_organisations": ("pension_organisations", ["other"]),
}

GENERAL_FIELDS = [
    "status",
    "aidant_connect_mandate",
    "civility",
    "usual_name",
    "birth_name",
    "first_names",
    "birth_date",
    "birth_place",
    "death_date",
    "gender",
    "nationality",
    "accommodation_mode",
    "accommodation_name",
    "accommodation_details",
    "accommodation_zone",
    "street_number",
    "street",
    "address_complement",
    "postal_code",
    "city",
    "region",
    "no_phone",
    "phone_1",
    "phone_2",
    "email",
    "family_situation",
    "minor_children",
    "major_children",
    "caregiver",
    "mobility",
    "additional_information",
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def multiple_choice(field_name: str) -> forms.TypedMultipleChoiceField:
    """Checkboxes for an ArrayField of choices (Django's default is a comma-separated input)."""
    model_field = Beneficiary._meta.get_field(field_name)
    return forms.TypedMultipleChoiceField(
        label=model_field.verbose_name.capitalize(),
        choices=model_field.base_field.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class EuroAmountField(forms.DecimalField):
    """An amount in euros as people type it: "1 234,50", "1234.5" or "80 €"."""

    def to_python(self, value):  # type: ignore[no-untyped-def]
        if isinstance(value, str):
            value = re.sub(r"[\s\u202f€]", "", value).replace(",", ".")
        return super().to_python(value)


def amount(field_name: str, model: type = Beneficiary) -> forms.DecimalField:
    model_field = model._meta.get_field(field_name)
    return EuroAmountField(
        label=model_field.verbose_name.capitalize(),
        max_digits=9,
        decimal_places=2,
        min_value=0,
        required=False,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="En euros, par exemple 1 234,50.",
        error_messages={"invalid": "Indiquez un montant en euros, par exemple 1234,50."},
    )


class BeneficiaryForm(forms.ModelForm, DsfrBaseForm):
    """A beneficiary file: general information, and the full file for roles allowed to edit it."""

    income_sources = multiple_choice("income_sources")
    partner_income_sources = multiple_choice("partner_income_sources")
    major_children_income_sources = multiple_choice("major_children_income_sources")
    pension_organisations = multiple_choice("pension_organisations")
    income_amount = amount("income_amount")
    partner_income_amount = amount("partner_income_amount")
    major_children_income_amount = amount("major_children_income_amount")
    social_security_number = forms.CharField(
        label="N° de sécurité sociale",
        required=False,
        max_length=30,
        help_text="15 caractères, par exemple 1 84 03 71 014 123 45.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_not_duplicate = forms.BooleanField(
        label="Je confirme qu'il s'agit d'une autre personne",
        required=False,
        widget=forms.CheckboxInput,
    )

    referents = forms.ModelMultipleChoiceField(
        label="Agent(s) référent(s)",
        queryset=Agent.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Les agents qui suivent cette personne. Ils voient son dossier en priorité.",
    )

    class Meta:
        model = Beneficiary
        fields = GENERAL_FIELDS + FULL_FIELDS
        widgets = {
            "birth_date": DateInput(),
            "death_date": DateInput(),
            "additional_information": forms.Textarea(attrs={"rows": 4}),
            "health_additional_information": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "accommodation_details": "Bâtiment, immeuble, escalier et numéro d'appartement",
            "death_date": "À renseigner seulement si le statut du dossier est « Décédé·e ».",
            "phone_1": "Par exemple : 06 12 34 56 78",
            "additional_information": FREE_TEXT_HINT,
            "health_additional_information": FREE_TEXT_HINT,
            "social_security_number": "15 caractères, par exemple 1 84 03 71 014 123 45.",
            "service_providers": "Repas à domicile, aide à domicile, ...",
            "employer_siret": "14 chiffres.",
        }

    def __init__(  # type: ignore[no-untyped-def]
        self,
        *args,
        can_change_referents: bool = True,
        full_info: bool = True,
        required_referent: Agent | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.required_referent = required_referent
        self.full_info = full_info
        if not full_info:
            for name in FULL_FIELDS:
                del self.fields[name]
        self.fields["version"].initial = self.instance.version
        self.fields["nationality"].choices = [("", "Non renseignée"), *NATIONALITY_CHOICES]
        self.fields["status"].choices = [
            choice
            for choice in BeneficiaryStatus.choices
            if choice[0] != BeneficiaryStatus.ARCHIVED
        ]
        if can_change_referents:
            # Current referents stay listed even once deactivated, so saving the page as
            # shown never removes one silently.
            current = self.instance.referents.all() if self.instance.pk else Agent.objects.none()
            self.fields["referents"].queryset = (
                Agent.objects.filter(is_active=True) | current
            ).distinct()
            self.fields["referents"].required = True
            self.fields["referents"].error_messages["required"] = (
                "Veuillez renseigner au moins un agent référent."
            )
            if self.instance.pk:
                self.initial["referents"] = list(self.instance.referents.all())
        else:
            del self.fields["referents"]

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        sections = FIELDSETS + (FULL_FIELDSETS if self.full_info else [])
        return [(legend, [self[name] for name in names]) for legend, names in sections]

    def condition(self, name: str) -> str | None:
        """Return "<controlling field id>=<values>" for the browser script, if any."""
        if name not in CONDITIONS:
            return None
        controller, values = CONDITIONS[name]
        return f"{self[controller].auto_id}={' '.join(values)}"

    def clean_social_security_number(self) -> str:
        value = self.cleaned_data["social_security_number"]
        return clean_nir(value) if value else ""

    def clean_employer_siret(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data["employer_siret"])
        if value and not re.fullmatch(r"[0-9]{14}", value):
            raise forms.ValidationError("Un numéro SIRET comporte 14 chiffres.")
        return value

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"].strip()
        if value and not POSTAL_CODE_PATTERN.match(value):
            raise forms.ValidationError("Le code postal comporte 5 chiffres, par exemple 71400.")
        return value

    def _clean_phone(self, name: str) -> str:
        value = self.cleaned_data[name].strip()
        if value and not PHONE_PATTERN.match(value):
            raise forms.ValidationError(
                "Ce numéro de téléphone n'est pas valide. Indiquez 10 chiffres, "
                "par exemple 06 12 34 56 78."
            )
        return value

    def clean_phone_1(self) -> str:
        return self._clean_phone("phone_1")

    def clean_phone_2(self) -> str:
        return self._clean_phone("phone_2")

    def clean(self) -> dict:  # type: ignore[type-arg]
        cleaned = super().clean()
        today = timezone.localdate()
        birth_date = cleaned.get("birth_date")
        death_date = cleaned.get("death_date")
        status = cleaned.get("status")

        if birth_date and birth_date > today:
            self.add_error("birth_date", "La date de naissance ne peut pas être dans le futur.")
        if death_date and death_date > today:
            self.add_error("death_date", "La date de décès ne peut pas être dans le futur.")
        if birth_date and death_date and death_date < birth_date:
            self.add_error("death_date", "La date de décès est antérieure à la date de naissance.")
        if death_date and status != BeneficiaryStatus.DECEASED:
            self.add_error(
                "death_date",
                "Une date de décès n'est possible que pour un dossier au statut « Décédé·e ». "
                "Changez le statut ou effacez la date.",
            )
        referents = cleaned.get("referents")
        if self.required_referent and referents is not None:
            if self.required_referent not in referents:
                self.add_error(
                    "referents",
                    "Restez parmi les agents référents : avec votre rôle, vous ne voyez que les "
                    "dossiers dont vous êtes référent.",
                )
        if cleaned.get("no_phone") and (cleaned.get("phone_1") or cleaned.get("phone_2")):
            self.add_error(
                "no_phone",
                "Vous avez coché « N'a pas de téléphone » et saisi un numéro : "
                "décochez la case ou effacez le numéro.",
            )
        return cleaned

    def model_values(self) -> dict:  # type: ignore[type-arg]
        """Return the cleaned model fields this form shows, without the referents."""
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.fields}


class BeneficiarySearchForm(forms.Form):
    recherche = forms.CharField(
        label="Rechercher un bénéficiaire",
        required=False,
        max_length=100,
        help_text="Nom, prénom ou numéro de dossier, avec ou sans accents.",
    )
