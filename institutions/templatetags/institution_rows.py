"""The office and institution lists' rows written in Python rather than in their templates.

Through the templates their 50 rows were about a third of the office list's time and nearly half of the
institution list's (bench/README.md, stop 19); tests/test_institution_rows.py compares the markup with the
templates'. An office's page lists its sub-offices and the institutions it supervises the same way.
"""

from django import template

from hbwsrc.markup import join_markup, url_maker

register = template.Library()

OFFICE_ROW = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>'
INSTITUTION_ROW = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{} {}</td></tr>'
SUPERVISED_ROW = '<tr><td><a href="{}">{}</a></td><td>{} {}</td><td class="num">{}</td></tr>'


@register.simple_tag
def office_rows(offices):
    """Offices with their ``child_count`` and ``institution_count`` (institutions.views._with_subtree_counts)."""
    office_url = url_maker("institutions:office_detail")
    return join_markup(
        "\n",
        OFFICE_ROW,
        (
            (
                office_url(office.public_id),
                office.name,
                office.get_kind_display(),
                office.division_code or "—",
                office.child_count,
                office.institution_count,
            )
            for office in offices
        ),
    )


@register.simple_tag
def institution_rows(institutions):
    """Institutions with their supervising office."""
    institution_url = url_maker("institutions:institution_detail")
    return join_markup(
        "\n",
        INSTITUTION_ROW,
        (
            (
                institution_url(institution.public_id),
                institution.name,
                institution.office.name,
                institution.contact_person,
                institution.contact_phone,
            )
            for institution in institutions
        ),
    )


@register.simple_tag
def supervised_rows(institutions):
    """The institutions an office supervises directly, with their ``account_count`` (its detail page)."""
    institution_url = url_maker("institutions:institution_detail")
    return join_markup(
        "\n",
        SUPERVISED_ROW,
        (
            (
                institution_url(institution.public_id),
                institution.name,
                institution.contact_person,
                institution.contact_phone,
                institution.account_count,
            )
            for institution in institutions
        ),
    )
