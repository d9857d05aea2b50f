"""The office and institution lists' rows written in Python rather than in their templates.

Through the templates their 50 rows were about a third of the office list's time and nearly half of the
institution list's (bench/README.md, stop 19); tests/test_institution_rows.py compares the markup with the
templates'. An office's page lists its sub-offices and the institutions it supervises the same way. The rows are
dicts of the columns institutions.views names (OFFICE_COLUMNS, INSTITUTION_COLUMNS, SUPERVISED_COLUMNS).
"""

from django import template

from hbwsrc.markup import join_markup, url_maker
from institutions.models import Office

register = template.Library()

OFFICE_ROW = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>'
INSTITUTION_ROW = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{} {}</td></tr>'
SUPERVISED_ROW = '<tr><td><a href="{}">{}</a></td><td>{} {}</td><td class="num">{}</td></tr>'


def _rows(template: str, viewname: str, rows, cells):
    """``template`` for each row: the link to its page (``viewname``), then ``cells(row)``."""
    url = url_maker(viewname)
    return join_markup("\n", template, ((url(row["public_id"]), *cells(row)) for row in rows))


@register.simple_tag
def office_rows(offices):
    """Offices with their ``child_count`` and ``institution_count`` (institutions.views._with_subtree_counts)."""
    kinds = {value: str(label) for value, label in Office.Kind.choices}
    return _rows(
        OFFICE_ROW,
        "institutions:office_detail",
        offices,
        lambda office: (
            office["name"],
            kinds.get(office["kind"], office["kind"]),
            office["division_code"] or "—",
            office["child_count"],
            office["institution_count"],
        ),
    )


@register.simple_tag
def institution_rows(institutions):
    """Institutions with their supervising office."""
    return _rows(
        INSTITUTION_ROW,
        "institutions:institution_detail",
        institutions,
        lambda institution: (
            institution["name"],
            institution["office__name"],
            institution["contact_person"],
            institution["contact_phone"],
        ),
    )


@register.simple_tag
def supervised_rows(institutions):
    """The institutions an office supervises directly, with their ``account_count`` (its detail page)."""
    return _rows(
        SUPERVISED_ROW,
        "institutions:institution_detail",
        institutions,
        lambda institution: (
            institution["name"],
            institution["contact_person"],
            institution["contact_phone"],
            institution["account_count"],
        ),
    )
