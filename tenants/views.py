"""The national console, on the public domain, for the national team only."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tenants.forms import StructureCreationForm
from tenants.models import NationalUser, Structure
from tenants.offboarding import offboarding_state, set_suspended
from tenants.provisioning import ManagerData, StructureData, provision_structure


def national_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not isinstance(request.user, NationalUser):
            raise Http404("Page introuvable.")
        return view(request, *args, **kwargs)

    return wrapper


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/landing.html")


@national_required
def structure_list(request: HttpRequest) -> HttpResponse:
    structures = Structure.objects.exclude(schema_name="public").prefetch_related("domains")
    return render(request, "tenants/structure_list.html", {"structures": structures})


@national_required
def structure_create(request: HttpRequest) -> HttpResponse:
    form = StructureCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        data = StructureData(
            slug=values["slug"],
            name=values["name"],
            kind=values["kind"],
            address=values["address"],
            sirets=values["sirets"],
            insee_code=values["insee_code"],
            epci_siren=values["epci_siren"],
            phone=values["phone"],
            email=values["email"],
        )
        manager = ManagerData(
            email=values["manager_email"],
            first_name=values["manager_first_name"],
            last_name=values["manager_last_name"],
        )
        try:
            structure, created = provision_structure(data, manager, actor=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if created:
                messages.success(
                    request,
                    f"La structure {structure.name} est créée à l'adresse {structure.url}. "
                    f"Une invitation a été envoyée à {manager.email}.",
                )
            else:
                # Two submissions raced: the first one created it, this one changed nothing.
                messages.info(request, f"La structure {structure.name} existait déjà.")
            return redirect("tenants:structure_detail", slug=structure.slug)
    return render(request, "tenants/structure_form.html", {"form": form})


@national_required
def structure_detail(request: HttpRequest, slug: str) -> HttpResponse:
    structure = get_object_or_404(Structure, slug=slug)
    invitations = structure.directory.all()
    return render(
        request,
        "tenants/structure_detail.html",
        {"item": structure, "invitations": invitations, **offboarding_state(structure)},
    )


@national_required
@require_POST
def structure_toggle_suspension(request: HttpRequest, slug: str) -> HttpResponse:
    structure = get_object_or_404(Structure, slug=slug)
    suspend = structure.status == Structure.Status.ACTIVE
    if set_suspended(structure, suspend, request.user):
        if suspend:
            messages.success(request, f"La structure {structure.name} est suspendue.")
        else:
            messages.success(request, f"La structure {structure.name} est réactivée.")
    return redirect("tenants:structure_detail", slug=structure.slug)
