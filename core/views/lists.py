from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.access import scoped_items
from core.accompaniment_lists import AccompanimentFilterForm
from core.models import Followup, HelpRequest
from core.roles import Action, Scope, can, scope
from core.views.decorators import agent_required
from core.views.listing import page_context, sort_links


@agent_required(Action.VIEW_ACCOMPANIMENTS)
def accompaniment_list(request: HttpRequest) -> HttpResponse:
    help_requests = request.GET.get("onglet") == "demandes-d-aide"
    filters = AccompanimentFilterForm(request.GET, help_requests=help_requests)
    if help_requests:
        items = scoped_items(request.user, Action.LIST_HELP_REQUESTS, HelpRequest.objects.all())
        items = items.select_related("beneficiary", "created_by", "followup_type", "committee")
    else:
        items = scoped_items(request.user, Action.LIST_FOLLOWUPS, Followup.objects.all())
        items = items.select_related("beneficiary", "created_by").prefetch_related("followup_types")
    items = filters.apply(items)

    context = {
        **page_context(request, items),
        "help_requests": help_requests,
        "filters": filters,
        "sort_links": sort_links(request, filters.sorts),
        "show_protected": can(request.user, Action.VIEW_HELP_REQUEST_PROTECTED),
        "nav": "accompaniments",
    }
    if not help_requests:
        # A role that reads only its own interviews sees the others as rows without details.
        reach = scope(request.user, Action.VIEW_FOLLOWUP)
        for item in context["page"].object_list:
            item.show_details = reach in (Scope.ALL, Scope.REFERENT) or (
                item.created_by_id == request.user.pk
            )
    return render(request, "core/accompaniments/list.html", context)
