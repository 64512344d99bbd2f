"""The "Notifications" page of the signed-in agent: list, mark one or all as read."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.models import Notification
from core.views.decorators import agent_required
from core.views.listing import page_context


@agent_required()
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.filter(recipient=request.user).order_by(
        "is_read", "-created_at", "-id"
    )
    context = {**page_context(request, notifications), "nav": "notifications"}
    return render(request, "core/notifications/list.html", context)


@agent_required()
@require_POST
def notification_mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one of the agent's notifications as read, then redirect to its link when the form
    sends ``ouvrir``, or back to the page the form was on."""
    notification = Notification.objects.filter(recipient=request.user, pk=notification_id).first()
    if notification is None:
        raise Http404("Notification introuvable.")
    if not notification.is_read:
        notification.is_read = True
        notification.save(update_fields=["is_read"])
    if request.POST.get("ouvrir") and _is_local_path(notification.link):
        return redirect(notification.link)
    if request.POST.get("depuis") == "tableau-de-bord":
        return redirect("core:dashboard")
    return redirect("core:notification_list")


@agent_required()
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = Notification.objects.filter(recipient=request.user, is_read=False).update(is_read=True)
    if count:
        messages.success(request, "Toutes vos notifications sont marquées comme lues.")
    return redirect("core:notification_list")


def _is_local_path(link: str) -> bool:
    # Links are paths on the structure's own host, so a link to any other host is not followed.
    return link.startswith("/") and url_has_allowed_host_and_scheme(link, allowed_hosts=None)
