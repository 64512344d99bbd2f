from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.forms.retention import RetentionPolicyForm
from core.forms.structure import CustomTypeForm, StructureDetailsForm
from core.models import RetentionPolicy
from core.roles import Action, can
from core.services.retention import update_policy
from core.services.structure_settings import (
    TypeInUse,
    add_custom_type,
    types_with_usage,
    update_catalogue,
    update_details,
)
from core.views.decorators import agent_required
from tenants.api import current_structure


@agent_required(Action.VIEW_STRUCTURE)
def structure_settings(request: HttpRequest) -> HttpResponse:
    structure = current_structure()
    can_edit = can(request.user, Action.EDIT_STRUCTURE)
    details = StructureDetailsForm(
        request.POST if request.POST.get("formulaire") == "coordonnees" else None,
        initial={
            field: getattr(structure, field) for field in ("name", "address", "phone", "email")
        },
    )
    custom_type = CustomTypeForm(request.POST if request.POST.get("formulaire") == "type" else None)
    retention = RetentionPolicyForm(
        request.POST if request.POST.get("formulaire") == "conservation" else None,
        instance=RetentionPolicy.load(),
    )

    if request.method == "POST":
        if not can_edit:
            return redirect("core:structure_settings")
        if details.is_bound and details.is_valid():
            update_details(request.user, details.cleaned_data)
            messages.success(request, "Les coordonnées de la structure ont été enregistrées.")
            return redirect("core:structure_settings")
        if custom_type.is_bound and custom_type.is_valid():
            add_custom_type(
                request.user, custom_type.cleaned_data["name"], custom_type.cleaned_data["kind"]
            )
            messages.success(request, "Le type d'accompagnement a été créé et proposé.")
            return redirect("core:structure_settings")
        if retention.is_bound and retention.is_valid():
            update_policy(
                request.user,
                {name: retention.cleaned_data[name] for name in RetentionPolicyForm.Meta.fields},
            )
            messages.success(request, "Les durées de conservation ont été enregistrées.")
            return redirect("core:structure_settings")

    context = {
        "item": structure,
        "details": details,
        "custom_type": custom_type,
        "retention": retention,
        "catalogue": list(types_with_usage()),
        "can_edit": can_edit,
        "nav": "structure",
    }
    return render(request, "core/structure/settings.html", context)


@agent_required(Action.EDIT_STRUCTURE)
@require_POST
def catalogue_update(request: HttpRequest) -> HttpResponse:
    proposed = [
        int(value)
        for value in request.POST.getlist("proposes")
        if value.isascii() and value.isdigit()
    ]
    try:
        update_catalogue(request.user, proposed)
    except TypeInUse as error:
        messages.error(
            request,
            "Ces accompagnements sont utilisés par des entretiens ou des demandes d'aide et ne "
            "peuvent pas être retirés : " + ", ".join(error.names) + ". Rien n'a été modifié.",
        )
    else:
        messages.success(request, "Les accompagnements proposés ont été enregistrés.")
    return redirect("core:structure_settings")
