"""Roster markup written in Python: a roster's status label (four pages) and the filing list's rows.

The filing list's 50 rows through the template were two includes and three reversed URLs a row, more than half of
the page's time (bench/README.md, stop 19; tests/test_filing_rows.py compares the markup with the template's).
"""

from django import template
from django.utils.translation import gettext

from hbwsrc.markup import format_markup, join_markup, url_maker
from reports.models import Roster

register = template.Library()

FILING_ROW = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{} {}</td><td><a href="{}">{}</a></td></tr>'


@register.simple_tag
def roster_status(status):
    """A roster's status as a coloured label; "Nothing yet" where the institution has no roster."""
    label = Roster.Status(status).label if status in Roster.Status.values else gettext("Nothing yet")
    return format_markup('<span class="status status-{}">{}</span>', status, label)


@register.simple_tag
def filing_rows(institutions):
    """The filing list's rows (reports/filing_list.html): each institution (a dict of reports.views.FILING_COLUMNS)
    with its current roster's status."""
    institution_url = url_maker("institutions:institution_detail")
    roster_url = url_maker("reports:roster_detail")
    reopen_url = url_maker("reports:filing_reopen")
    reopen = gettext("Reopen filing")
    nothing_yet = roster_status(None)

    def status(institution):
        if not institution["roster_id"]:
            return nothing_yet
        return format_markup(
            '<a href="{}">{} v{}</a>',
            roster_url(institution["roster_id"]),
            roster_status(institution["filing_status"]),
            institution["roster_version"],
        )

    return join_markup(
        "\n",
        FILING_ROW,
        (
            (
                institution_url(institution["public_id"]),
                institution["name"],
                institution["office__name"],
                status(institution),
                institution["contact_person"],
                institution["contact_phone"],
                reopen_url(institution["public_id"]),
                reopen,
            )
            for institution in institutions
        ),
    )
