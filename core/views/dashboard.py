"""The "Tableau de bord": what the signed-in agent should act on first.

The page runs a fixed number of SQL queries, whatever the number of items (see
tests/core/test_dashboard.py).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.access import beneficiaries_for, scoped_items
from core.enums import BeneficiaryStatus
from core.models import Agent, Beneficiary, Followup, HelpRequest, Notification
from core.roles import Action
from core.services.notifications import (
    FOLLOWUP_CLOSED_STATUSES,
    HELP_REQUEST_CLOSED_STATUSES,
    history_link,
)
from core.views.decorators import agent_required

UPCOMING_DAYS = 14
DUE_ITEMS_SHOWN = 10
RECENT_FILES_SHOWN = 10
NOTIFICATIONS_SHOWN = 5


@dataclass(frozen=True)
class DueItem:
    """An interview or aid request with a due date, as the dashboard lists it."""

    item: Followup | HelpRequest
    label: str
    due_date: date
    link: str


@agent_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    agent = request.user
    today = timezone.localdate()
    horizon = today + timedelta(days=UPCOMING_DAYS)
    overdue, more_overdue = _due_items(agent, Q(due_date__lte=today))
    upcoming, more_upcoming = _due_items(agent, Q(due_date__gt=today, due_date__lte=horizon))
    notifications = Notification.objects.filter(recipient=agent, is_read=False).order_by(
        "-created_at", "-id"
    )
    context = {
        "overdue": overdue,
        "more_overdue": more_overdue,
        "upcoming": upcoming,
        "more_upcoming": more_upcoming,
        "upcoming_days": UPCOMING_DAYS,
        "recent_files": list(_recent_files(agent)),
        "notifications": list(notifications[:NOTIFICATIONS_SHOWN]),
        "nav": "dashboard",
    }
    return render(request, "core/dashboard.html", context)


def _due_items(agent: Agent, dates: Q) -> tuple[list[DueItem], bool]:
    """Return the agent's open interviews and aid requests whose due date matches ``dates``,
    earliest first, and whether there are more than the dashboard shows.

    "The agent's" means created by them or on a file they are referent of, and only what the
    role matrix lets them list.
    """
    mine = Q(created_by=agent) | Q(
        beneficiary__in=Beneficiary.objects.filter(referents=agent).values("pk")
    )
    followups = Followup.objects.filter(mine, dates).exclude(status__in=FOLLOWUP_CLOSED_STATUSES)
    requests = HelpRequest.objects.filter(mine, dates).exclude(
        status__in=HELP_REQUEST_CLOSED_STATUSES
    )
    items = [
        DueItem(item, f"Entretien du {item.date:%d/%m/%Y}", item.due_date, history_link(item))
        for item in _first_due(scoped_items(agent, Action.LIST_FOLLOWUPS, followups))
    ] + [
        DueItem(
            item,
            f"Demande d'aide du {item.opening_date:%d/%m/%Y}",
            item.due_date,
            history_link(item),
        )
        for item in _first_due(scoped_items(agent, Action.LIST_HELP_REQUESTS, requests))
    ]
    items.sort(key=lambda due: (due.due_date, due.item.created_at))
    return items[:DUE_ITEMS_SHOWN], len(items) > DUE_ITEMS_SHOWN


def _first_due(items: QuerySet) -> QuerySet:  # type: ignore[type-arg]
    # Reads one row more than shown, to find out whether the list is cut.
    return (
        items.exclude(beneficiary__status=BeneficiaryStatus.ARCHIVED)
        .select_related("beneficiary")
        .order_by("due_date", "created_at", "id")[: DUE_ITEMS_SHOWN + 1]
    )


def _recent_files(agent: Agent) -> QuerySet[Beneficiary]:
    """Return the files the agent opened last, each once, among those they may still open."""
    return (
        beneficiaries_for(agent, Action.VIEW_GENERAL_INFO)
        .filter(consultations__agent=agent)
        # Computed over this agent's consultations only, the rows the filter above joined.
        .annotate(last_consulted_at=Max("consultations__consulted_at"))
        .order_by("-last_consulted_at", "-id")[:RECENT_FILES_SHOWN]
    )
