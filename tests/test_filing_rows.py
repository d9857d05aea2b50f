"""The filing list's rows and the roster status labels are written in Python (reports.templatetags.rosters): the
same markup the templates wrote, escaped the same way, for every status and for an institution with no roster."""


import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.translation import override

from institutions.models import Institution
from reports.models import Roster
from reports.templatetags.rosters import roster_status
from tests.markup_helpers import squeeze, table_body
from tests.world import logged_in

# The labels and rows as reports/_roster_status.html and reports/filing_list.html wrote them (stop 18; the rows are
# dicts of reports.views.FILING_COLUMNS since stop 20).
TEMPLATE_STATUS = Template(
    '{% load i18n %}<span class="status status-{{ status }}">'
    '{% if status == "finalised" %}{% translate "Not submitted" %}'
    '{% elif status == "submitted" %}{% translate "Submitted" %}{% elif status == "accepted" %}{% translate "Filed" %}'
    '{% elif status == "returned" %}{% translate "Returned" %}{% elif status == "cancelled" %}'
    '{% translate "Discarded" %}{% else %}{% translate "Nothing yet" %}{% endif %}</span>'
)
TEMPLATE_ROWS = Template(
    """{% load i18n rosters %}{% for institution in page %}<tr>
    <td><a href="{% url 'institutions:institution_detail' institution.public_id %}">{{ institution.name }}</a></td><td>{{ institution.office__name }}</td>
    <td>{% if institution.roster_id %}<a href="{% url 'reports:roster_detail' institution.roster_id %}">{% roster_status institution.filing_status %} v{{ institution.roster_version }}</a>{% else %}{% roster_status None %}{% endif %}</td>
    <td>{{ institution.contact_person }} {{ institution.contact_phone }}</td>
    <td><a href="{% url 'reports:filing_reopen' institution.public_id %}">{% translate "Reopen filing" %}</a></td>
  </tr>{% endfor %}"""  # noqa: E501
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("status", [*Roster.Status.values, None, ""])
def test_status_label_matches_the_template(status, language):
    with override(language):
        assert roster_status(status) == TEMPLATE_STATUS.render(Context({"status": status}))


@pytest.fixture
def filings(rworld):
    """An institution under 武昌区 for each roster status (its one roster, version 2), one without a roster, and
    names to escape."""
    world = rworld.world
    office = world.wuchang_hospital.office
    for index, status in enumerate([*Roster.Status.values, None]):
        institution = Institution.objects.create(
            office=office,
            name=f'机构{index} <b>"&</b>',
            contact_person=f"联系人<{index}>",
            contact_phone=f"027-{index:04d}",
        )
        if status is not None:
            Roster.objects.create(
                institution=institution,
                exam_year=rworld.year,
                version=2,
                status=status,
                return_reason="退回原因" if status == Roster.Status.RETURNED else "",
                institution_name=institution.name,
                finalised_by=world.wuhan_user,
            )
    return office


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_filing_rows_match_the_template(rworld, filings, language):
    client = logged_in(rworld.world.wuchang_user)
    response = client.get(reverse("reports:filing_list"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    body = table_body(response)
    with override(language):
        expected = squeeze(TEMPLATE_ROWS.render(Context({"page": response.context["page"]})))
    assert body == expected
    assert body.count("<tr>") == Institution.objects.filter(office=filings).count()
    assert "<b>" not in body and "&lt;b&gt;" in body
    for status in ("submitted", "accepted", "returned", "finalised"):
        assert f"status-{status}" in body


def test_a_search_matching_no_institution_says_so(rworld):
    url = reverse("reports:filing_list") + "?q=不存在的机构"
    response = logged_in(rworld.world.hongshan_user).get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert '<tr><td colspan="5" class="muted">No institutions.</td></tr>' in response.content.decode()
