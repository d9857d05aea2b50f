from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

register = template.Library()

BADGES = {
    "eligible": ("good", _("Eligible")),
    "in_progress": ("notice-inline", _("Under assessment")),
    "insufficient": ("bad", _("Less than one year")),
    "failed": ("bad", _("Failed")),
}
NOT_ELIGIBLE = ("muted", _("Not eligible"))


@register.simple_tag
def eligibility_badge(status):
    """An eligibility status as a coloured label (a tag, not an include: the record list shows fifty)."""
    css_class, label = BADGES.get(status, NOT_ELIGIBLE)
    return format_html('<span class="{}">{}</span>', css_class, label)
