from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
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
from core.search import SORTS, BeneficiaryFilterForm
from core.services.beneficiaries import (
    ConcurrentUpdate,
    create_beneficiary,
    record_consultation,
    record_nir_reveal,
    update_beneficiary,
)
from core.views.decorators import agent_required

CONSULTATIONS_SHOWN = 50


@agent_required(Action.LIST_BENEFICIARIES)
def beneficiary_list(request: HttpRequest) -> HttpResponse:
    filters = BeneficiaryFilterForm(request.GET)
    files = filters.apply(beneficiaries_for(request.user, Action.LIST_BENEFICIARIES))
    files = files.prefetch_related(
        Prefetch("referents", queryset=Agent.objects.order_by("last_name", "id")),
        "followup_types",
    )

    paginator = Paginator(files, settings.BENEFICIARIES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "query": filters.cleaned_data.get("recherche", "") if filters.is_valid() else "",
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "query_string": query.urlencode(),
        "sort_links": _sort_links(request),
        "can_create": can(request.user, Action.CREATE_BENEFICIARY),
        "nav": "beneficiaries",
    }
    return render(request, "core/beneficiaries/list.html", context)


def _sort_links(request: HttpRequest) -> dict[str, dict[str, str]]:
    """For each sortable column: the URL that sorts by it and its current direction."""
    current = request.GET.get("tri", "nom")
    descending = request.GET.get("ordre") == "desc"
    links = {}
    for key in SORTS:
        query = request.GET.copy()
        query.pop("page", None)
        query["tri"] = key
        query["ordre"] = "asc" if key != current or descending else "desc"
        state = "none"
        if key == current and request.GET.get("tri"):
            state = "descending" if descending else "ascending"
        links[key] = {"url": f"?{query.urlencode()}", "aria_sort": state}
    return links


def _form(request: HttpRequest, instance: Beneficiary | None = None, **kwargs) -> BeneficiaryForm:  # type: ignore[no-untyped-def]
    referents_scope = scope(request.user, Action.CHANGE_REFERENTS)
    return BeneficiaryForm(
        request.POST or None,
        instance=instance,
        can_change_referents=referents_scope is not None,
        full_info=can(request.user, Action.EDIT_FULL_INFO),
        # An agent who only sees the files they follow must stay among the referents.
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
                conflict = present(error.events, full_info=can(request.user, Action.VIEW_FULL_INFO))
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
    context: dict[str, object] = {
        "beneficiary": beneficiary,
        "referents": list(beneficiary.referents.order_by("last_name", "id")),
        "followup_types": list(beneficiary.followup_types.all()),
        "relatives": list(relatives),
        "linked_from": list(linked_from),
        "history": present(list(events[:200]), full_info=can(agent, Action.VIEW_FULL_INFO)),
        "full_info": can(agent, Action.VIEW_FULL_INFO),
        "can_edit": can(agent, Action.EDIT_GENERAL_INFO) and not archived,
        "can_edit_relatives": can(agent, Action.EDIT_FULL_INFO) and not archived,
        "can_view_nir": can(agent, Action.VIEW_NIR),
        "nir_display": format_nir(nir) if reveal_nir else mask_nir(nir),
        "nir_revealed": reveal_nir,
        "nav": "beneficiaries",
    }
    if can(agent, Action.VIEW_CONSULTATIONS):
        context["consultations"] = list(
            Consultation.objects.filter(beneficiary=beneficiary).select_related("agent")[
                :CONSULTATIONS_SHOWN
            ]
        )
    return context
