"""Filtering and sorting the "Accompagnements" lists of interviews and aid requests."""

from django import forms
from django.db.models import QuerySet
from dsfr.forms import DsfrBaseForm

from core.enums import FollowupStatus, HelpRequestStatus
from core.forms.beneficiaries import DateInput
from core.models import Agent, Committee, FollowupType

FOLLOWUP_SORTS = {
    "date": ["date", "id"],
    "echeance": ["due_date", "id"],
    "beneficiaire": ["beneficiary__usual_name", "beneficiary__first_names", "id"],
    "statut": ["status", "id"],
    "agent": ["created_by__last_name", "id"],
}
HELP_REQUEST_SORTS = {
    "date": ["opening_date", "id"],
    "echeance": ["due_date", "id"],
    "beneficiaire": ["beneficiary__usual_name", "beneficiary__first_names", "id"],
    "statut": ["status", "id"],
    "agent": ["created_by__last_name", "id"],
    "organisme": ["instructor_organisation", "id"],
    "commission": ["committee_date", "id"],
    "demande": ["requested_amount", "id"],
    "attribue": ["allocated_amount", "id"],
    "paiement": ["payment_date", "id"],
    "fin": ["end_of_support_date", "id"],
}


class AccompanimentFilterForm(DsfrBaseForm):
    statut = forms.ChoiceField(label="Statut", required=False)
    accompagnement = forms.ModelChoiceField(
        label="Accompagnement",
        required=False,
        queryset=FollowupType.objects.all(),
        empty_label="Tous",
    )
    agent = forms.ModelChoiceField(
        label="Agent", required=False, queryset=Agent.objects.all(), empty_label="Tous"
    )
    du = forms.DateField(label="Du", required=False, widget=DateInput())
    au = forms.DateField(label="Au", required=False, widget=DateInput())
    commission = forms.ModelChoiceField(
        label="Commission", required=False, queryset=Committee.objects.all(), empty_label="Toutes"
    )
    tri = forms.CharField(required=False)
    ordre = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])

    def __init__(self, *args, help_requests: bool, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.help_requests = help_requests
        statuses = HelpRequestStatus.choices if help_requests else FollowupStatus.choices
        self.fields["statut"].choices = [("", "Tous"), *statuses]
        if not help_requests:
            del self.fields["commission"]
        self.sorts = HELP_REQUEST_SORTS if help_requests else FOLLOWUP_SORTS

    def apply(self, items: QuerySet) -> QuerySet:  # type: ignore[type-arg]
        values = self.cleaned_data if self.is_valid() else {}
        date_field = "opening_date" if self.help_requests else "date"
        if values.get("statut"):
            items = items.filter(status=values["statut"])
        if values.get("accompagnement"):
            type_field = "followup_type" if self.help_requests else "followup_types"
            items = items.filter(**{type_field: values["accompagnement"]})
        if values.get("agent"):
            items = items.filter(created_by=values["agent"])
        if values.get("du"):
            items = items.filter(**{f"{date_field}__gte": values["du"]})
        if values.get("au"):
            items = items.filter(**{f"{date_field}__lte": values["au"]})
        if values.get("commission"):
            items = items.filter(committee=values["commission"])
        fields = self.sorts.get(values.get("tri") or "date", self.sorts["date"])
        descending = values.get("ordre", "desc" if not values.get("tri") else "asc") == "desc"
        if descending:
            fields = [f"-{field}" for field in fields]
        return items.order_by(*fields)
