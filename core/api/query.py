"""The query parameters of list endpoints: a fixed list of filters and sort keys.

Any other parameter, or an unknown sort key, is rejected with a 400 that lists what is allowed.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

PAGINATION_PARAMETERS = ("page", "page_size")
# A date, a choice or a sort key has no empty value in the schema, so "?status=" is rejected
# rather than read as "no filter". An empty text filter is valid and filters nothing out.
EMPTY_VALUE = "Valeur vide : donnez une valeur ou retirez ce paramètre."


@dataclass(frozen=True)
class Filter:
    """One filter: its query parameter, the lookup it applies and how its value is read."""

    name: str
    lookup: str
    description: str
    kind: str = "string"  # "string", "date", "datetime" or "choice"
    choices: tuple[str, ...] = ()
    # Turns the parsed value into the lookup's value, when they differ (a normalised text).
    prepare: Callable[[Any], Any] | None = None

    def parse(self, raw: str) -> Any:
        if self.kind == "date":
            value: Any = _parse_or_none(parse_date, raw)
            if value is None:
                raise ValidationError({self.name: f"Date invalide : « {raw} ». Format AAAA-MM-JJ."})
        elif self.kind == "datetime":
            value = _parse_or_none(parse_datetime, raw)
            if value is not None:
                value = _as_utc(value)
            if value is None:
                raise ValidationError(
                    {
                        self.name: f"Date et heure invalides : « {raw} ». "
                        "Format ISO 8601, par exemple 2025-01-31T12:00:00+01:00."
                    }
                )
        elif self.kind == "choice":
            if raw not in self.choices:
                raise ValidationError(
                    {
                        self.name: f"Valeur inconnue : « {raw} ». "
                        f"Valeurs possibles : {', '.join(self.choices)}."
                    }
                )
            value = raw
        else:
            if len(raw) > 100:
                raise ValidationError({self.name: "Valeur trop longue : 100 caractères au plus."})
            value = raw
        return self.prepare(value) if self.prepare else value

    def parameter(self) -> OpenApiParameter:
        types = {"date": OpenApiTypes.DATE, "datetime": OpenApiTypes.DATETIME}
        return OpenApiParameter(
            self.name,
            types.get(self.kind, OpenApiTypes.STR),
            OpenApiParameter.QUERY,
            description=self.description,
            enum=list(self.choices) or None,
        )


def _as_utc(value: datetime) -> datetime | None:
    """Return ``value`` in UTC (naive values read in the current time zone), or None when
    that falls outside the years datetime supports. PostgreSQL accepts only offsets of less
    than 16 hours, so the offset is never sent."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _parse_or_none(parser: Callable[[str], date | datetime | None], raw: str) -> Any:
    try:
        return parser(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class ListQuery:
    """The filters and sort keys of one list endpoint.

    ``orderings`` maps each public sort key to model fields; ``id`` always comes last, so
    every order is total and pages never overlap.
    """

    filters: tuple[Filter, ...]
    orderings: dict[str, tuple[str, ...]]
    default_ordering: str
    extra_parameters: tuple[str, ...] = field(default=())

    def apply(self, request: Request, queryset: QuerySet) -> QuerySet:  # type: ignore[type-arg]
        params = request.query_params
        allowed = {f.name for f in self.filters} | {"ordering", *PAGINATION_PARAMETERS}
        allowed |= set(self.extra_parameters)
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ValidationError(
                {
                    "detail": f"Paramètre inconnu : {', '.join(unknown)}. "
                    f"Paramètres acceptés : {', '.join(sorted(allowed))}."
                }
            )
        for name in params:
            if len(params.getlist(name)) > 1:
                raise ValidationError({name: "Ce paramètre ne peut être donné qu'une fois."})

        for item in self.filters:
            raw = params.get(item.name)
            if raw == "" and item.kind != "string":
                raise ValidationError({item.name: EMPTY_VALUE})
            if raw:
                queryset = queryset.filter(**{item.lookup: item.parse(raw)})
        ordering = params.get("ordering")
        if ordering == "":
            raise ValidationError({"ordering": EMPTY_VALUE})
        return queryset.order_by(*self._ordering(ordering or self.default_ordering))

    def _ordering(self, key: str) -> list[str]:
        descending = key.startswith("-")
        fields = self.orderings.get(key.removeprefix("-"))
        if fields is None:
            raise ValidationError(
                {
                    "ordering": f"Valeur de tri inconnue : « {key} ». "
                    f"Valeurs possibles : {', '.join(self.ordering_values())}."
                }
            )
        sign = "-" if descending else ""
        return [sign + name for name in (*fields, "id")]

    def ordering_values(self) -> list[str]:
        return [value for key in self.orderings for value in (key, f"-{key}")]

    def parameters(self) -> list[OpenApiParameter]:
        return [
            *(item.parameter() for item in self.filters),
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description=(
                    "Tri : une clé, précédée de « - » pour l'ordre décroissant. L'identifiant "
                    f"départage les égalités. Par défaut : {self.default_ordering}."
                ),
                enum=self.ordering_values(),
            ),
        ]
