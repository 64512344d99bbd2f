"""National statistics, by month: the country's totals and each structure's figures.

Every figure goes through ``tenants.national_statistics.published``, which applies the
statistical secret; no view reads the snapshot table itself.
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import national_statistics as stats
from tenants.models import Structure
from tenants.national_api.authentication import (
    NationalTokenAuthentication,
    french_exception_handler,
)

MAX_MONTHS = 60
# Structures per page of the list: 12 months of 3 structures measured 263 KiB of JSON.
PAGE_SIZE = 10
SUPPRESSION_NOTE = (
    "Secret statistique : un effectif inférieur au seuil est masqué "
    '({"value": null, "suppressed": true}), ainsi qu\'un effectif complémentaire dans chaque '
    "total dont il fait partie ; les montants suivent le nombre de demandes d'aide du mois."
)


def _month(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as error:
        raise exceptions.ValidationError(
            {name: f"Mois invalide : « {value} » (attendu AAAA-MM)."}
        ) from error


def period(request: Request) -> tuple[date, date]:
    """``debut`` and ``fin`` (AAAA-MM); by default the last 12 months."""
    end = _month(request.query_params.get("fin"), "fin") or stats.month_start(timezone.localdate())
    start = _month(request.query_params.get("debut"), "debut") or stats.add_months(end, -11)
    if start > end:
        raise exceptions.ValidationError({"debut": "Le premier mois est après le dernier."})
    if stats.add_months(start, MAX_MONTHS) <= end:
        raise exceptions.ValidationError({"debut": f"{MAX_MONTHS} mois au plus par requête."})
    return start, end


class NationalApiView(APIView):
    authentication_classes = [NationalTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return french_exception_handler

    def envelope(self, start: date, end: date, **content: Any) -> dict[str, Any]:
        return {
            "period": {"start": f"{start:%Y-%m}", "end": f"{end:%Y-%m}"},
            "threshold": settings.NATIONAL_STATISTICS_THRESHOLD,
            "suppression": SUPPRESSION_NOTE,
            **content,
        }


def _structure(structure: Structure, refreshed: dict[int, Any]) -> dict[str, Any]:
    at = refreshed.get(structure.pk)
    return {
        "slug": structure.slug,
        "name": structure.name,
        "kind": structure.kind,
        "status": structure.status,
        "refreshed_at": at.isoformat() if at else None,
    }


class NationalTotals(NationalApiView):
    """GET: the country's figures by month."""

    def get(self, request: Request) -> Response:
        start, end = period(request)
        months = stats.published(start, end, [None])[None]
        return Response(self.envelope(start, end, months=months))


def _structures() -> Any:
    return Structure.objects.exclude(schema_name="public").order_by("slug")


class StructureList(NationalApiView):
    """GET: the structures' figures by month, PAGE_SIZE structures per page (``page``)."""

    def get(self, request: Request) -> Response:
        start, end = period(request)
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 0
        if page < 1:
            raise exceptions.ValidationError({"page": "Numéro de page invalide (1, 2, …)."})
        everything = _structures()
        count = everything.count()
        structures = list(everything[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
        figures = stats.published(start, end, [item.pk for item in structures])
        refreshed = stats.last_refresh([item.pk for item in structures])
        items = [{**_structure(item, refreshed), "months": figures[item.pk]} for item in structures]
        pages = {
            "count": count,
            "page": page,
            "next_page": page + 1 if page * PAGE_SIZE < count else None,
        }
        return Response(self.envelope(start, end, **pages, structures=items))


class StructureDetail(NationalApiView):
    """GET: one structure's figures by month."""

    def get(self, request: Request, slug: str) -> Response:
        structure = get_object_or_404(_structures(), slug=slug)
        start, end = period(request)
        figures = stats.published(start, end, [structure.pk])[structure.pk]
        refreshed = stats.last_refresh([structure.pk])
        return Response(
            self.envelope(start, end, structure=_structure(structure, refreshed), months=figures)
        )
