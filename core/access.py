"""The only way to fetch a person's data for an agent.

"Not found" and "not allowed" both raise Http404, so nobody can probe which files exist.
"""

from django.db.models import QuerySet
from django.http import Http404

from core.models import Agent, Beneficiary
from core.roles import Action, Scope, scope
from core.text import normalize


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
    try:
        return beneficiaries_for(agent, action).get(file_number=file_number.upper())
    except Beneficiary.DoesNotExist:
        raise Http404("Dossier introuvable.") from None


def search_beneficiaries(files: QuerySet[Beneficiary], query: str) -> QuerySet[Beneficiary]:
    """Keep the files whose names or file number contain every word of ``query``.

    Case, accents and hyphens are ignored: "eloise lefevre dupont" finds "Éloïse Lefèvre-Dupont".
    """
    for token in normalize(query).split():
        files = files.filter(search_text__contains=token)
    return files
