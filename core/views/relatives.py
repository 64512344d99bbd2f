from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.access import beneficiaries_for, get_beneficiary_for
from core.enums import BeneficiaryStatus
from core.forms.relatives import RelativeForm
from core.models import Beneficiary, Relative
from core.roles import Action
from core.services.beneficiaries import AlreadyArchived, delete_relative, save_relative
from core.views.archiving import refuse_archived
from core.views.decorators import agent_required


def _editable_file(request: HttpRequest, file_number: str) -> Beneficiary:
    beneficiary = get_beneficiary_for(request.user, file_number, Action.EDIT_FULL_INFO)
    if beneficiary.status == BeneficiaryStatus.ARCHIVED:
        raise Http404("Dossier archivé.")
    return beneficiary


def _relative(beneficiary, relative_id: int) -> Relative:  # type: ignore[no-untyped-def]
    relative = Relative.objects.filter(pk=relative_id, beneficiary=beneficiary).first()
    if relative is None:
        raise Http404("Membre de l'entourage introuvable.")
    return relative


@agent_required(Action.EDIT_FULL_INFO)
def relative_edit(
    request: HttpRequest, file_number: str, relative_id: int | None = None
) -> HttpResponse:
    beneficiary = _editable_file(request, file_number)
    relative = _relative(beneficiary, relative_id) if relative_id else Relative()
    form = RelativeForm(
        request.POST or None,
        instance=relative,
        beneficiary=beneficiary,
        reachable=beneficiaries_for(request.user, Action.VIEW_GENERAL_INFO),
    )
    if request.method == "POST" and form.is_valid():
        try:
            save_relative(request.user, beneficiary, relative, form.model_values())
        except AlreadyArchived as error:
            return refuse_archived(request, beneficiary.file_number, error)
        messages.success(request, "L'entourage a été mis à jour.")
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)
    context = {
        "form": form,
        "beneficiary": beneficiary,
        "relative": relative,
        "nav": "beneficiaries",
    }
    return render(request, "core/relatives/form.html", context)


@agent_required(Action.EDIT_FULL_INFO)
@require_POST
def relative_delete(request: HttpRequest, file_number: str, relative_id: int) -> HttpResponse:
    beneficiary = _editable_file(request, file_number)
    try:
        delete_relative(request.user, _relative(beneficiary, relative_id))
    except AlreadyArchived as error:
        return refuse_archived(request, beneficiary.file_number, error)
    messages.success(request, "Le membre de l'entourage a été retiré du dossier.")
    return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)
