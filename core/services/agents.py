"""Inviting, editing and deactivating the agents of a structure."""

import logging
import smtplib
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from core.models import Agent
from core.services import audit
from tenants.api import current_structure, sync_directory
from tenants.models import Structure

logger = logging.getLogger(__name__)


class AgentAlreadyInvited(Exception):
    """An agent of this structure already has that e-mail address."""


def invite_agent(
    actor: Any, *, email: str, first_name: str, last_name: str, role: str, send_email: bool = True
) -> Agent:
    """Create the agent and its directory entry, then e-mail the invitation after commit."""
    email = email.strip().lower()
    with transaction.atomic():
        if Agent.objects.filter(email=email).exists():
            raise AgentAlreadyInvited(email)
        agent = Agent.objects.create(
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            role=role,
            invited_by_label=audit._actor_label(actor),
        )
        sync_directory(agent.email, is_active=True)
        audit.record(actor, "invite_agent", agent, audit.snapshot(agent))
        if send_email:
            structure = current_structure()
            transaction.on_commit(lambda: send_invitation(agent, structure))
    logger.info("Agent %s invited with role %s", agent.pk, role)
    return agent


def update_agent(actor: Any, agent: Agent, **values: Any) -> Agent:
    """Change an agent's names, e-mail, role or access, keeping the directory in step."""
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        before = audit.snapshot(agent)
        previous_email = agent.email
        for name, value in values.items():
            setattr(agent, name, value)
        agent.save()
        changes = audit.diff(before, audit.snapshot(agent))
        if changes:
            sync_directory(agent.email, agent.is_active, previous_email=previous_email)
            audit.record(actor, "update_agent", agent, changes)
    logger.info("Agent %s updated: %s", agent.pk, sorted(changes))
    return agent


def send_invitation(agent: Agent, structure: Structure) -> None:
    """E-mail the invitation. A mail server failure is logged, not raised: the agent is
    already saved and can sign in anyway, so the manager's request must not fail."""
    context = {"agent": agent, "structure": structure, "sign_in_url": structure.url + "connexion/"}
    try:
        send_mail(
            subject=f"Invitation à l'espace « {structure.name} » sur Suivi Social",
            message=render_to_string("core/emails/invitation.txt", context),
            from_email=None,
            recipient_list=[agent.email],
        )
    except (OSError, smtplib.SMTPException) as error:
        # The error's text can contain the recipient's address: log its class only.
        logger.error("Invitation e-mail to agent %s failed: %s", agent.pk, type(error).__name__)
        return
    logger.info("Invitation e-mail sent to agent %s", agent.pk)
