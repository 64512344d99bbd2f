from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from core.models import Agent
from core.roles import Action, can


def agent_required(action: Action | None = None) -> Callable[..., Any]:
    """Require a signed-in agent of this structure, allowed to perform ``action`` if given.

    A refused action answers 404, like a missing page, so roles cannot be probed.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not isinstance(request.user, Agent) or not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if action is not None and not can(request.user, action):
                raise Http404("Page introuvable.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
