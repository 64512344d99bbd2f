from datetime import date

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from core.forms.beneficiaries import FREE_TEXT_HINT, DateInput
from core.models import RetentionPolicy
from core.services.retention import MAX_HOLD_YEARS, add_months


class ArchiveForm(DsfrBaseForm):
    confirmation = forms.BooleanField(
        label="Je confirme l'archivage de ce dossier et l'effacement définitif des informations "
        "personnelles",
        error_messages={
            "required": "Cochez la case pour confirmer l'archivage, ou revenez au dossier sans "
            "rien changer."
        },
    )


class RetentionHoldForm(DsfrBaseForm):
    until = forms.DateField(
        label="Conserver le dossier jusqu'au",
        help_text=f"Au plus {MAX_HOLD_YEARS} ans à partir d'aujourd'hui. Format : jj/mm/aaaa.",
        widget=DateInput(),
        error_messages={
            "required": "Indiquez jusqu'à quelle date le dossier doit être conservé.",
            "invalid": "Saisissez une date valide, au format jj/mm/aaaa.",
        },
    )
    reason = forms.CharField(
        label="Motif de la conservation",
        help_text="Pourquoi ce dossier doit être gardé plus longtemps (une procédure en cours, "
        "une demande de la personne…). " + FREE_TEXT_HINT,
        min_length=10,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Indiquez le motif de la conservation.",
            "min_length": "Décrivez le motif en au moins 10 caractères.",
            "max_length": "Le motif compte au plus 1 000 caractères : raccourcissez-le.",
        },
    )

    def clean_until(self) -> date:
        until: date = self.cleaned_data["until"]
        today = timezone.localdate()
        if until <= today:
            raise forms.ValidationError("Choisissez une date de fin postérieure à aujourd'hui.")
        latest = add_months(today, 12 * MAX_HOLD_YEARS)
        if until > latest:
            raise forms.ValidationError(
                f"Choisissez une date de fin au plus tard le {latest:%d/%m/%Y}. Pour garder le "
                "dossier plus longtemps, enregistrez une nouvelle conservation à cette date."
            )
        return until

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"].strip()


class RetentionPolicyForm(forms.ModelForm, DsfrBaseForm):  # type: ignore[type-arg]
    class Meta:
        model = RetentionPolicy
        fields = [
            "file_months",
            "warning_days",
            "refused_request_months",
            "consultation_months",
            "audit_months",
        ]
        help_texts = {
            "file_months": "Nombre de mois après le dernier contact avec la personne (dernière "
            "modification du dossier, dernier entretien ou dernière demande d'aide) au bout "
            "duquel le dossier est archivé. La CNIL recommande 24 mois.",
            "warning_days": "Les agents référents sont prévenus ce nombre de jours avant "
            "l'archivage, pour enregistrer une conservation justifiée si besoin.",
            "refused_request_months": "Nombre de mois après la décision de refus au bout duquel "
            "les textes de la demande (comptes rendus, motif du refus, commentaires) sont "
            "effacés. Les dates, montants et statuts restent pour les statistiques.",
            "consultation_months": "Nombre de mois pendant lesquels la liste « Qui a consulté ce "
            "dossier » est conservée.",
            "audit_months": "Nombre de mois pendant lesquels l'historique des changements est "
            "conservé.",
        }

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # The column accepts 0 and the model 1 or more: ask for 1 or more, so that a negative
        # value does not get a message inviting 0, which is rejected too.
        for field in self.fields.values():
            field.validators = [
                validator
                for validator in field.validators
                if not isinstance(validator, MinValueValidator)
            ]
            field.validators.append(MinValueValidator(1))
            field.widget.attrs["min"] = 1
