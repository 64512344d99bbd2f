"""The only way to fetch a person's data for an agent.

"Not found" and "not allowed" both raise Http404, so nobody can probe which files exist.
"""

import re
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from core.models import Agent, Beneficiary, Followup, HelpRequest
from core.models.beneficiaries import FILE_NUMBER_ALPHABET, FILE_NUMBER_LENGTH
from core.roles import Action, Scope, scope

FILE_NUMBER_PATTERN = re.compile(f"[{FILE_NUMBER_ALPHABET}]{{{FILE_NUMBER_LENGTH}}}")


def beneficiaries_for(
    agent: Agent, action: Action = Action.VIEW_GENERAL_INFO
) -> QuerySet[Beneficiary]:
    """Return the files ``agent`` may reach for ``action``, archived files included."""
    reach = scope(agent, action)
    files = Beneficiary.objects.all()
    if reach is Scope.ALL:
        return files
    if reach is Scope.REFERENT:
        return files.filter(referents=agent)
    return files.none()


def get_beneficiary_for(
    agent: Agent, file_number: str, action: Action = Action.VIEW_GENERAL_INFO
) -> Beneficiary:
    if not FILE_NUMBER_PATTERN.fullmatch(file_number.upper()):
        raise Http404("Dossier introuvable.")
    try:
        return beneficiaries_for(agent, action).get(file_number=file_number.upper())
    except Beneficiary.DoesNotExist:
        raise Http404("Dossier introuvable.") from None


def allows(agent: Agent, action: Action, item: Any) -> bool:
    """Return whether ``agent`` may perform ``action`` on ``item`` (an interview, an aid
    request or a document), given the scope the matrix grants their role.

    REFERENT checks read ``item.beneficiary.referent_ids`` when a list prefetched it, and the
    database otherwise.
    """
    reach = scope(agent, action)
    if reach is Scope.ALL:
        return True
    if reach is Scope.AUTHOR:
        return item.created_by_id == agent.pk
    if reach is Scope.REFERENT:
        return agent.pk in referent_ids(item.beneficiary)
    return False


def referent_ids(beneficiary: Beneficiary) -> set[int]:
    cached = getattr(beneficiary, "referent_ids", None)
    if cached is None:
        cached = set(beneficiary.referents.values_list("pk", flat=True))
        beneficiary.referent_ids = cached
    return cached


def scoped_items(agent: Agent, action: Action, items: QuerySet) -> QuerySet:  # type: ignore[type-arg]
    """Filter interviews or aid requests to those ``agent`` may reach for ``action``."""
    reach = scope(agent, action)
    if reach is Scope.ALL:
        return items
    if reach is Scope.REFERENT:
        return items.filter(beneficiary__referents=agent)
    if reach is Scope.AUTHOR:
        return items.filter(created_by=agent)
    return items.none()


def get_followup_for(
    agent: Agent, followup_id: int, action: Action = Action.VIEW_FOLLOWUP
) -> Followup:
    followup = (
        scoped_items(agent, action, Followup.objects.select_related("beneficiary", "created_by"))
        .filter(pk=followup_id)
        .first()
    )
    if followup is None:
        raise Http404("Entretien introuvable.")
    return followup


def get_help_request_for(
    agent: Agent, help_request_id: int, action: Action = Action.LIST_HELP_REQUESTS
) -> HelpRequest:
    help_request = (
        scoped_items(
            agent,
            action,
            HelpRequest.objects.select_related("beneficiary", "created_by", "followup_type"),
        )
        .filter(pk=help_request_id)
        .first()
    )
    if help_request is None:
        raise Http404("Demande d'aide introuvable.")
    return help_request
