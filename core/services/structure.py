"""Setting up the inside of a structure's schema."""

from typing import Any

from core.enums import DEFAULT_FOLLOWUP_TYPES, Role
from core.models import Agent, FollowupType
from core.services.agents import invite_agent


def seed_default_followup_types() -> None:
    """Create the default catalogue of follow-up types; existing ones are left as they are."""
    existing = set(FollowupType.objects.values_list("default_code", flat=True))
    FollowupType.objects.bulk_create(
        FollowupType(name=label, kind=kind, default_code=code)
        for code, label, kind in DEFAULT_FOLLOWUP_TYPES
        if code not in existing
    )


def set_up_structure(actor: Any, manager: Any, seed: bool, send_invitation: bool = True) -> None:
    """Seed a new structure's catalogue and invite its first manager if not yet invited."""
    if seed:
        seed_default_followup_types()
    if not Agent.objects.filter(email=manager.email.strip().lower()).exists():
        invite_agent(
            actor,
            email=manager.email,
            first_name=manager.first_name,
            last_name=manager.last_name,
            role=Role.MANAGER,
            send_email=send_invitation,
        )
