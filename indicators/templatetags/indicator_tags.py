"""Template filters for report tables."""

from django import template

from tabular import SUPPRESSED, display

register = template.Library()


@register.filter
def cell(value) -> str:
    """A table cell as the page shows it (thousands separators, one decimal)."""
    return display(value)


@register.filter
def is_number(value) -> bool:
    return (
        (isinstance(value, int | float) and not isinstance(value, bool))
        or (type(value).__name__ == "Decimal")
        or value == SUPPRESSED
    )
