"""Roster markup written in Python: a roster's status label (four pages), the filing list's rows and a roster's rows.

The filing list's 50 rows through the template were two includes and three reversed URLs a row, more than half of
the page's time (bench/README.md, stop 19; tests/test_filing_rows.py compares the markup with the template's). A
roster's page shows all its rows, some hundreds, at two date filters (some 50 microseconds each) and eight
translations a row: 62 ms for 196 rows (stop 25; tests/test_roster_rows.py compares the markup).
"""

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from hbwsrc.markup import format_markup, join_markup, url_maker
from reports.models import Roster
from trainees.models import mask_id_number

register = template.Library()

ENTRY_ROW = (
    '<tr{}>{}<td>{}</td><td>{}{}</td><td>{}</td><td class="mono-small">{}</td><td>{}</td><td>{}</td><td>{} – {}</td>'
    "<td>{}</td></tr>"
)
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


@register.simple_tag
def roster_entry_rows(entries, markable):
    """A roster's rows (reports/roster_detail.html), with a checkbox each where ``markable`` (the office returning
    it marks the rows concerned)."""
    mark = gettext("Mark")
    flagged_class = mark_safe(' class="flagged"')
    flagged_note = format_markup(' <span class="bad">({})</span>', gettext("marked by the office"))
    male, female, ongoing = gettext("Male"), gettext("Female"), gettext("ongoing")
    passed, in_progress = gettext("Passed"), gettext("Under assessment")
    in_progress_fresh = f"{in_progress} ({gettext('fresh graduate')})"

    def checkbox(entry):
        if not markable:
            return ""
        return format_markup(
            '<td><input type="checkbox" name="flagged" value="{}" aria-label="{} {}"></td>',
            entry.position, mark, entry.position,
        )  # fmt: skip

    def result(entry):
        if entry.result == "passed":
            return passed
        return in_progress_fresh if entry.is_fresh_graduate else in_progress

    return join_markup(
        "\n",
        ENTRY_ROW,
        (
            (
                flagged_class if entry.flagged else "",
                checkbox(entry),
                entry.position,
                entry.name,
                flagged_note if entry.flagged else "",
                male if entry.sex == "M" else female,
                mask_id_number(entry.id_number),
                entry.category,
                entry.departments,
                entry.start_date.isoformat(),
                entry.end_date.isoformat() if entry.end_date else ongoing,
                result(entry),
            )
            for entry in entries
        ),
    )
