"""National statistics, by month: the country's totals and each structure's figures.

Every figure goes through ``tenants.national_statistics.published``, which applies the
statistical secret; no view reads the snapshot table itself. Figures are month series: the
response lists the months once (``months``), and each figure is a list with one value per month.
"""

import re
from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import national_statistics as stats
from tenants.models import Structure
from tenants.national_api import schema
from tenants.national_api.authentication import (
    NationalTokenAuthentication,
    french_exception_handler,
)

MONTH = re.compile(r"\d{4}-\d{2}")
# Months outside these years are rejected: a year near 9999 would overflow Python's dates.
YEARS = range(1900, 2101)
MAX_MONTHS = 60
# Structures per page of the list, at most and by default. With benchmarks/national_statistics.py
# at 50 structures of 20,000 files on 2 shared cores, a page of 10 over 12 months took 147 ms at
# the 95th percentile and a page of 20 took 226 ms, over the 200 ms target (docs/benchmarks.md).
# NOTE: under a load average of 8 to 16, a page of 10 took 226 ms too. A client may ask for fewer.
PAGE_SIZE = 10
MAX_PAGE_SIZE = 10
SUPPRESSION_NOTE = (
    "Secret statistique : un chiffre masqué vaut null. Un effectif inférieur au seuil est "
    "masqué, ainsi qu'un effectif complémentaire dans chaque total dont il fait partie, pour "
    "qu'aucune soustraction ne le révèle. Un montant est masqué avec le nombre de demandes "
    "d'aide qu'il additionne."
)


def _month(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        if not MONTH.fullmatch(value) or int(value[:4]) not in YEARS:
            raise ValueError(value)
        return date(int(value[:4]), int(value[5:]), 1)
    except ValueError as error:
        raise exceptions.ValidationError(
            {
                name: f"Mois invalide : « {value} » (attendu AAAA-MM entre {YEARS[0]}-01 et "
                f"{YEARS[-1]}-12, par exemple 2025-01)."
            }
        ) from error


def period(request: Request) -> tuple[date, date]:
    """Read ``debut`` and ``fin`` (AAAA-MM); by default the last 12 months."""
    end = _month(request.query_params.get("fin"), "fin") or stats.month_start(timezone.localdate())
    start = _month(request.query_params.get("debut"), "debut") or stats.add_months(end, -11)
    if start > end:
        raise exceptions.ValidationError({"debut": "Le premier mois est après le dernier."})
    if stats.add_months(start, MAX_MONTHS) <= end:
        raise exceptions.ValidationError({"debut": f"{MAX_MONTHS} mois au plus par requête."})
    return start, end


def _positive(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        bounds = f"de 1 à {maximum}" if maximum is not None else "1, 2, 3…"
        raise exceptions.ValidationError({name: f"Valeur invalide : « {raw} » (attendu {bounds})."})
    return value


class NationalApiView(APIView):
    authentication_classes = [NationalTokenAuthentication]
    permission_classes = [IsAuthenticated]
    # Query parameters the view reads; any other one is rejected, so a misspelt parameter is
    # not silently ignored.
    parameters: tuple[str, ...] = ("debut", "fin")

    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return french_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - set(self.parameters))
        if unknown:
            accepted = ", ".join(self.parameters)
            raise exceptions.ValidationError(
                {name: f"Paramètre inconnu (paramètres acceptés : {accepted})." for name in unknown}
            )

    def envelope(self, start: date, end: date, **content: Any) -> dict[str, Any]:
        return {
            "period": {"start": f"{start:%Y-%m}", "end": f"{end:%Y-%m}"},
            "months": [f"{month:%Y-%m}" for month in stats.months_between(start, end)],
            "threshold": settings.NATIONAL_STATISTICS_THRESHOLD,
            "suppression": SUPPRESSION_NOTE,
            **content,
        }


def _structure(structure: Structure, figures: stats.Published) -> dict[str, Any]:
    at = figures.refreshed_at
    return {
        "slug": structure.slug,
        "name": structure.name,
        "kind": structure.kind,
        "status": structure.status,
        "refreshed_at": at.isoformat() if at else None,
        "figures": figures.figures,
    }


class NationalTotals(NationalApiView):
    @extend_schema(
        operation_id="national_totals",
        summary="Chiffres nationaux par mois",
        description=(
            "Les chiffres de l'ensemble des structures, mois par mois. Chaque total national "
            "est calculé sur les chiffres réels de toutes les structures."
        ),
        parameters=schema.PERIOD_PARAMETERS,
        responses={200: schema.NationalTotalsResponse, **schema.ERRORS},
    )
    def get(self, request: Request) -> Response:
        start, end = period(request)
        national = stats.published(start, end, [None])[None]
        return Response(self.envelope(start, end, figures=national.figures))


def _structures() -> Any:
    # Ordered on the slug, which is unique, so that pages neither repeat nor skip a structure.
    return Structure.objects.exclude(schema_name="public").order_by("slug")


class StructureList(NationalApiView):
    parameters = ("debut", "fin", "page", "par_page")

    @extend_schema(
        operation_id="national_structure_list",
        summary="Chiffres des structures par mois, page par page",
        description=(
            f"Les structures triées par identifiant, {PAGE_SIZE} par page par défaut "
            f"(`par_page`, de 1 à {MAX_PAGE_SIZE}). `next_page` donne le numéro de la page "
            "suivante, ou null sur la dernière page."
        ),
        parameters=[
            *schema.PERIOD_PARAMETERS,
            OpenApiParameter(
                "page", int, description="Numéro de la page, à partir de 1 (1 par défaut)."
            ),
            OpenApiParameter(
                "par_page",
                int,
                description=(
                    f"Nombre de structures par page, de 1 à {MAX_PAGE_SIZE} "
                    f"({PAGE_SIZE} par défaut)."
                ),
            ),
        ],
        responses={200: schema.StructureListResponse, **schema.ERRORS},
    )
    def get(self, request: Request) -> Response:
        start, end = period(request)
        page = _positive(request, "page", 1)
        page_size = _positive(request, "par_page", PAGE_SIZE, MAX_PAGE_SIZE)

        everything = _structures()
        count = everything.count()
        structures = list(everything[(page - 1) * page_size : page * page_size])
        figures = stats.published(start, end, [item.pk for item in structures])

        items = [_structure(item, figures[item.pk]) for item in structures]
        pages = {
            "count": count,
            "page": page,
            "page_size": page_size,
            "next_page": page + 1 if page * page_size < count else None,
        }
        return Response(self.envelope(start, end, **pages, structures=items))


class StructureDetail(NationalApiView):
    @extend_schema(
        operation_id="national_structure_detail",
        summary="Chiffres d'une structure par mois",
        description="Les chiffres d'une structure, désignée par son identifiant (`slug`).",
        parameters=schema.PERIOD_PARAMETERS,
        responses={200: schema.StructureDetailResponse, **schema.ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        structure = _structures().filter(slug=slug).first()
        if structure is None:
            raise exceptions.NotFound(f"Aucune structure n'a l'identifiant « {slug} ».")
        start, end = period(request)

        figures = stats.published(start, end, [structure.pk])[structure.pk]

        return Response(self.envelope(start, end, structure=_structure(structure, figures)))


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Return a JSON 404 for an unknown address under the API, like the API's own 404s."""
    return JsonResponse(
        {"detail": "Adresse inconnue : la liste des adresses est sur /api/nationale/docs/."},
        status=404,
    )
