from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.access import beneficiaries_for, get_beneficiary_for
from core.duplicates import find_probable_duplicates
from core.enums import BeneficiaryStatus
from core.forms.beneficiaries import BeneficiaryForm
from core.history import present
from core.models import Agent, AuditEvent, Beneficiary, Consultation, Relative
from core.nir import format_nir, mask_nir
from core.roles import Action, Scope, can, scope
from core.search import SORTS, BeneficiaryFilterForm, listed_files
from core.services.beneficiaries import (
    ConcurrentUpdate,
    create_beneficiary,
    record_consultation,
    record_nir_reveal,
    update_beneficiary,
)
from core.services.retention import planned_archiving
from core.timeline import KIND_FILTERS, timeline
from core.views.decorators import agent_required
from core.views.documents import documents_context
from core.views.listing import page_context, sort_links

CONSULTATIONS_SHOWN = 50


@agent_required(Action.LIST_BENEFICIARIES)
def beneficiary_list(request: HttpRequest) -> HttpResponse:
    filters = BeneficiaryFilterForm(request.GET)
    files = listed_files(request.user, filters)
    context = {
        **page_context(request, files, single_pass=bool(filters.query)),
        "filters": filters,
        "query": filters.query,
        "sort_links": sort_links(request, SORTS),
        "can_create": can(request.user, Action.CREATE_BENEFICIARY),
        "nav": "beneficiaries",
    }
    return render(request, "core/beneficiaries/list.html", context)


def _form(request: HttpRequest, instance: Beneficiary | None = None, **kwargs) -> BeneficiaryForm:  # type: ignore[no-untyped-def]
    referents_scope = scope(request.user, Action.CHANGE_REFERENTS)
    return BeneficiaryForm(
        request.POST or None,
        instance=instance,
        can_change_referents=referents_scope is not None,
        full_info=can(request.user, Action.EDIT_FULL_INFO),
        # An agent who reaches only the files they follow must stay among the referents.
        required_referent=request.user if referents_scope is Scope.REFERENT else None,
        **kwargs,
    )


def _duplicates(request: HttpRequest, form: BeneficiaryForm, exclude_id: int | None) -> list:  # type: ignore[type-arg]
    if form.cleaned_data.get("confirm_not_duplicate"):
        return []
    values = form.cleaned_data
    return find_probable_duplicates(
        beneficiaries_for(request.user, Action.LIST_BENEFICIARIES),
        first_names=values.get("first_names", ""),
        usual_name=values.get("usual_name", ""),
        birth_name=values.get("birth_name", ""),
        birth_date=values.get("birth_date"),
        phones=[values.get("phone_1", ""), values.get("phone_2", "")],
        exclude_id=exclude_id,
    )


@agent_required(Action.CREATE_BENEFICIARY)
def beneficiary_create(request: HttpRequest) -> HttpResponse:
    form = _form(request, initial={"referents": [request.user]})
    duplicates = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates(request, form, exclude_id=None)
        if not duplicates:
            beneficiary = create_beneficiary(
                request.user, form.model_values(), form.cleaned_data.get("referents", [])
            )
            messages.success(request, f"Le dossier de {beneficiary.display_name} a été créé.")
            return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)
    context = {"form": form, "creating": True, "duplicates": duplicates, "nav": "beneficiaries"}
    return render(request, "core/beneficiaries/form.html", context)


@agent_required(Action.EDIT_GENERAL_INFO)
def beneficiary_edit(request: HttpRequest, file_number: str) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, file_number, Action.EDIT_GENERAL_INFO)
    if beneficiary.status == BeneficiaryStatus.ARCHIVED:
        messages.error(request, "Ce dossier est archivé : il ne peut plus être modifié.")
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)
    form = _form(request, instance=beneficiary)
    duplicates: list = []  # type: ignore[type-arg]
    conflict = None
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates(request, form, exclude_id=beneficiary.pk)
        if not duplicates:
            try:
                update_beneficiary(
                    request.user,
                    beneficiary,
                    form.model_values(),
                    form.cleaned_data["referents"] if "referents" in form.fields else None,
                    expected_version=form.cleaned_data.get("version"),
                )
            except ConcurrentUpdate as error:
                conflict = present(error.events, **history_rules(request.user))
                # Sending the form again now saves over the changes shown.
                form.data = form.data.copy()
                form.data["version"] = error.current.version
            else:
                messages.success(request, "Les modifications ont été enregistrées.")
                return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)
    context = {
        "form": form,
        "creating": False,
        "beneficiary": beneficiary,
        "duplicates": duplicates,
        "conflict": conflict,
        "nav": "beneficiaries",
    }
    return render(request, "core/beneficiaries/form.html", context)


@agent_required(Action.VIEW_GENERAL_INFO)
def beneficiary_detail(request: HttpRequest, file_number: str) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, file_number)
    record_consultation(request.user, beneficiary)
    return render(request, "core/beneficiaries/detail.html", _detail_context(request, beneficiary))


@agent_required(Action.VIEW_NIR)
@require_POST
def beneficiary_reveal_nir(request: HttpRequest, file_number: str) -> HttpResponse:
    """Show the file with its full social security number, after logging who asked."""
    beneficiary = get_beneficiary_for(request.user, file_number, Action.VIEW_NIR)
    record_nir_reveal(request.user, beneficiary)
    context = _detail_context(request, beneficiary, reveal_nir=True)
    return render(request, "core/beneficiaries/detail.html", context)


def history_rules(agent: Agent) -> dict[str, object]:
    """Return what the change history may show ``agent``, as the file's sections do."""
    interview_scope = scope(agent, Action.VIEW_FOLLOWUP)
    return {
        "full_info": can(agent, Action.VIEW_FULL_INFO),
        "protected": can(agent, Action.VIEW_HELP_REQUEST_PROTECTED),
        "followup_details": lambda event: (
            interview_scope in (Scope.ALL, Scope.REFERENT) or event.actor_id == agent.pk
        ),
    }


def _detail_context(
    request: HttpRequest, beneficiary: Beneficiary, reveal_nir: bool = False
) -> dict[str, object]:
    agent = request.user
    relatives = Relative.objects.filter(beneficiary=beneficiary).select_related(
        "linked_beneficiary"
    )
    reachable = beneficiaries_for(agent, Action.VIEW_GENERAL_INFO)
    # Only files the agent may open are named: a referent must not learn of others.
    linked_from = Relative.objects.filter(
        linked_beneficiary=beneficiary, beneficiary__in=reachable
    ).select_related("beneficiary")
    events = AuditEvent.objects.filter(beneficiary_id=beneficiary.pk).order_by("-created_at", "-id")
    nir = beneficiary.social_security_number
    archived = beneficiary.status == BeneficiaryStatus.ARCHIVED
    referents = list(beneficiary.referents.order_by("last_name", "id"))
    beneficiary.referent_ids = {referent.pk for referent in referents}
    kind_filter = request.GET.get("historique", "")
    context: dict[str, object] = {
        "beneficiary": beneficiary,
        "referents": referents,
        "timeline": timeline(
            agent, beneficiary, kind_filter if kind_filter in KIND_FILTERS else ""
        ),
        "timeline_filter": kind_filter,
        "active_tab": request.GET.get("onglet", "informations"),
        "can_create_followup": can(agent, Action.CREATE_FOLLOWUP) and not archived,
        "can_create_help_request": can(agent, Action.CREATE_HELP_REQUEST) and not archived,
        "followup_types": list(beneficiary.followup_types.all()),
        "relatives": list(relatives),
        "linked_from": list(linked_from),
        "history": present(list(events[:200]), **history_rules(agent)),
        "full_info": can(agent, Action.VIEW_FULL_INFO),
        "can_edit": can(agent, Action.EDIT_GENERAL_INFO) and not archived,
        "can_edit_relatives": can(agent, Action.EDIT_FULL_INFO) and not archived,
        # The day the retention job announced, for the roles that can keep or archive a file.
        "planned_archiving": (
            planned_archiving(beneficiary)
            if can(agent, Action.HOLD_RETENTION) or can(agent, Action.ARCHIVE_BENEFICIARY)
            else None
        ),
        "can_view_nir": can(agent, Action.VIEW_NIR),
        "nir_display": format_nir(nir) if reveal_nir else mask_nir(nir),
        "nir_revealed": reveal_nir,
        "nav": "beneficiaries",
    }
    context.update(documents_context(agent, beneficiary))
    tabs = [
        ("informations", "Informations"),
        ("historique", "Historique"),
        ("changements", "Historique des changements"),
    ]
    if context["document_groups"] is not None:
        tabs.append(("documents", "Documents"))
    if can(agent, Action.VIEW_CONSULTATIONS):
        tabs.append(("consultations", "Qui a consulté ce dossier"))
    context["tabs"] = tabs
    if context["active_tab"] not in {tab_id for tab_id, _ in tabs}:
        context["active_tab"] = "informations"
    if can(agent, Action.VIEW_CONSULTATIONS):
        context["consultations"] = list(
            Consultation.objects.filter(beneficiary=beneficiary).select_related("agent")[
                :CONSULTATIONS_SHOWN
            ]
        )
    return context
