"""The "Exporter le dossier" page: the right-of-access export of one file, as PDF or JSON.

The form offers the social security number to roles that may read it on this file, and the
private syntheses to the structure manager only. The file is the response to the form's POST,
sent after its audit row is written, so a link or a prefetching browser cannot start one.
"""

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods
from dsfr.forms import DsfrBaseForm

from core.access import beneficiaries_for, get_beneficiary_for
from core.models import Agent, Beneficiary
from core.roles import Action, can
from core.services.subject_access import JSON, PDF, export_file
from core.views.decorators import agent_required

PRIVATE_SYNTHESES_WARNING = (
    "Un compte rendu privé est la note de travail de l'agent qui l'a écrit : lui seul le lit "
    "dans le dossier. Incluez les comptes rendus privés si la personne demande l'ensemble de "
    "son dossier, et relisez-les avant de lui transmettre le fichier. Ce choix est inscrit dans "
    "l'historique du dossier."
)


class SubjectAccessForm(DsfrBaseForm):
    format = forms.ChoiceField(
        label="Format du fichier",
        choices=[
            (PDF, "PDF : un document à lire ou à imprimer"),
            (JSON, "JSON : les mêmes données, pour un traitement informatique"),
        ],
        initial=PDF,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez le format du fichier : PDF ou JSON.",
            "invalid_choice": "Ce format n'est pas proposé. Choisissez PDF ou JSON.",
        },
    )
    nir = forms.BooleanField(
        label="Inclure le numéro de sécurité sociale",
        help_text="Sans cette case, le fichier indique seulement que le numéro est renseigné.",
        required=False,
    )
    private_syntheses = forms.BooleanField(
        label="Inclure les comptes rendus privés",
        help_text=PRIVATE_SYNTHESES_WARNING,
        required=False,
    )

    def __init__(self, *args, offer_nir: bool, offer_private_syntheses: bool, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if not offer_nir:
            del self.fields["nir"]
        if not offer_private_syntheses:
            del self.fields["private_syntheses"]


@agent_required(Action.EXPORT_FILE)
@require_http_methods(["GET", "HEAD", "POST"])
def file_export(request: HttpRequest, file_number: str) -> HttpResponse:
    agent = request.user
    beneficiary = get_beneficiary_for(agent, file_number, Action.EXPORT_FILE)
    offer_nir = _reaches(agent, Action.VIEW_NIR, beneficiary)
    offer_private_syntheses = _reaches(agent, Action.EXPORT_FILE_PRIVATE_SYNTHESES, beneficiary)
    form = SubjectAccessForm(
        request.POST or None,
        offer_nir=offer_nir,
        offer_private_syntheses=offer_private_syntheses,
    )

    if request.method == "POST":
        # An option the page does not offer gets 404, like any other forbidden action.
        if (request.POST.get("nir") and not offer_nir) or (
            request.POST.get("private_syntheses") and not offer_private_syntheses
        ):
            raise Http404("Page introuvable.")
        if form.is_valid():
            export = export_file(
                agent,
                beneficiary,
                form.cleaned_data["format"],
                include_private_syntheses=form.cleaned_data.get("private_syntheses", False),
                include_nir=form.cleaned_data.get("nir", False),
            )
            response = HttpResponse(export.content, content_type=export.content_type)
            response["Content-Disposition"] = content_disposition_header(True, export.filename)
            return response

    context = {"form": form, "beneficiary": beneficiary, "nav": "beneficiaries"}
    return render(request, "core/beneficiaries/export.html", context)


def _reaches(agent: Agent, action: Action, beneficiary: Beneficiary) -> bool:
    if not can(agent, action):
        return False
    return beneficiaries_for(agent, action).filter(pk=beneficiary.pk).exists()
