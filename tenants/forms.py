import re

from django import forms
from dsfr.forms import DsfrBaseForm

from tenants.communes import find_commune
from tenants.models import (
    Structure,
    single_line_validator,
    slug_validator,
    validate_slug_not_reserved,
)

SIRET_SEPARATORS = re.compile(r"[\s,;]+")


class StructureCreationForm(DsfrBaseForm):
    """A new structure and its first manager, as the national team enters them."""

    name = forms.CharField(
        label="Nom de la structure", max_length=200, validators=[single_line_validator]
    )
    slug = forms.CharField(
        label="Identifiant",
        max_length=42,
        validators=[slug_validator, validate_slug_not_reserved],
        help_text="Il forme l'adresse de l'espace : <identifiant>.domaine. Exemple : ccas-autun.",
    )
    kind = forms.ChoiceField(label="Type", choices=Structure.Kind.choices)
    sirets = forms.CharField(
        label="Numéros SIRET",
        help_text=(
            "Un ou plusieurs numéros de 14 chiffres, séparés par des espaces ou des virgules."
        ),
    )
    insee_code = forms.CharField(
        label="Code INSEE de la commune",
        required=False,
        max_length=5,
        help_text="Pour un CCAS ou une commune. L'adresse de la mairie est proposée si vous "
        "laissez l'adresse vide.",
    )
    epci_siren = forms.CharField(
        label="SIREN de l'EPCI", required=False, max_length=9, help_text="Pour un CIAS."
    )
    address = forms.CharField(
        label="Adresse", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    phone = forms.CharField(label="Téléphone", required=False, max_length=30)
    email = forms.EmailField(label="Adresse e-mail de la structure", required=False, max_length=254)
    manager_first_name = forms.CharField(
        label="Prénom du responsable", max_length=150, validators=[single_line_validator]
    )
    manager_last_name = forms.CharField(
        label="Nom du responsable", max_length=150, validators=[single_line_validator]
    )
    manager_email = forms.EmailField(
        label="Adresse e-mail du responsable",
        max_length=254,
        help_text="Le responsable reçoit une invitation et se connecte avec ProConnect.",
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        existing = Structure.objects.filter(slug=slug).first()
        if existing is not None:
            raise forms.ValidationError(
                f"L'identifiant « {slug} » est déjà celui de la structure {existing.name}. "
                "Choisissez-en un autre, ou ouvrez cette structure depuis la liste."
            )
        return slug

    def clean_sirets(self) -> list[str]:
        values = [value for value in SIRET_SEPARATORS.split(self.cleaned_data["sirets"]) if value]
        invalid = [value for value in values if not re.fullmatch(r"[0-9]{14}", value)]
        if invalid:
            raise forms.ValidationError(
                "Ces numéros ne sont pas des SIRET valides (14 chiffres attendus) : "
                + ", ".join(invalid)
            )
        if not values:
            raise forms.ValidationError("Indiquez au moins un numéro SIRET.")
        return values

    def clean_insee_code(self) -> str:
        code = self.cleaned_data["insee_code"].strip().upper()
        if code and find_commune(code) is None:
            raise forms.ValidationError(
                f"Aucune commune ne porte le code INSEE {code}. Vérifiez le code sur le site de "
                "l'Insee."
            )
        return code

    def clean_epci_siren(self) -> str:
        siren = self.cleaned_data["epci_siren"].strip()
        if siren and not re.fullmatch(r"[0-9]{9}", siren):
            raise forms.ValidationError("Un numéro SIREN comporte 9 chiffres.")
        return siren

    def clean(self) -> dict:  # type: ignore[type-arg]
        cleaned = super().clean()
        insee_code = cleaned.get("insee_code")
        if not insee_code and not cleaned.get("epci_siren"):
            self.add_error(
                "insee_code", "Indiquez le code INSEE de la commune ou le SIREN de l'EPCI."
            )
        if not cleaned.get("address") and insee_code:
            commune = find_commune(insee_code)
            if commune:
                cleaned["address"] = commune.town_hall_address
                cleaned["phone"] = cleaned.get("phone") or commune.town_hall_phone
        if not cleaned.get("address") and "insee_code" not in self.errors:
            self.add_error("address", "Indiquez l'adresse de la structure.")
        return cleaned
