from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core.access import get_beneficiary_for
from core.enums import BeneficiaryStatus
from core.forms.retention import ArchiveForm, RetentionHoldForm
from core.roles import Action
from core.services.archiving import AlreadyArchived, archive_beneficiary
from core.services.retention import hold_file, limit_of
from core.views.decorators import agent_required

ALREADY_ARCHIVED = "Ce dossier est déjà archivé : ses informations personnelles sont effacées."


def refuse_archived(
    request: HttpRequest, file_number: str, error: AlreadyArchived, tab: str = ""
) -> HttpResponse:
    """Redirect to the file page, on ``tab`` when given, with the service's message about a
    write that reached a file archived in the meantime."""
    messages.error(request, " ".join(error.messages))
    url = reverse("core:beneficiary_detail", args=[file_number])
    return redirect(f"{url}?onglet={tab}" if tab else url)


@agent_required(Action.ARCHIVE_BENEFICIARY)
@require_http_methods(["GET", "HEAD", "POST"])
def beneficiary_archive(request: HttpRequest, file_number: str) -> HttpResponse:
    """Ask for confirmation, then archive (anonymise) the file."""
    beneficiary = get_beneficiary_for(request.user, file_number, Action.ARCHIVE_BENEFICIARY)
    if beneficiary.status == BeneficiaryStatus.ARCHIVED:
        messages.info(request, ALREADY_ARCHIVED)
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)

    form = ArchiveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            archive_beneficiary(request.user, beneficiary)
        except AlreadyArchived:
            messages.info(request, ALREADY_ARCHIVED)
        else:
            messages.success(
                request,
                f"Le dossier n°{beneficiary.file_number} est archivé : ses informations "
                "personnelles ont été effacées.",
            )
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)

    context = {"beneficiary": beneficiary, "form": form, "nav": "beneficiaries"}
    return render(request, "core/archiving/confirm.html", context)


@agent_required(Action.HOLD_RETENTION)
@require_http_methods(["GET", "HEAD", "POST"])
def beneficiary_retention_hold(request: HttpRequest, file_number: str) -> HttpResponse:
    """Record, change or end the file's "conservation justifiée"."""
    beneficiary = get_beneficiary_for(request.user, file_number, Action.HOLD_RETENTION)
    if beneficiary.status == BeneficiaryStatus.ARCHIVED:
        messages.info(request, ALREADY_ARCHIVED)
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)

    ending = request.method == "POST" and request.POST.get("formulaire") == "lever"
    form = RetentionHoldForm(
        None if request.method != "POST" or ending else request.POST,
        initial={
            "until": beneficiary.retention_hold_until,
            "reason": beneficiary.retention_hold_reason,
        },
    )
    if ending or (form.is_bound and form.is_valid()):
        until = None if ending else form.cleaned_data["until"]
        reason = "" if ending else form.cleaned_data["reason"]
        try:
            hold_file(request.user, beneficiary, until, reason)
        except AlreadyArchived:
            messages.info(request, ALREADY_ARCHIVED)
        else:
            messages.success(
                request,
                "La conservation justifiée est levée."
                if ending
                else f"Le dossier est conservé jusqu'au {until:%d/%m/%Y}.",
            )
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)

    context = {
        "beneficiary": beneficiary,
        "form": form,
        "archiving_date": limit_of(beneficiary),
        "nav": "beneficiaries",
    }
    return render(request, "core/archiving/retention_hold.html", context)
