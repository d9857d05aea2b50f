"""A roster's rows are written in Python (reports.templatetags.rosters.roster_entry_rows): the same markup the
template wrote, escaped the same way, with and without the office's checkboxes, in both languages."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import override

from reports.models import Roster, RosterEntry
from tests.markup_helpers import squeeze, table_body
from tests.record_helpers import IN_PROGRESS, make_person, make_record
from trainees.models import Person

# The rows as reports/roster_detail.html wrote them before (stop 25), kept here as the reference.
TEMPLATE_ROWS = Template(
    """{% load i18n privacy %}{% for e in entries %}<tr{% if e.flagged %} class="flagged"{% endif %}>
    {% if "return" in actions %}<td><input type="checkbox" name="flagged" value="{{ e.position }}" aria-label="{% translate 'Mark' %} {{ e.position }}"></td>{% endif %}
    <td>{{ e.position }}</td><td>{{ e.name }}{% if e.flagged %} <span class="bad">({% translate "marked by the office" %})</span>{% endif %}</td><td>{% if e.sex == "M" %}{% translate "Male" %}{% else %}{% translate "Female" %}{% endif %}</td><td class="mono-small">{{ e.id_number|masked }}</td><td>{{ e.category }}</td><td>{{ e.departments }}</td><td>{{ e.start_date|date:"Y-m-d" }} – {{ e.end_date|date:"Y-m-d"|default:_("ongoing") }}</td><td>{% if e.result == "passed" %}{% translate "Passed" %}{% else %}{% translate "Under assessment" %}{% if e.is_fresh_graduate %} ({% translate "fresh graduate" %}){% endif %}{% endif %}</td></tr>{% endfor %}"""  # noqa: E501
)


@pytest.fixture
def roster(rworld):
    """A submitted roster of 武昌医院 with a passed row, an ongoing fresh graduate's row (flagged by the office), a
    woman's row and a name to be escaped."""
    world = rworld.world
    at = world.wuchang_hospital
    people = [
        (make_person(1, name="张三"), "2024-07-01", "2025-06-30", "passed", False),
        (make_person(2, name="李四"), "2025-02-01", None, IN_PROGRESS, True),
        (make_person(3, name="王芳"), "2024-09-01", "2025-08-31", "passed", False),
        (make_person(4, name='<b>"赵"</b>'), "2024-09-01", "2025-08-31", IN_PROGRESS, False),
    ]
    roster = Roster.objects.create(
        institution=at, exam_year=rworld.year, version=2, status=Roster.Status.SUBMITTED, row_count=len(people),
        institution_name=at.name, office_name=at.office.name, finalised_by=world.master,
        submitted_at=timezone.now(), submitted_by=world.master,
    )  # fmt: skip
    Person.objects.filter(pk=people[2][0].pk).update(sex="F")
    people[2][0].sex = "F"
    for position, (person, start, end, result, fresh) in enumerate(people, start=1):
        record = make_record(person, at, rworld.year, rworld.clinical, start, end, result, is_fresh_graduate=fresh)
        RosterEntry.objects.create(
            roster=roster, position=position, record=record, name=person.name, sex=person.sex,
            id_type=person.id_type, id_number=person.id_number, category=rworld.clinical.name,
            departments=record.departments, start_date=record.start_date, end_date=record.end_date,
            result=result, is_fresh_graduate=fresh, flagged=position == 2,
        )  # fmt: skip
    return roster


def reference(roster, actions) -> str:
    entries = roster.entries.all()
    return squeeze(TEMPLATE_ROWS.render(Context({"entries": entries, "actions": actions})))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_office_reviewing_sees_the_rows_the_template_wrote_with_checkboxes(rworld, roster, language):
    client = rworld.world.client_for(rworld.world.wuchang_user)
    response = client.get(roster.get_absolute_url(), headers={"accept-language": language})
    with override(language):
        expected = reference(roster, {"accept", "return"})
    assert response.status_code == 200
    rows = table_body(response)
    assert rows == expected and ("Passed" in rows) == (language == "en")
    assert rows.count('type="checkbox"') == 4 and rows.count('class="flagged"') == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_institution_sees_the_rows_the_template_wrote_without_checkboxes(rworld, roster, language):
    client = rworld.world.client_for(rworld.world.master)
    response = client.get(roster.get_absolute_url(), headers={"accept-language": language})
    with override(language):
        expected = reference(roster, {"cancel"})
    rows = table_body(response)
    assert rows == expected and 'type="checkbox"' not in rows


def test_what_the_rows_show(rworld, roster):
    client = rworld.world.client_for(rworld.world.wuchang_user)
    rows = table_body(client.get(roster.get_absolute_url(), headers={"accept-language": "en"}))
    assert "2024-07-01 – 2025-06-30" in rows and "2025-02-01 – ongoing" in rows
    assert "Under assessment (fresh graduate)" in rows and ">Female<" in rows and "(marked by the office)" in rows
    assert "&lt;b&gt;&quot;赵&quot;&lt;/b&gt;" in rows and "<b>" not in rows
    first = roster.entries.get(position=1)
    assert first.id_number not in rows and first.id_number[-4:] in rows  # masked


def test_the_page_reads_the_rows_once_beside_the_previous_versions(rworld, roster):
    """The rows and the comparison with the previous version share one read (and no unused form reads them)."""
    at, master = roster.institution, rworld.world.master
    previous = Roster.objects.create(
        institution=at, exam_year=roster.exam_year, version=1, status=Roster.Status.RETURNED, row_count=1,
        institution_name=at.name, office_name=at.office.name, finalised_by=master, return_reason="缺少盖章",
    )  # fmt: skip
    first = roster.entries.get(position=1)
    copied = {f.attname: getattr(first, f.attname) for f in RosterEntry._meta.concrete_fields}
    RosterEntry.objects.create(**{**copied, "id": None, "roster_id": previous.pk})
    client = rworld.world.client_for(rworld.world.wuchang_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(roster.get_absolute_url())
    assert response.status_code == 200 and "李四" in response.content.decode().split("</h2>")[1]  # added since v1
    reads = [q["sql"] for q in queries if 'FROM "reports_rosterentry"' in q["sql"]]
    assert len(reads) == 2  # this version's rows, and the previous version's
