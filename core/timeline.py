"""The "Historique" tab of a file: its interviews and aid requests, newest first, each with
what the agent may see of it."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch

from core.access import allows, scoped_items
from core.models import Agent, Beneficiary, Comment, Followup, HelpRequest
from core.roles import Action

KIND_FILTERS = {"entretiens": "followup", "demandes": "help_request"}


@dataclass
class TimelineEntry:
    kind: str
    item: Followup | HelpRequest
    date: date
    details: bool
    synthesis: bool
    private_synthesis: bool
    can_edit: bool
    can_delete: bool
    can_comment: bool
    comments: list[Comment] = field(default_factory=list)


def timeline(agent: Agent, beneficiary: Beneficiary, kind_filter: str = "") -> list[TimelineEntry]:
    comments = Prefetch("comments", queryset=Comment.objects.select_related("author"))
    entries: list[TimelineEntry] = []
    if kind_filter in ("", "entretiens"):
        followups = (
            scoped_items(
                agent, Action.LIST_FOLLOWUPS, Followup.objects.filter(beneficiary=beneficiary)
            )
            .select_related("created_by")
            .prefetch_related("followup_types", "documents", comments)
        )
        entries += [_entry(agent, beneficiary, "followup", item, item.date) for item in followups]
    if kind_filter in ("", "demandes"):
        requests = (
            scoped_items(
                agent,
                Action.LIST_HELP_REQUESTS,
                HelpRequest.objects.filter(beneficiary=beneficiary),
            )
            .select_related("created_by", "followup_type", "committee")
            .prefetch_related("documents", comments)
        )
        entries += [
            _entry(agent, beneficiary, "help_request", item, item.opening_date) for item in requests
        ]
    return sorted(entries, key=lambda entry: (entry.date, entry.item.created_at), reverse=True)


def _entry(
    agent: Agent, beneficiary: Beneficiary, kind: str, item: Any, day: date
) -> TimelineEntry:
    # Every item of the list belongs to this file: share its cached referents.
    item.beneficiary = beneficiary
    is_followup = kind == "followup"
    actions = {
        "details": Action.VIEW_FOLLOWUP if is_followup else Action.LIST_HELP_REQUESTS,
        "synthesis": Action.VIEW_FOLLOWUP_SYNTHESIS
        if is_followup
        else Action.VIEW_HELP_REQUEST_SYNTHESIS,
        "edit": Action.EDIT_FOLLOWUP if is_followup else Action.EDIT_HELP_REQUEST,
        "delete": Action.DELETE_FOLLOWUP if is_followup else Action.DELETE_HELP_REQUEST,
        "comment": Action.COMMENT_FOLLOWUP if is_followup else Action.COMMENT_HELP_REQUEST,
        "comments": Action.VIEW_FOLLOWUP if is_followup else Action.LIST_HELP_REQUEST_COMMENTS,
    }
    is_author = item.created_by_id == agent.pk
    details = is_author or allows(agent, actions["details"], item)
    return TimelineEntry(
        kind=kind,
        item=item,
        date=day,
        details=details,
        # The author always reads what they wrote, whatever their role.
        synthesis=is_author or allows(agent, actions["synthesis"], item),
        private_synthesis=is_author,
        can_edit=allows(agent, actions["edit"], item),
        can_delete=allows(agent, actions["delete"], item),
        can_comment=details and allows(agent, actions["comment"], item),
        comments=list(item.comments.all())
        if is_author or allows(agent, actions["comments"], item)
        else [],
    )
