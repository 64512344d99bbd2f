from django import forms
from django.db.models import QuerySet
from dsfr.forms import DsfrBaseForm

from core.forms.beneficiaries import FREE_TEXT_HINT, PHONE_PATTERN, DateInput
from core.models import Beneficiary, Relative


class RelativeForm(forms.ModelForm, DsfrBaseForm):
    linked_file_number = forms.CharField(
        label="N° de dossier de cette personne (facultatif)",
        required=False,
        max_length=10,
        help_text="Si la personne a elle aussi un dossier dans la structure, le lien "
        "apparaîtra sur les deux dossiers.",
    )

    class Meta:
        model = Relative
        fields = [
            "relationship",
            "first_name",
            "last_name",
            "birth_date",
            "city",
            "phone",
            "email",
            "hosted",
            "caregiver",
            "is_contact",
            "additional_information",
        ]
        widgets = {
            "birth_date": DateInput(),
            "additional_information": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"additional_information": FREE_TEXT_HINT}

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, beneficiary: Beneficiary, reachable: QuerySet[Beneficiary], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.beneficiary = beneficiary
        self.reachable = reachable
        if self.instance.linked_beneficiary_id:
            self.initial["linked_file_number"] = self.instance.linked_beneficiary.file_number

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if value and not PHONE_PATTERN.match(value):
            raise forms.ValidationError(
                "Ce numéro de téléphone n'est pas valide. Indiquez 10 chiffres, "
                "par exemple 06 12 34 56 78."
            )
        return value

    def clean_linked_file_number(self) -> Beneficiary | None:
        number = self.cleaned_data["linked_file_number"].strip().upper()
        if not number:
            return None
        linked = self.reachable.filter(file_number=number).first()
        if linked is None:
            raise forms.ValidationError(
                f"Aucun dossier accessible ne porte le numéro {number}. Vérifiez le numéro sur "
                "le dossier de la personne."
            )
        if linked.pk == self.beneficiary.pk:
            raise forms.ValidationError("Un dossier ne peut pas être lié à lui-même.")
        return linked

    def clean(self) -> dict:  # type: ignore[type-arg]
        cleaned = super().clean()
        has_name = cleaned.get("first_name") or cleaned.get("last_name")
        if not has_name and not cleaned.get("linked_file_number"):
            self.add_error(
                "last_name", "Indiquez au moins un nom ou un prénom, ou le n° de dossier lié."
            )
        return cleaned

    def model_values(self) -> dict:  # type: ignore[type-arg]
        values = {name: self.cleaned_data[name] for name in self._meta.fields}
        values["linked_beneficiary"] = self.cleaned_data.get("linked_file_number")
        return values
