from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def choice_labels(instance, field_name: str) -> str:  # type: ignore[no-untyped-def]
    """Return the labels of a multiple-choice field's values, comma-separated."""
    field = instance._meta.get_field(field_name)
    labels = dict(field.base_field.choices)
    return ", ".join(str(labels.get(value, value)) for value in getattr(instance, field_name))


@register.filter
def euros(value: Decimal | None) -> str:
    """Format an amount the French way: 1 234,50 €."""
    if value is None:
        return ""
    return f"{number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)} €"
