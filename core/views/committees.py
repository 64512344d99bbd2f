"""Commission sessions ("Commissions"): list, planning, requests, decisions, closing, PDFs."""

import logging
from io import BytesIO

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.forms.committees import AddRequestsForm, CommitteeForm, DecisionFormSet
from core.models import Committee, HelpRequest
from core.roles import Action
from core.services import committees as service
from core.views.decorators import agent_required

logger = logging.getLogger(__name__)

NAV = "committees"


def _committee(committee_id: int) -> Committee:
    committee = service.committee_list().filter(pk=committee_id).first()
    if committee is None:
        raise Http404("Séance de commission introuvable.")
    return committee


def _session_request(committee: Committee, help_request_id: int) -> HelpRequest:
    help_request = service.session_requests(committee).filter(pk=help_request_id).first()
    if help_request is None:
        raise Http404("Demande introuvable dans cette séance.")
    return help_request


def _pdf(content: bytes, filename: str) -> FileResponse:
    response = FileResponse(
        BytesIO(content), as_attachment=True, filename=filename, content_type="application/pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


@agent_required(Action.MANAGE_COMMITTEES)
def committee_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    sessions = service.committee_list()
    context = {
        "upcoming": sessions.filter(date__gte=today).order_by("date", "id"),
        "past": sessions.filter(date__lt=today).order_by("-date", "-id"),
        "nav": NAV,
    }
    return render(request, "core/committees/list.html", context)


@agent_required(Action.MANAGE_COMMITTEES)
def committee_create(request: HttpRequest) -> HttpResponse:
    form = CommitteeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        committee = service.create_committee(
            request.user, form.cleaned_data["kind"], form.cleaned_data["date"]
        )
        messages.success(
            request, f"La séance « {committee} » est programmée. Ajoutez-y les demandes à examiner."
        )
        return redirect("core:committee_detail", committee_id=committee.pk)
    return render(request, "core/committees/form.html", {"form": form, "nav": NAV})


def _detail_context(committee: Committee) -> dict[str, object]:
    rows = [
        {
            "help_request": item,
            "decided": service.is_decided(item, committee),
            "letter": service.letter_available(committee, item),
        }
        for item in service.session_requests(committee)
    ]
    return {
        "committee": committee,
        "rows": rows,
        "planned": committee.status == Committee.Status.PLANNED,
        "missing": [row["help_request"] for row in rows if not row["decided"]],
        "nav": NAV,
    }


@agent_required(Action.MANAGE_COMMITTEES)
def committee_detail(request: HttpRequest, committee_id: int) -> HttpResponse:
    committee = _committee(committee_id)
    return render(request, "core/committees/detail.html", _detail_context(committee))


@agent_required(Action.MANAGE_COMMITTEES)
def committee_add_requests(request: HttpRequest, committee_id: int) -> HttpResponse:
    committee = _committee(committee_id)
    if committee.status != Committee.Status.PLANNED:
        messages.error(request, _messages_of(service.CommitteeClosed()))
        return redirect("core:committee_detail", committee_id=committee.pk)
    eligible = service.eligible_requests(committee)
    form = AddRequestsForm(request.POST if request.method == "POST" else None, eligible=eligible)
    if request.method == "POST" and form.is_valid():
        try:
            added = service.add_requests(
                request.user, committee, [item.pk for item in form.cleaned_data["demandes"]]
            )
        except ValidationError as error:
            logger.info("Requests not added to committee %s: %s", committee.pk, error.messages)
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"{added} demande{'s' if added > 1 else ''} "
                f"ajoutée{'s' if added > 1 else ''} à la séance.",
            )
            return redirect("core:committee_detail", committee_id=committee.pk)
    checked = {str(value) for value in form["demandes"].value() or []}
    context = {
        "committee": committee,
        "form": form,
        "eligible": list(eligible),
        "checked": checked,
        "nav": NAV,
    }
    return render(request, "core/committees/add_requests.html", context)


@agent_required(Action.MANAGE_COMMITTEES)
@require_POST
def committee_remove_request(
    request: HttpRequest, committee_id: int, help_request_id: int
) -> HttpResponse:
    committee = _committee(committee_id)
    help_request = _session_request(committee, help_request_id)
    try:
        service.remove_request(request.user, committee, help_request)
    except ValidationError as error:
        logger.info(
            "Request %s not removed from committee %s: %s",
            help_request.pk,
            committee.pk,
            error.messages,
        )
        messages.error(request, _messages_of(error))
    else:
        messages.success(
            request,
            f"La demande de {help_request.beneficiary.display_name} a été retirée de la séance. "
            "Elle pourra être ajoutée à une autre séance.",
        )
    return redirect("core:committee_detail", committee_id=committee.pk)


@agent_required(Action.MANAGE_COMMITTEES)
def committee_decisions(request: HttpRequest, committee_id: int) -> HttpResponse:
    committee = _committee(committee_id)
    if committee.status != Committee.Status.PLANNED:
        messages.error(request, _messages_of(service.CommitteeClosed()))
        return redirect("core:committee_detail", committee_id=committee.pk)
    help_requests = list(service.session_requests(committee))
    if not help_requests:
        messages.info(request, "Ajoutez d'abord des demandes à la séance.")
        return redirect("core:committee_detail", committee_id=committee.pk)
    formset = DecisionFormSet(
        request.POST if request.method == "POST" else None,
        prefix="decisions",
        help_requests=help_requests,
        committee=committee,
    )
    if request.method == "POST":
        valid = formset.is_valid()
        # The rows that passed the form's checks still go through the status rules, so the
        # page shows every error at once. Nothing is saved unless every row is valid.
        try:
            errors = service.record_decisions(
                request.user, committee, formset.decisions(), commit=valid
            )
        except ValidationError as error:
            logger.info("Decisions of committee %s not recorded: %s", committee.pk, error.messages)
            messages.error(request, _messages_of(error))
            return redirect("core:committee_detail", committee_id=committee.pk)
        if valid and not errors:
            messages.success(request, "Les décisions ont été enregistrées.")
            return redirect("core:committee_detail", committee_id=committee.pk)
        formset.add_service_errors(errors)
    has_errors = request.method == "POST" and (
        any(form.errors for form in formset.forms) or formset.non_form_errors()
    )
    context = {"committee": committee, "formset": formset, "has_errors": has_errors, "nav": NAV}
    return render(request, "core/committees/decisions.html", context)


@agent_required(Action.MANAGE_COMMITTEES)
def committee_close(request: HttpRequest, committee_id: int) -> HttpResponse:
    committee = _committee(committee_id)
    if committee.status != Committee.Status.PLANNED:
        return redirect("core:committee_detail", committee_id=committee.pk)
    error = None
    if request.method == "POST":
        try:
            service.close_committee(request.user, committee)
        except ValidationError as rejected:
            logger.info("Committee %s not closed: %s", committee.pk, rejected.messages)
            error = _messages_of(rejected)
        else:
            messages.success(
                request,
                "La séance est close. Le procès-verbal et les courriers de décision sont prêts "
                "à télécharger.",
            )
            return redirect("core:committee_detail", committee_id=committee.pk)
    context = {**_detail_context(committee), "error": error}
    return render(request, "core/committees/close.html", context)


@agent_required(Action.MANAGE_COMMITTEES)
def committee_minutes(request: HttpRequest, committee_id: int) -> HttpResponse:
    committee = _committee(committee_id)
    if not committee.minutes:
        raise Http404("Cette séance n'a pas encore de procès-verbal.")
    try:
        minutes = committee.minutes.open("rb")
    except FileNotFoundError:
        logger.error("Minutes file of committee %s is missing", committee.pk)
        raise Http404("Le fichier du procès-verbal est introuvable.") from None
    response = FileResponse(
        minutes,
        as_attachment=True,
        filename=f"proces-verbal-{committee.date:%Y-%m-%d}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@agent_required(Action.MANAGE_COMMITTEES)
def committee_letter(request: HttpRequest, committee_id: int, help_request_id: int) -> HttpResponse:
    committee = _committee(committee_id)
    help_request = _session_request(committee, help_request_id)
    if not service.letter_available(committee, help_request):
        raise Http404("Aucun courrier de décision pour cette demande.")
    content = service.decision_letter(committee, help_request)
    return _pdf(
        content,
        f"decision-{help_request.beneficiary.file_number}-{committee.date:%Y-%m-%d}.pdf",
    )
