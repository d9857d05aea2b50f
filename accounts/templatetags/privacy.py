from django import template

from trainees.models import mask_id_number

register = template.Library()


@register.filter
def masked(id_number) -> str:
    """An ID number as lists show it: 420106********1234 (full numbers only on the record page and the PDF)."""
    return mask_id_number(str(id_number or ""))
