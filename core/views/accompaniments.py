"""Interview and aid-request forms, and comments on them."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.access import allows, get_beneficiary_for, get_followup_for, get_help_request_for
from core.enums import BeneficiaryStatus
from core.forms.accompaniments import FollowupForm, HelpRequestForm
from core.models import Beneficiary, Followup, HelpRequest
from core.roles import Action
from core.services.accompaniments import delete_item, save_followup, save_help_request
from core.services.beneficiaries import AlreadyArchived
from core.services.comments import add_comment
from core.services.documents import documents_for
from core.views.archiving import refuse_archived
from core.views.decorators import agent_required

KINDS = {
    "entretien": {
        "model": Followup,
        "form": FollowupForm,
        "create": Action.CREATE_FOLLOWUP,
        "edit": Action.EDIT_FOLLOWUP,
        "delete": Action.DELETE_FOLLOWUP,
        "synthesis": Action.VIEW_FOLLOWUP_SYNTHESIS,
        "comment": Action.COMMENT_FOLLOWUP,
        "label": "entretien",
    },
    "demande": {
        "model": HelpRequest,
        "form": HelpRequestForm,
        "create": Action.CREATE_HELP_REQUEST,
        "edit": Action.EDIT_HELP_REQUEST,
        "delete": Action.DELETE_HELP_REQUEST,
        "synthesis": Action.VIEW_HELP_REQUEST_SYNTHESIS,
        "comment": Action.COMMENT_HELP_REQUEST,
        "label": "demande d'aide",
    },
}


def _history_url(item: Followup | HelpRequest) -> str:
    kind = "entretien" if isinstance(item, Followup) else "demande"
    url = reverse("core:beneficiary_detail", args=[item.beneficiary.file_number])
    return f"{url}?onglet=historique#{kind}-{item.pk}"


def _item_form(request: HttpRequest, kind: str, beneficiary: Beneficiary, item: Any) -> Any:
    spec = KINDS[kind]
    is_author = item.pk is None or item.created_by_id == request.user.pk
    return spec["form"](
        request.POST or None,
        instance=item,
        documents=documents_for(request.user, beneficiary),
        show_synthesis=is_author or allows(request.user, spec["synthesis"], item),
        show_private_synthesis=is_author,
    )


def _save(request: HttpRequest, kind: str, form: Any, item: Any) -> bool:
    """Save the form through its service; put rule violations back on the form."""
    documents = list(form.cleaned_data.get("documents", []))
    if item.pk:
        # Documents the editor may not see (confidential ones of others) stay linked.
        visible = form.fields["documents"].queryset
        documents += list(item.documents.exclude(pk__in=visible.values("pk")))
    try:
        if kind == "entretien":
            save_followup(
                request.user,
                item,
                form.model_values(),
                form.cleaned_data["followup_types"],
                documents,
            )
        else:
            save_help_request(request.user, item, form.model_values(), documents)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    return True


def _render_form(
    request: HttpRequest, kind: str, form: Any, beneficiary: Beneficiary, item: Any
) -> HttpResponse:
    context = {
        "form": form,
        "kind": kind,
        "label": KINDS[kind]["label"],
        "beneficiary": beneficiary,
        "item": item,
        "nav": "accompaniments",
    }
    return render(request, "core/accompaniments/form.html", context)


def item_create(request: HttpRequest, kind: str) -> HttpResponse:
    spec = KINDS[kind]
    beneficiary = get_beneficiary_for(request.user, request.GET.get("dossier", ""), spec["create"])
    if beneficiary.status == BeneficiaryStatus.ARCHIVED:
        messages.error(request, "Ce dossier est archivé : vous ne pouvez plus y ajouter d'élément.")
        return redirect("core:beneficiary_detail", file_number=beneficiary.file_number)
    item = spec["model"](beneficiary=beneficiary)
    form = _item_form(request, kind, beneficiary, item)
    if request.method == "POST" and form.is_valid() and _save(request, kind, form, item):
        messages.success(
            request,
            f"L'{spec['label']} a été enregistré·e."
            if kind == "entretien"
            else "La demande d'aide a été enregistrée.",
        )
        return redirect(_history_url(item))
    return _render_form(request, kind, form, beneficiary, item)


def _get_item(request: HttpRequest, kind: str, item_id: int, action: Action) -> Any:
    if kind == "entretien":
        item = get_followup_for(request.user, item_id, Action.LIST_FOLLOWUPS)
    else:
        item = get_help_request_for(request.user, item_id, Action.LIST_HELP_REQUESTS)
    if not allows(request.user, action, item):
        raise Http404("Élément introuvable.")
    if item.beneficiary.status == BeneficiaryStatus.ARCHIVED:
        raise Http404("Dossier archivé.")
    return item


def item_edit(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    item = _get_item(request, kind, item_id, KINDS[kind]["edit"])
    form = _item_form(request, kind, item.beneficiary, item)
    if request.method == "POST" and form.is_valid() and _save(request, kind, form, item):
        messages.success(request, "Les modifications ont été enregistrées.")
        return redirect(_history_url(item))
    return _render_form(request, kind, form, item.beneficiary, item)


def item_delete(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    item = _get_item(request, kind, item_id, KINDS[kind]["delete"])
    if request.method == "POST":
        file_number = item.beneficiary.file_number
        try:
            delete_item(request.user, item)
        except AlreadyArchived as error:
            return refuse_archived(request, file_number, error, tab="historique")
        messages.success(request, "L'élément a été supprimé.")
        return redirect(
            reverse("core:beneficiary_detail", args=[file_number]) + "?onglet=historique"
        )
    context = {"item": item, "kind": kind, "label": KINDS[kind]["label"], "nav": "accompaniments"}
    return render(request, "core/accompaniments/delete.html", context)


@require_POST
def item_comment(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    item = _get_item(request, kind, item_id, KINDS[kind]["comment"])
    content = request.POST.get("contenu", "").strip()
    if not content:
        messages.error(request, "Le commentaire est vide : écrivez-le avant de l'envoyer.")
    elif len(content) > 5000:
        messages.error(request, "Le commentaire dépasse 5 000 caractères : raccourcissez-le.")
    else:
        try:
            add_comment(request.user, item, content)
        except AlreadyArchived as error:
            return refuse_archived(request, item.beneficiary.file_number, error, tab="historique")
        messages.success(request, "Votre commentaire a été ajouté.")
    return redirect(_history_url(item))


followup_create = agent_required()(lambda request: item_create(request, "entretien"))
help_request_create = agent_required()(lambda request: item_create(request, "demande"))
followup_edit = agent_required()(lambda request, item_id: item_edit(request, "entretien", item_id))
help_request_edit = agent_required()(
    lambda request, item_id: item_edit(request, "demande", item_id)
)
followup_delete = agent_required()(
    lambda request, item_id: item_delete(request, "entretien", item_id)
)
help_request_delete = agent_required()(
    lambda request, item_id: item_delete(request, "demande", item_id)
)
followup_comment = agent_required()(
    lambda request, item_id: item_comment(request, "entretien", item_id)
)
help_request_comment = agent_required()(
    lambda request, item_id: item_comment(request, "demande", item_id)
)
