import re

from django import forms
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from core.enums import BeneficiaryStatus
from core.models import Agent, Beneficiary

PHONE_PATTERN = re.compile(r"^(\+33 ?|0)[1-9]( ?\d{2}){4}$")
POSTAL_CODE_PATTERN = re.compile(r"^\d{5}$")
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
        ],
    ),
    (
        "Adresse et hébergement",
        [
            "accommodation_mode",
            "accommodation_details",
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
    "accommodation_mode",
    "accommodation_details",
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


class BeneficiaryForm(forms.ModelForm, DsfrBaseForm):
    """The general-information part of a file, with its referents."""

    referents = forms.ModelMultipleChoiceField(
        label="Agent(s) référent(s)",
        queryset=Agent.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Les agents qui suivent cette personne. Ils voient son dossier en priorité.",
    )

    class Meta:
        model = Beneficiary
        fields = GENERAL_FIELDS
        widgets = {
            "birth_date": DateInput(),
            "death_date": DateInput(),
            "additional_information": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "accommodation_details": "Bâtiment, immeuble, escalier et numéro d'appartement",
            "death_date": "À renseigner seulement si le statut du dossier est « Décédé·e ».",
            "phone_1": "Par exemple : 06 12 34 56 78",
            "additional_information": FREE_TEXT_HINT,
        }

    def __init__(self, *args, can_change_referents: bool = True, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            choice
            for choice in BeneficiaryStatus.choices
            if choice[0] != BeneficiaryStatus.ARCHIVED
        ]
        if can_change_referents:
            self.fields["referents"].queryset = Agent.objects.filter(is_active=True)
            self.fields["referents"].required = True
            self.fields["referents"].error_messages["required"] = (
                "Veuillez renseigner au moins un agent référent."
            )
            if self.instance.pk:
                self.initial["referents"] = list(self.instance.referents.all())
        else:
            del self.fields["referents"]

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(legend, [self[name] for name in names]) for legend, names in FIELDSETS]

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
        if cleaned.get("no_phone") and (cleaned.get("phone_1") or cleaned.get("phone_2")):
            self.add_error(
                "no_phone",
                "Vous avez coché « N'a pas de téléphone » et saisi un numéro : "
                "décochez la case ou effacez le numéro.",
            )
        return cleaned

    def model_values(self) -> dict:  # type: ignore[type-arg]
        """Return the cleaned model fields, without the referents."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class BeneficiarySearchForm(forms.Form):
    recherche = forms.CharField(
        label="Rechercher un bénéficiaire",
        required=False,
        max_length=100,
        help_text="Nom, prénom ou numéro de dossier, avec ou sans accents.",
    )
