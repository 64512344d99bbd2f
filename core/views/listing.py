"""Helpers shared by the paginated, sortable lists: sort links and the page context."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
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


class SinglePassPaginator(Paginator):
    """A paginator that reads the requested page and the total in one query.

    The page query carries ``COUNT(*) OVER ()``, so a costly filter (a trigram search) runs
    once instead of twice. Without such a filter, two queries are faster: PostgreSQL reads the
    first rows of the list from an index, and counting is a separate, cheaper scan. A page past
    the end comes back empty, so the paginator then counts apart. An empty first page means
    that no row matches.
    """

    def __init__(self, object_list: QuerySet[Any], per_page: int, number: object) -> None:
        super().__init__(object_list, per_page)
        self._first_page: Page | None = None
        try:
            requested = max(int(str(number)), 1)
        except ValueError:
            requested = 1
        bottom = (requested - 1) * per_page
        rows = list(
            object_list.annotate(_total_rows=Window(Count("pk")))[bottom : bottom + per_page]
        )
        if rows:
            self.__dict__["count"] = rows[0]._total_rows
            self._first_page = self._get_page(rows, requested, self)
        elif requested == 1:
            self.__dict__["count"] = 0

    def page(self, number: object) -> Page:
        if self._first_page is not None and number == self._first_page.number:
            return self._first_page
        return super().page(number)


def paginate(items: Any, number: object, *, single_pass: bool = False) -> Page:
    """Return page ``number`` of ``items``, or the nearest page that exists.

    ``single_pass`` counts the rows in the page query: see :class:`SinglePassPaginator`.
    """
    per_page = settings.BENEFICIARIES_PER_PAGE
    if single_pass:
        paginator: Paginator = SinglePassPaginator(items, per_page, number)
    else:
        paginator = Paginator(items, per_page)
    return paginator.get_page(number)


def page_context(request: HttpRequest, items: Any, *, single_pass: bool = False) -> dict[str, Any]:
    """Paginate ``items`` and return the page with what the pagination template needs."""
    page = paginate(items, request.GET.get("page"), single_pass=single_pass)
    paginator = page.paginator
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "query_string": query.urlencode(),
    }
