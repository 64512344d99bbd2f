from django import forms
from django.db.models import QuerySet
from dsfr.forms import DsfrBaseForm

from core.enums import FollowupMedium, HelpRequestStatus, InstructionKind
from core.forms.beneficiaries import FREE_TEXT_HINT, DateInput, amount
from core.models import Document, Followup, FollowupType, HelpRequest

PRIVATE_SYNTHESIS_HINT = (
    "Visible et modifiable uniquement par vous, l'auteur de cette fiche. " + FREE_TEXT_HINT
)


class ConditionalFieldsMixin:
    """Fields shown only when other fields have some values.

    ``conditions`` maps a field to a list of (controlling field, values); every pair must hold.
    """

    conditions: dict[str, list[tuple[str, list[str]]]] = {}

    def condition(self, name: str) -> str | None:
        pairs = self.conditions.get(name)
        if not pairs:
            return None
        return ";".join(f"{self[field].auto_id}={' '.join(values)}" for field, values in pairs)  # type: ignore[index]


class AccompanimentForm(ConditionalFieldsMixin, forms.ModelForm, DsfrBaseForm):
    """What the interview and aid-request forms share: documents and the two syntheses."""

    documents = forms.ModelMultipleChoiceField(
        label="Document(s)",
        queryset=Document.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Les documents du dossier à associer.",
    )

    def __init__(  # type: ignore[no-untyped-def]
        self,
        *args,
        documents: QuerySet[Document],
        show_synthesis: bool,
        show_private_synthesis: bool,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents
        if self.instance.pk:
            self.initial["documents"] = list(self.instance.documents.filter(pk__in=documents))
        if not show_synthesis:
            del self.fields["synthesis"]
        if not show_private_synthesis:
            del self.fields["private_synthesis"]
        for name in ("synthesis", "private_synthesis"):
            if name in self.fields:
                self.fields[name].widget.attrs["rows"] = 8 if name == "synthesis" else 4

    def model_values(self) -> dict:  # type: ignore[type-arg]
        return {
            name: self.cleaned_data[name]
            for name in self._meta.fields
            if name in self.fields and name not in self.many_to_many_names
        }

    many_to_many_names: tuple[str, ...] = ()


class FollowupForm(AccompanimentForm):
    conditions = {
        "third_person_name": [("medium", [FollowupMedium.THIRD_PARTY])],
        "place": [("medium", [FollowupMedium.EXTERNAL_APPOINTMENT])],
    }
    many_to_many_names = ("followup_types",)

    class Meta:
        model = Followup
        fields = [
            "date",
            "medium",
            "third_person_name",
            "place",
            "followup_types",
            "prescribing_organisation",
            "status",
            "due_date",
            "synthesis",
            "private_synthesis",
            "redirected",
            "help_request_started",
        ]
        labels = {"prescribing_organisation": "Organisme prescripteur (redirigé vers)"}
        help_texts = {"synthesis": FREE_TEXT_HINT, "private_synthesis": PRIVATE_SYNTHESIS_HINT}
        widgets = {
            "date": DateInput(),
            "due_date": DateInput(),
            "followup_types": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["followup_types"].queryset = FollowupType.objects.filter(is_proposed=True)
        self.fields["followup_types"].error_messages["required"] = (
            "Choisissez au moins un accompagnement."
        )


class HelpRequestForm(AccompanimentForm):
    is_financial = forms.TypedChoiceField(
        label="S'agit-il d'une aide financière ?",
        choices=[("1", "Oui"), ("0", "Non")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    requested_amount = amount("requested_amount", HelpRequest)
    allocated_amount = amount("allocated_amount", HelpRequest)

    financial = [("is_financial", ["1"])]
    internal = [("instruction", [InstructionKind.INTERNAL])]
    external = [("instruction", [InstructionKind.EXTERNAL])]
    conditions = {
        "financial_reason": financial,
        "requested_amount": financial,
        "decision_date": financial,
        "allocated_amount": financial,
        "end_of_support_date": financial,
        "committee_date": financial + internal,
        "payment_method": financial + internal,
        "payment_date": financial + internal,
        "dispatch_date": financial + external,
        "instructor_organisation": external,
        "refusal_reason": [("status", [HelpRequestStatus.REFUSED])],
    }

    class Meta:
        model = HelpRequest
        fields = [
            "opening_date",
            "followup_type",
            "prescribing_organisation",
            "status",
            "is_complete",
            "is_financial",
            "financial_reason",
            "instruction",
            "instructor_organisation",
            "requested_amount",
            "dispatch_date",
            "committee_date",
            "decision_date",
            "allocated_amount",
            "refusal_reason",
            "payment_method",
            "payment_date",
            "end_of_support_date",
            "due_date",
            "synthesis",
            "private_synthesis",
        ]
        widgets = {
            name: DateInput()
            for name in [
                "opening_date",
                "dispatch_date",
                "committee_date",
                "decision_date",
                "payment_date",
                "end_of_support_date",
                "due_date",
            ]
        } | {"instruction": forms.RadioSelect, "refusal_reason": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "synthesis": FREE_TEXT_HINT,
            "private_synthesis": PRIVATE_SYNTHESIS_HINT,
            "refusal_reason": (
                "Obligatoire pour un refus : il figure sur le courrier envoyé à la personne."
            ),
        }

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["followup_type"].queryset = FollowupType.objects.filter(is_proposed=True)
        self.initial["is_financial"] = "1" if self.instance.is_financial else "0"
