"""Turning validated JSON into web-form data, so API writes pass the same checks as the forms."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import QueryDict


def form_data(values: dict[str, Any], choice_booleans: tuple[str, ...] = ()) -> QueryDict:
    """Encode Python values as a browser would post them.

    ``choice_booleans`` are booleans that the form reads from a "1"/"0" choice.
    """
    data = QueryDict(mutable=True)
    for name, value in values.items():
        if isinstance(value, list | tuple | set) or hasattr(value, "all"):
            items = value.all() if hasattr(value, "all") else value
            data.setlist(name, [_encode(item) for item in items])
        elif isinstance(value, bool) and name in choice_booleans:
            data[name] = "1" if value else "0"
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = _encode(value)
    return data


def _encode(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, date | Decimal):
        return value.isoformat() if isinstance(value, date) else str(value)
    return str(value)


def instance_values(instance: models.Model, names: list[str]) -> dict[str, Any]:
    """Return the current values of ``names``, many-to-many relations included.

    A foreign key gives its id, None when unset: reading the related object of a new
    instance whose required key is not set yet would raise ``RelatedObjectDoesNotExist``.
    """
    values: dict[str, Any] = {}
    for name in names:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = list(getattr(instance, name).all()) if instance.pk else []
        elif field.many_to_one:
            values[name] = getattr(instance, field.attname)
        else:
            values[name] = getattr(instance, name)
    return values
