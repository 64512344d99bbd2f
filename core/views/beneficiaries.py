from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.access import beneficiaries_for, get_beneficiary_for, search_beneficiaries
from core.forms.beneficiaries import BeneficiaryForm, BeneficiarySearchForm
from core.roles import Action, can
from core.services.beneficiaries import create_beneficiary, update_beneficiary
from core.views.decorators import agent_required


@agent_required(Action.LIST_BENEFICIARIES)
def beneficiary_list(request: HttpRequest) -> HttpResponse:
    search = BeneficiarySearchForm(request.GET)
    files = beneficiaries_for(request.user, Action.LIST_BENEFICIARIES).exclude(status="archived")
    query = search.cleaned_data["recherche"] if search.is_valid() else ""
    if query:
        files = search_beneficiaries(files, query)
    files = files.prefetch_related("referents").order_by(
        "usual_name", "birth_name", "first_names", "id"
    )

    paginator = Paginator(files, settings.BENEFICIARIES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "search": search,
        "query": query,
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "can_create": can(request.user, Action.CREATE_BENEFICIARY),
    }
    return render(request, "core/beneficiaries/list.html", context)


@agent_required(Action.CREATE_BENEFICIARY)
def beneficiary_create(request: HttpRequest) -> HttpResponse:
    can_change_referents = can(request.user, Action.CHANGE_REFERENTS)
    form = BeneficiaryForm(
        request.POST or None,
        can_change_referents=can_change_referents,
        initial={"referents": [request.user]},
    )
    if request.method == "POST" and form.is_valid():
        beneficiary = create_beneficiary(
            request.user, form.model_values(), form.cleaned_data.get("referents", [])
        )
        messages.success(request, f"Le dossier de {beneficiary.display_name} a été créé.")
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)
    return render(request, "core/beneficiaries/form.html", {"form": form, "creating": True})


@agent_required(Action.VIEW_GENERAL_INFO)
def beneficiary_detail(request: HttpRequest, file_number: str) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, file_number)
    context = {
        "beneficiary": beneficiary,
        "referents": list(beneficiary.referents.all()),
        "can_edit": can(request.user, Action.EDIT_GENERAL_INFO),
    }
    return render(request, "core/beneficiaries/detail.html", context)


@agent_required(Action.EDIT_GENERAL_INFO)
def beneficiary_edit(request: HttpRequest, file_number: str) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, file_number, Action.EDIT_GENERAL_INFO)
    can_change_referents = can(request.user, Action.CHANGE_REFERENTS)
    form = BeneficiaryForm(
        request.POST or None, instance=beneficiary, can_change_referents=can_change_referents
    )
    if request.method == "POST" and form.is_valid():
        update_beneficiary(
            request.user,
            beneficiary,
            form.model_values(),
            form.cleaned_data["referents"] if can_change_referents else None,
        )
        messages.success(request, "Les modifications ont été enregistrées.")
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)
    context = {"form": form, "creating": False, "beneficiary": beneficiary}
    return render(request, "core/beneficiaries/form.html", context)
