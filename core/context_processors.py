from django.http import HttpRequest

from core.models import Agent
from core.roles import Action, can


def permissions(request: HttpRequest) -> dict[str, object]:
    """Expose ``can.<action>`` to templates, read from the role matrix."""
    user = getattr(request, "user", None)
    if not isinstance(user, Agent):
        return {"can": {}}
    return {"can": {action.value: can(user, action) for action in Action}}
