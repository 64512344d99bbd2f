from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from dsfr.forms import DsfrBaseForm

from core.enums import CommitteeKind, HelpRequestStatus
from core.forms.beneficiaries import DateInput, EuroAmountField
from core.models import Committee, HelpRequest
from core.services.committees import DECISIONS, Decision, is_decided

UNCHANGED = ""


class CommitteeForm(forms.ModelForm, DsfrBaseForm):
    class Meta:
        model = Committee
        fields = ["kind", "date"]
        widgets = {"kind": forms.RadioSelect, "date": DateInput()}
        labels = {"kind": "Instance", "date": "Date de la séance"}
        error_messages = {
            "kind": {"required": "Choisissez l'instance qui se réunit."},
            "date": {
                "required": "Indiquez la date de la séance.",
                "invalid": "Indiquez une date valide, par exemple 14/03/2025.",
            },
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = CommitteeKind.choices


class AddRequestsForm(forms.Form):
    demandes = forms.ModelMultipleChoiceField(
        queryset=HelpRequest.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Cochez au moins une demande à ajouter à la séance.",
            "invalid_choice": "Une des demandes cochées ne peut plus être ajoutée : elle a "
            "changé entre-temps. Vérifiez la liste ci-dessous.",
            "invalid_pk_value": "Une des demandes cochées n'existe pas.",
        },
    )

    def __init__(self, *args: Any, eligible: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["demandes"].queryset = eligible


class DecisionForm(DsfrBaseForm):
    """One request of the session: its decision, the amount granted, the reason of a refusal."""

    demande = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label="Décision",
        required=False,
        choices=[(UNCHANGED, "Inchangée")] + [(status.value, status.label) for status in DECISIONS],
    )
    allocated_amount = EuroAmountField(
        label="Montant attribué",
        max_digits=9,
        decimal_places=2,
        min_value=0,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="En euros, pour une demande acceptée.",
        error_messages={
            "invalid": "Indiquez un montant en euros, par exemple 150 ou 1234,50.",
            "min_value": "Le montant attribué ne peut pas être négatif.",
            "max_digits": "Ce montant est trop grand : vérifiez-le.",
            "max_decimal_places": "Indiquez au plus deux chiffres après la virgule.",
        },
    )
    refusal_reason = forms.CharField(
        label="Motif du refus",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Il figure sur le courrier envoyé à la personne.",
    )

    def __init__(self, *args: Any, help_request: HelpRequest, committee: Committee, **kwargs):  # type: ignore[no-untyped-def]
        self.help_request = help_request
        self.committee = committee
        if is_decided(help_request, committee):
            kwargs["initial"] = {
                "decision": help_request.status,
                "allocated_amount": help_request.allocated_amount,
                "refusal_reason": help_request.refusal_reason,
            }
        kwargs.setdefault("initial", {})["demande"] = help_request.pk
        super().__init__(*args, **kwargs)

    def clean_demande(self) -> int:
        value = self.cleaned_data["demande"]
        if value != self.help_request.pk:
            raise ValidationError(
                "La liste des demandes de la séance a changé depuis l'ouverture de cette page : "
                "rechargez la page, puis saisissez à nouveau les décisions."
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        decision = cleaned.get("decision")
        reason = (cleaned.get("refusal_reason") or "").strip()
        cleaned["refusal_reason"] = reason
        if decision == UNCHANGED and (cleaned.get("allocated_amount") is not None or reason):
            self.add_error(
                "decision",
                "Choisissez une décision pour enregistrer le montant ou le motif saisi, ou "
                "effacez-les.",
            )
        if reason and decision and decision != HelpRequestStatus.REFUSED:
            self.add_error(
                "refusal_reason",
                "Le motif ne concerne qu'un refus : effacez-le ou choisissez « Refusé ».",
            )
        return cleaned

    def to_decision(self) -> Decision | None:
        """Return the decision to record, or None when the row is left unchanged."""
        status = self.cleaned_data.get("decision")
        if not status:
            return None
        return Decision(
            help_request=self.help_request,
            status=status,
            allocated_amount=self.cleaned_data.get("allocated_amount"),
            refusal_reason=self.cleaned_data.get("refusal_reason", ""),
        )

    def add_service_error(self, error: ValidationError) -> None:
        """Show an error of ``save_help_request`` next to the field it is about."""
        fields = {
            "status": "decision",
            "allocated_amount": "allocated_amount",
            "refusal_reason": "refusal_reason",
        }
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(fields.get(name), errors)


class BaseDecisionFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """One form per request of the session, in the order the page shows them."""

    def __init__(self, *args: Any, help_requests: list[HelpRequest], committee: Committee, **kw):  # type: ignore[no-untyped-def]
        self.help_requests = help_requests
        self.committee = committee
        super().__init__(*args, **kw)

    def total_form_count(self) -> int:
        return len(self.help_requests)

    def initial_form_count(self) -> int:
        return len(self.help_requests)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None:
            kwargs["help_request"] = self.help_requests[index]
        kwargs["committee"] = self.committee
        return kwargs

    @property
    def empty_form(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError("The decisions page adds no row.")

    def decisions(self) -> list[Decision]:
        """Return the decisions of the rows that passed the form's checks."""
        return [
            decision
            for form in self.forms
            if form.is_valid() and (decision := form.to_decision()) is not None
        ]

    def add_service_errors(self, errors: dict[int, ValidationError]) -> None:
        for form in self.forms:
            if form.help_request.pk in errors:
                form.add_service_error(errors[form.help_request.pk])


DecisionFormSet = forms.formset_factory(DecisionForm, formset=BaseDecisionFormSet, extra=0)
