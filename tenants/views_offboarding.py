"""Console pages of a structure's data and offboarding: export, deletion with two people,
and the national audit trail."""

import logging
import tempfile

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tenants.models import NationalAuditEvent, Structure
from tenants.offboarding import (
    OffboardingError,
    cancel_deletion,
    confirm_deletion,
    request_deletion,
)
from tenants.structure_archive import export_structure
from tenants.views import national_required

logger = logging.getLogger(__name__)

# Events listed on the national journal page, newest first.
JOURNAL_EVENTS = 200


@national_required
@require_POST
def structure_export(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the structure's archive, built in an anonymous temporary file.

    The file is unlinked as soon as it is created, outside any folder a web server serves,
    and disappears when the response is closed.
    """
    structure = get_object_or_404(Structure, slug=slug)
    if structure.status == Structure.Status.PROVISIONING:
        messages.error(
            request, "La structure est en cours de création : réessayez dans un instant."
        )
        return redirect("tenants:structure_detail", slug=structure.slug)

    archive = tempfile.TemporaryFile(prefix="export-structure-")
    try:
        export_structure(structure, archive, actor=request.user)
    except OSError:
        archive.close()
        logger.exception("Export of structure %s failed", structure.schema_name)
        messages.error(
            request,
            "L'export a échoué, car un fichier de la structure n'a pas pu être lu. Réessayez ; "
            "si l'échec se répète, transmettez l'heure de l'essai à l'équipe technique.",
        )
        return redirect("tenants:structure_detail", slug=structure.slug)
    archive.seek(0)
    file_name = f"suivi-social-{structure.slug}-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(
        archive, as_attachment=True, filename=file_name, content_type="application/zip"
    )


@national_required
@require_POST
def structure_deletion_request(request: HttpRequest, slug: str) -> HttpResponse:
    structure = get_object_or_404(Structure, slug=slug)
    try:
        deletion = request_deletion(structure, request.user)
    except OffboardingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "La suppression est demandée. Un autre membre de l'équipe nationale doit la "
            f"confirmer avant le {timezone.localtime(deletion.expires_at):%d/%m/%Y à %H:%M}.",
        )
    return redirect("tenants:structure_detail", slug=structure.slug)


@national_required
@require_POST
def structure_deletion_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    structure = get_object_or_404(Structure, slug=slug)
    try:
        cancel_deletion(structure, request.user)
    except OffboardingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "La demande de suppression est annulée.")
    return redirect("tenants:structure_detail", slug=structure.slug)


@national_required
@require_POST
def structure_deletion_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    structure = get_object_or_404(Structure, slug=slug)
    # Typing the identifier guards against confirming the wrong structure's deletion.
    typed = request.POST.get("slug_confirmation", "").strip()
    if typed != structure.slug:
        messages.error(
            request,
            f"Pour confirmer la suppression, saisissez exactement l'identifiant « "
            f"{structure.slug} » de la structure.",
        )
        return redirect("tenants:structure_detail", slug=structure.slug)
    try:
        confirm_deletion(structure, request.user)
    except OffboardingError as error:
        messages.error(request, str(error))
        return redirect("tenants:structure_detail", slug=structure.slug)
    messages.success(
        request,
        f"La structure {structure.name} est supprimée, avec toutes ses données et ses "
        "fichiers. Le journal national garde la trace de la suppression.",
    )
    return redirect("tenants:structure_list")


@national_required
def national_journal(request: HttpRequest) -> HttpResponse:
    events = NationalAuditEvent.objects.all()[:JOURNAL_EVENTS]
    return render(
        request, "tenants/national_journal.html", {"events": events, "nav": "national_journal"}
    )
