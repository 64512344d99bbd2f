from collections.abc import Callable
from functools import cache

from django.http import HttpRequest

from core.models import Agent, Notification
from core.roles import Action, can


def permissions(request: HttpRequest) -> dict[str, object]:
    """Expose ``can.<action>`` to templates, read from the role matrix."""
    user = getattr(request, "user", None)
    if not isinstance(user, Agent):
        return {"can": {}}
    return {"can": {action.value: can(user, action) for action in Action}}


def unread_notifications(request: HttpRequest) -> dict[str, object]:
    """Expose ``unread_notification_count`` to templates for a signed-in agent.

    The value is a cached function that templates call, so the count query runs only on pages
    that show it, and once per rendered page however many times the page uses it.
    """
    user = getattr(request, "user", None)
    if not isinstance(user, Agent) or not user.is_authenticated:
        return {}
    return {"unread_notification_count": cache(_unread_count(user))}


def _unread_count(agent: Agent) -> Callable[[], int]:
    return lambda: Notification.objects.filter(recipient=agent, is_read=False).count()
