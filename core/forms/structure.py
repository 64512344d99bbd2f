from django import forms
from dsfr.forms import DsfrBaseForm

from core.enums import FollowupTypeKind
from core.services.structure_settings import name_taken
from tenants.models import single_line_validator


class StructureDetailsForm(DsfrBaseForm):
    name = forms.CharField(
        label="Nom de la structure", max_length=200, validators=[single_line_validator]
    )
    address = forms.CharField(label="Adresse", widget=forms.Textarea(attrs={"rows": 3}))
    phone = forms.CharField(label="Téléphone", required=False, max_length=30)
    email = forms.EmailField(label="Adresse e-mail", required=False, max_length=254)


class CustomTypeForm(DsfrBaseForm):
    name = forms.CharField(
        label="Nom du nouveau type d'accompagnement",
        min_length=2,
        max_length=150,
        validators=[single_line_validator],
        error_messages={"min_length": "Le nom compte au moins 2 caractères."},
    )
    kind = forms.ChoiceField(
        label="Catégorie", choices=FollowupTypeKind.choices, initial=FollowupTypeKind.OPTIONAL
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name_taken(name):
            raise forms.ValidationError(f"Le type d'accompagnement « {name} » existe déjà.")
        return name
