"""Tables of records written in Python rather than in their templates: the same markup in a fraction of the time.

Fifty rows of eight cells took some 600 template variable lookups, each trying a model instance as a dictionary
first, and a translation per label per row: about 7 ms of a 25 ms record list, 12 ms of a roster draft of 100
rows. Here the labels are translated once a table, the records' URL reversed once, and every value escaped as
format_html escapes it (hbwsrc.markup; bench/README.md, stops 17 and 19; tests/test_record_rows.py compares the
markup with the templates').
"""

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from hbwsrc.markup import format_markup, join_markup, url_maker
from trainees.models import ProbationRecord, mask_id_number
from trainees.templatetags.eligibility import eligibility_badge

register = template.Library()

RECORD_ROW = (
    '<tr{}><td><a href="{}">{}</a>{}</td><td class="mono-small">{}</td>{}<td>{}</td><td>{}</td><td>{} – {}</td>'
    "<td>{}{}</td><td>{}</td></tr>"
)
DRAFT_ROW = (
    '<tr><td><a href="{}">{}</a></td><td class="mono-small">{}</td><td>{}</td><td>{} – {}</td><td>{}{}</td></tr>'
)
REFUSED_ROW = '<tr><td><a href="{}">{}</a></td><td class="mono-small">{}</td><td>{}</td></tr>'


def _results() -> dict[str, str]:
    return {value: str(label) for value, label in ProbationRecord.Result.choices}


@register.simple_tag
def record_rows(rows, is_office):
    """The record list's rows (trainees/record_list.html) from the values trainees.views.LIST_COLUMNS names;
    offices see each record's institution."""
    withdrawn_class = mark_safe(' class="withdrawn"')
    withdrawn_note = format_markup(' <span class="muted">({})</span>', gettext("withdrawn"))
    fresh_note = format_markup(' <span class="muted">({})</span>', gettext("fresh graduate"))
    ongoing = gettext("ongoing")
    results = _results()
    record_url = url_maker("trainees:detail")  # ProbationRecord.get_absolute_url, reversed once
    badges = {}

    def badge(status):
        if status not in badges:
            badges[status] = eligibility_badge(status)
        return badges[status]

    return join_markup(
        "\n",
        RECORD_ROW,
        (
            (
                withdrawn_class if row["withdrawn_at"] is not None else "",
                record_url(row["public_id"]),
                row["person__name"],
                withdrawn_note if row["withdrawn_at"] is not None else "",
                mask_id_number(row["person__id_number"]),
                format_markup("<td>{}</td>", row["institution__name"]) if is_office else "",
                row["exam_year__year"],
                row["category__name"],
                row["start_date"].isoformat(),
                row["end_date"].isoformat() if row["end_date"] else ongoing,
                results.get(row["result"], row["result"]),
                fresh_note if row["is_fresh_graduate"] else "",
                badge(row["eligibility_status"]),
            )
            for row in rows
        ),
    )


@register.simple_tag
def draft_roster_rows(records):
    """The draft roster's qualifying rows (reports/roster_home.html): dicts of reports.views.DRAFT_COLUMNS."""
    fresh_note = f" ({gettext('fresh graduate')})"
    ongoing = gettext("ongoing")
    results = _results()
    record_url = url_maker("trainees:detail")  # ProbationRecord.get_absolute_url, reversed once
    return join_markup(
        "\n",
        DRAFT_ROW,
        (
            (
                record_url(row["public_id"]),
                row["person__name"],
                mask_id_number(row["person__id_number"]),
                row["category__name"],
                row["start_date"].isoformat(),
                row["end_date"].isoformat() if row["end_date"] else ongoing,
                results.get(row["result"], row["result"]),
                fresh_note if row["is_fresh_graduate"] else "",
            )
            for row in records
        ),
    )


@register.simple_tag
def refused_draft_rows(refused):
    """The records left off the draft roster, with why (reports/roster_home.html): (row, reason) pairs."""
    record_url = url_maker("trainees:detail")
    return join_markup(
        "",
        REFUSED_ROW,
        (
            (record_url(row["public_id"]), row["person__name"], mask_id_number(row["person__id_number"]), reason)
            for row, reason in refused
        ),
    )
