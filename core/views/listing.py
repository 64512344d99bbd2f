"""Helpers shared by the paginated, sortable lists: sort links and the page context."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest


def sort_links(request: HttpRequest, keys: Iterable[str]) -> dict[str, dict[str, str]]:
    """For each sortable column: the URL that sorts by it and its aria-sort state.

    Clicking the current column again reverses its order.
    """
    current = request.GET.get("tri", "")
    descending = request.GET.get("ordre") == "desc"
    links = {}
    for key in keys:
        query = request.GET.copy()
        query.pop("page", None)
        query["tri"] = key
        query["ordre"] = "desc" if key == current and not descending else "asc"
        state = "none"
        if key == current:
            state = "descending" if descending else "ascending"
        links[key] = {"url": f"?{query.urlencode()}", "aria_sort": state}
    return links


def page_context(request: HttpRequest, items: Any) -> dict[str, Any]:
    """Paginate ``items`` and return the page with what the pagination template needs."""
    paginator = Paginator(items, settings.BENEFICIARIES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "query_string": query.urlencode(),
    }
