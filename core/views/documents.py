"""The documents of a beneficiary file: the tab on the file page, adding, changing, deleting
and downloading. Files are only ever served through ``document_download``."""

import logging
from dataclasses import dataclass

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.access import allows, get_beneficiary_for
from core.enums import BeneficiaryStatus, DocumentTheme, DocumentType
from core.forms.documents import DocumentDetailsForm, DocumentUploadForm
from core.models import Agent, Beneficiary, Document
from core.roles import Action, can
from core.services.beneficiaries import AlreadyArchived
from core.services.documents import (
    BYTES_PER_MB,
    add_document,
    delete_document,
    documents_for,
    get_document_for,
    open_for_download,
    update_document,
)
from core.views.archiving import refuse_archived
from core.views.decorators import agent_required

logger = logging.getLogger(__name__)

ARCHIVED_MESSAGE = (
    "Ce dossier est archivé : ses documents ne peuvent plus être ajoutés ni modifiés."
)


@dataclass(frozen=True)
class DocumentRow:
    """Row of the "Documents" tab: a document, how it is labelled and what the agent may do."""

    document: Document
    extension: str
    size_label: str
    theme_labels: list[str]
    can_edit: bool
    can_delete: bool


def size_label(size: int) -> str:
    """Return a size in bytes as agents read it: "820 Ko", "1,5 Mo" (1 Ko = 1024 octets)."""
    if size < BYTES_PER_MB:
        return f"{max(1, round(size / 1024))} Ko"
    megabytes = f"{size / BYTES_PER_MB:.1f}".removesuffix(".0")
    return f"{megabytes.replace('.', ',')} Mo"


def documents_context(agent: Agent, beneficiary: Beneficiary) -> dict[str, object]:
    """Return what the file page's "Documents" tab shows to ``agent``.

    ``document_groups`` is None when the agent may not see the file's documents.
    """
    if not can(agent, Action.VIEW_DOCUMENTS):
        return {"document_groups": None, "can_add_document": False}
    archived = beneficiary.status == BeneficiaryStatus.ARCHIVED
    rows: dict[str, list[DocumentRow]] = {kind: [] for kind in DocumentType.values}
    for document in documents_for(agent, beneficiary):
        document.beneficiary = beneficiary
        rows[document.kind].append(
            DocumentRow(
                document=document,
                extension=document.name.rpartition(".")[2].lower(),
                size_label=size_label(document.size),
                theme_labels=[DocumentTheme(theme).label for theme in document.themes],
                can_edit=not archived and allows(agent, Action.ADD_DOCUMENT, document),
                can_delete=not archived and allows(agent, Action.DELETE_DOCUMENT, document),
            )
        )
    return {
        "document_groups": [
            {"label": DocumentType(kind).label, "rows": kind_rows}
            for kind, kind_rows in rows.items()
            if kind_rows
        ],
        "can_add_document": not archived and can(agent, Action.ADD_DOCUMENT),
    }


def _to_file(beneficiary: Beneficiary) -> HttpResponse:
    """Redirect to the file page, on its "Documents" tab."""
    url = reverse("core:beneficiary_detail", kwargs={"file_number": beneficiary.file_number})
    return redirect(f"{url}?onglet=documents")


@agent_required(Action.ADD_DOCUMENT)
def document_add(request: HttpRequest, file_number: str) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, file_number, Action.ADD_DOCUMENT)
    if beneficiary.status == BeneficiaryStatus.ARCHIVED:
        messages.error(request, ARCHIVED_MESSAGE)
        return _to_file(beneficiary)
    if request.method == "POST":
        form = DocumentUploadForm(request.POST, request.FILES)
    else:
        form = DocumentUploadForm()
    if request.method == "POST" and form.is_valid():
        try:
            document = add_document(
                request.user,
                beneficiary,
                form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                themes=form.cleaned_data["themes"],
                is_confidential=form.cleaned_data["is_confidential"],
            )
        except AlreadyArchived as error:
            return refuse_archived(request, beneficiary.file_number, error, tab="documents")
        messages.success(request, f"Le document « {document.name} » a été ajouté au dossier.")
        return _to_file(beneficiary)
    context = {"form": form, "beneficiary": beneficiary, "document": None, "nav": "beneficiaries"}
    return render(request, "core/documents/form.html", context)


@agent_required(Action.ADD_DOCUMENT)
def document_edit(request: HttpRequest, file_number: str, document_id: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, file_number, Action.ADD_DOCUMENT)
    document = get_document_for(request.user, beneficiary, document_id, Action.ADD_DOCUMENT)
    if beneficiary.status == BeneficiaryStatus.ARCHIVED:
        messages.error(request, ARCHIVED_MESSAGE)
        return _to_file(beneficiary)
    form = DocumentDetailsForm(
        request.POST if request.method == "POST" else None,
        initial={
            "kind": document.kind,
            "themes": document.themes,
            "is_confidential": document.is_confidential,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_document(
                request.user,
                document,
                kind=form.cleaned_data["kind"],
                themes=form.cleaned_data["themes"],
                is_confidential=form.cleaned_data["is_confidential"],
            )
        except AlreadyArchived as error:
            return refuse_archived(request, beneficiary.file_number, error, tab="documents")
        messages.success(request, f"Le document « {document.name} » a été modifié.")
        return _to_file(beneficiary)
    context = {
        "form": form,
        "beneficiary": beneficiary,
        "document": document,
        "nav": "beneficiaries",
    }
    return render(request, "core/documents/form.html", context)


@agent_required(Action.DELETE_DOCUMENT)
def document_delete(request: HttpRequest, file_number: str, document_id: int) -> HttpResponse:
    """Ask for confirmation (GET), then delete the document and its file (POST)."""
    beneficiary = get_beneficiary_for(request.user, file_number, Action.DELETE_DOCUMENT)
    document = get_document_for(request.user, beneficiary, document_id, Action.DELETE_DOCUMENT)
    if beneficiary.status == BeneficiaryStatus.ARCHIVED:
        raise Http404("Dossier archivé.")
    if request.method == "POST":
        name = document.name
        try:
            delete_document(request.user, document)
        except AlreadyArchived as error:
            return refuse_archived(request, beneficiary.file_number, error, tab="documents")
        messages.success(request, f"Le document « {name} » a été supprimé.")
        return _to_file(beneficiary)
    context = {"beneficiary": beneficiary, "document": document, "nav": "beneficiaries"}
    return render(request, "core/documents/delete.html", context)


@agent_required(Action.VIEW_DOCUMENTS)
@require_GET
def document_download(request: HttpRequest, file_number: str, document_id: int) -> FileResponse:
    """Send the stored file as an attachment, after recording who downloaded it."""
    beneficiary = get_beneficiary_for(request.user, file_number, Action.VIEW_DOCUMENTS)
    document = get_document_for(request.user, beneficiary, document_id)
    try:
        stored = open_for_download(request.user, document)
    except FileNotFoundError:
        logger.error("Stored file of document %s is missing", document.pk)
        raise Http404("Document introuvable.") from None
    response = FileResponse(
        stored, as_attachment=True, filename=document.name, content_type=document.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
