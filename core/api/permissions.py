from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.models import Agent


class IsStructureAgent(BasePermission):
    """An active agent of this structure, signed in or acting through a token.

    What the agent may do beyond that is decided per view by the role matrix.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, Agent) and user.is_authenticated and user.is_active
