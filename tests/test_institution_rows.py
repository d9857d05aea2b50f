"""The office and institution lists' rows are written in Python (institutions.templatetags.institution_rows): the
same markup the templates wrote, escaped the same way; the subtree counts beside each office stay exact."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.translation import override

from institutions.models import Institution, Office
from tests.markup_helpers import instances, squeeze, table_body
from tests.world import logged_in

# The rows as institutions/_office_rows.html and institutions/institution_list.html wrote them (stop 18), given the
# model instances of the rows the pages read as values since stop 20 (``instances``).
OFFICE_ROWS = Template(
    """{% load i18n %}{% for office in offices %}
<tr>
  <td><a href="{{ office.get_absolute_url }}">{{ office.name }}</a></td>
  <td>{{ office.get_kind_display }}</td>
  <td>{{ office.division_code|default:"—" }}</td>
  <td class="num">{{ office.child_count }}</td>
  <td class="num">{{ office.institution_count }}</td>
</tr>{% endfor %}"""
)
INSTITUTION_ROWS = Template(
    """{% for institution in page %}
    <tr><td><a href="{{ institution.get_absolute_url }}">{{ institution.name }}</a></td><td>{{ institution.office.name }}</td><td>{{ institution.contact_person }} {{ institution.contact_phone }}</td></tr>
  {% endfor %}"""  # noqa: E501
)

SUPERVISED_ROWS = Template(
    """{% for institution in institutions %}
    <tr><td><a href="{{ institution.get_absolute_url }}">{{ institution.name }}</a></td><td>{{ institution.contact_person }} {{ institution.contact_phone }}</td><td class="num">{{ institution.account_count }}</td></tr>
  {% endfor %}"""  # noqa: E501
)


@pytest.fixture
def escaped_names(world):
    """An office and an institution under 武汉 whose names and contact need escaping; an office without a code."""
    office = Office.objects.create(region=world.hubei, parent=world.wuhan, name='新区 <b>"&</b>', kind="county")
    Institution.objects.create(
        office=office, name="<script>x</script>医院", contact_person="张<三>", contact_phone="1&2"
    )
    return office


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("page", ["office list", "office detail"])  # the detail lists its sub-offices the same way
def test_office_rows_match_the_template(world, escaped_names, language, page):
    url = reverse("institutions:office_list") if page == "office list" else world.wuhan.get_absolute_url()
    response = logged_in(world.wuhan_user).get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    rows = response.context["page" if page == "office list" else "children"]
    offices = instances(Office.objects.all(), rows)
    for office, row in zip(offices, rows, strict=True):
        office.child_count, office.institution_count = row["child_count"], row["institution_count"]
    with override(language):
        expected = squeeze(OFFICE_ROWS.render(Context({"offices": offices})))
    body = table_body(response)
    assert body == expected
    assert "<b>" not in body and "&lt;b&gt;" in body and "<td>—</td>" in body


def test_each_office_counts_the_institutions_at_and_beneath_it(world, escaped_names):
    response = logged_in(world.wuhan_user).get(reverse("institutions:office_list"))
    counts = {office["name"]: office["institution_count"] for office in response.context["page"]}
    for office in Office.objects.filter(path__startswith=world.wuhan.path):
        assert counts[office.name] == Institution.objects.filter(path__startswith=office.path).count()
    assert counts[world.wuhan.name] == 3 and counts[escaped_names.name] == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_institution_rows_match_the_template(world, escaped_names, language):
    response = logged_in(world.wuhan_user).get(reverse("institutions:institution_list"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    institutions = instances(Institution.objects.all(), response.context["page"])
    expected = squeeze(INSTITUTION_ROWS.render(Context({"page": institutions})))
    body = table_body(response)
    assert body == expected
    assert body.count("<tr>") == 3 and "<script>" not in body and "张&lt;三&gt;" in body


def test_an_offices_supervised_institutions_match_the_template(world, escaped_names):
    response = logged_in(world.wuhan_user).get(escaped_names.get_absolute_url())
    assert response.status_code == 200
    tables = re.findall(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S)
    rows = response.context["institutions"]
    institutions = instances(Institution.objects.all(), rows)
    for institution, row in zip(institutions, rows, strict=True):
        institution.account_count = row["account_count"]
    expected = squeeze(SUPERVISED_ROWS.render(Context({"institutions": institutions})))
    assert squeeze(tables[1]) == expected
    assert "<script>" not in expected and '<td class="num">0</td>' in expected
    empty = logged_in(world.wuhan_user).get(world.wuhan.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    tables = re.findall(r"<tbody>(.*?)</tbody>", empty.content.decode(), re.S)
    assert squeeze(tables[1]) == '<tr><td colspan="3" class="muted">No institutions.</td></tr>'


@pytest.mark.parametrize("url", [reverse("institutions:office_list"), reverse("institutions:institution_list")])
def test_a_search_matching_nothing_says_so(world, url):
    response = logged_in(world.wuhan_user).get(url + "?q=不存在", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert re.search(r'<tr><td colspan="\d" class="muted">No (offices|institutions)\.</td></tr>', table_body(response))
