"""The record list's rows are written in Python (trainees.templatetags.record_rows): the same markup the template
wrote, escaped the same way, for every kind of row and both kinds of account."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from tests.markup_helpers import instances, squeeze, table_body
from tests.record_helpers import IN_PROGRESS, make_person, make_record
from trainees.models import ProbationRecord

# The rows as trainees/record_list.html wrote them before (stop 16), kept here as the reference.
TEMPLATE_ROWS = Template(
    """{% load eligibility i18n %}{% for record in page %}
    <tr{% if record.is_withdrawn %} class="withdrawn"{% endif %}>
      <td><a href="{{ record.get_absolute_url }}">{{ record.person.name }}</a>{% if record.is_withdrawn %} <span class="muted">({% translate "withdrawn" %})</span>{% endif %}</td>
      <td class="mono-small">{{ record.person.masked_id_number }}</td>
      {% if is_office %}<td>{{ record.institution.name }}</td>{% endif %}
      <td>{{ record.exam_year.year }}</td>
      <td>{{ record.category.name }}</td>
      <td>{{ record.start_date.isoformat }} – {% if record.end_date %}{{ record.end_date.isoformat }}{% else %}{% translate "ongoing" %}{% endif %}</td>
      <td>{{ record.get_result_display }}{% if record.is_fresh_graduate %} <span class="muted">({% translate "fresh graduate" %})</span>{% endif %}</td>
      <td>{% eligibility_badge record.eligibility_status %}</td>
    </tr>{% endfor %}"""  # noqa: E501
)


@pytest.fixture
def rows(rworld):
    """Four kinds of row at 武昌医院: plain, withdrawn, ongoing fresh graduate, and a name to be escaped."""
    world = rworld.world
    at = world.wuchang_hospital

    def add(serial, name, *args, **kwargs):
        return make_record(make_person(serial, name=name), at, rworld.year, rworld.clinical, *args, **kwargs)

    return [
        add(1, "张三", "2025-09-01", "2026-08-31"),
        add(2, "李四", "2025-09-01", "2026-08-31", withdrawn=True),
        add(3, "王五", "2026-03-01", None, result=IN_PROGRESS, is_fresh_graduate=True),
        add(4, '<script>alert("x")</script>&', "2025-09-01", "2026-08-31"),
    ]


@pytest.mark.parametrize("actor, is_office", [("master", False), ("wuchang_user", True), ("region_user", True)])
def test_the_rows_are_the_markup_the_template_wrote(rworld, rows, actor, is_office):
    response = rworld.world.client_for(getattr(rworld.world, actor)).get(reverse("trainees:list"), {"withdrawn": "on"})

    assert response.status_code == 200
    listed = [row["pk"] for row in response.context["page"]]
    assert sorted(listed) == sorted(record.pk for record in rows)
    # The template was given the records themselves, in the list's order.
    records = ProbationRecord.objects.with_eligibility().select_related("person", "category", "institution")
    by_pk = records.in_bulk(listed)
    expected = TEMPLATE_ROWS.render(Context({"page": [by_pk[pk] for pk in listed], "is_office": is_office}))
    assert table_body(response) == squeeze(expected)


def test_the_rows_escape_what_was_typed_and_mark_each_kind(rworld, rows):
    response = rworld.world.client_for(rworld.world.wuchang_user).get(reverse("trainees:list"), {"withdrawn": "on"})
    body = table_body(response)

    assert "<script>" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in body
    assert body.count('<tr class="withdrawn">') == 1
    assert f'<a href="/records/{rows[1].public_id}/">李四</a><span class="muted">(已撤销)</span>' in body
    assert "<td>2026-03-01 – 至今</td>" in body
    assert '<td>考核中 <span class="muted">(应届毕业生)</span></td>' in body
    assert body.count(f"<td>{rworld.world.wuchang_hospital.name}</td>") == len(rows)
    assert rows[0].person.id_number not in body
    assert f'<td class="mono-small">{rows[0].person.masked_id_number}</td>' in body


def test_an_empty_list_says_so(rworld):
    response = rworld.world.client_for(rworld.world.master).get(reverse("trainees:list"))

    assert response.status_code == 200
    assert table_body(response).count("<tr>") == 1
    assert 'colspan="8"' in table_body(response)


DRAFT_TEMPLATE_ROWS = Template(
    """{% load i18n %}{% for record in qualifying %}<tr><td><a href="{{ record.get_absolute_url }}">{{ record.person.name }}</a></td><td class="mono-small">{{ record.person.masked_id_number }}</td><td>{{ record.category.name }}</td><td>{{ record.start_date.isoformat }} – {% if record.end_date %}{{ record.end_date.isoformat }}{% else %}{% translate "ongoing" %}{% endif %}</td><td>{{ record.get_result_display }}{% if record.is_fresh_graduate %} ({% translate "fresh graduate" %}){% endif %}</td></tr>
{% endfor %}"""  # noqa: E501
)


REFUSED_TEMPLATE_ROWS = Template(
    """{% for record, reason in refused %}<tr><td><a href="{{ record.get_absolute_url }}">{{ record.person.name }}</a></td><td class="mono-small">{{ record.person.masked_id_number }}</td><td>{{ reason }}</td></tr>{% endfor %}"""  # noqa: E501
)


def as_records(rows) -> list[ProbationRecord]:
    return instances(ProbationRecord.objects.select_related("person", "category"), rows)


def test_the_draft_roster_rows_are_the_markup_the_template_wrote(rworld, rows):
    response = rworld.world.client_for(rworld.world.master).get(reverse("reports:roster_home"))

    assert response.status_code == 200
    qualifying = as_records(response.context["qualifying"])
    assert [record.person.name for record in qualifying] == sorted(
        [rows[0].person.name, rows[2].person.name, rows[3].person.name]
    )  # the withdrawn record is left out; the fresh graduate under assessment qualifies
    tables = re.findall(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S)
    draft = squeeze(tables[1])
    assert draft == squeeze(DRAFT_TEMPLATE_ROWS.render(Context({"qualifying": qualifying})))
    assert "&lt;script&gt;" in draft and "<script>" not in draft
    assert "<td>考核中 (应届毕业生)</td>" in draft


def test_the_records_left_off_the_draft_are_the_markup_the_template_wrote(rworld, rows):
    world = rworld.world
    failed = make_record(
        make_person(5, name="赵<六>"), world.wuchang_hospital, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31",
        result=ProbationRecord.Result.FAILED,
    )  # fmt: skip
    pending = make_record(
        make_person(6, name="钱七"), world.wuchang_hospital, rworld.year, rworld.clinical, "2026-03-01", None,
        result=IN_PROGRESS,
    )  # fmt: skip
    response = world.client_for(world.master).get(reverse("reports:roster_home"))

    refused = [(record, reason) for record, reason in zip(
        as_records([row for row, _reason in response.context["refused"]]),
        [reason for _row, reason in response.context["refused"]],
        strict=True,
    )]  # fmt: skip
    assert sorted(record.pk for record, _reason in refused) == sorted([pending.pk, failed.pk])
    tables = re.findall(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S)
    assert tables[2] == REFUSED_TEMPLATE_ROWS.render(Context({"refused": refused}))
    assert "赵&lt;六&gt;" in tables[2] and failed.person.id_number not in tables[2]


def test_an_empty_draft_roster_says_so(rworld):
    response = rworld.world.client_for(rworld.world.master).get(reverse("reports:roster_home"))

    tables = re.findall(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S)
    assert squeeze(tables[1]).count("<tr>") == 1
    assert 'colspan="5"' in tables[1]
