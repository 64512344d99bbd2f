from django import template

register = template.Library()


@register.filter
def attr_condition(form, field_name: str):  # type: ignore[no-untyped-def]
    """Return (controlling field id, values) when the field is shown on condition."""
    condition = getattr(form, "condition", None)
    return condition(field_name) if condition else None
