"""Institutions found by any part of their name, from the grams index (institutions migration 0005)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hbwsrc.search import text_contains
from institutions.models import Institution
from tests.record_helpers import make_person, make_record
from tests.test_record_search import plan
from trainees.models import ProbationRecord


@pytest.fixture
def clinic(world):
    return Institution.objects.create(office=world.wuchang, name="Wuchang Dental Clinic")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("人民", {"宜昌市第一人民医院", "湖北省人民医院", "湖南省人民医院"}),
        ("人民医院", {"宜昌市第一人民医院", "湖北省人民医院", "湖南省人民医院"}),
        ("院", {"武汉市武昌医院", "宜昌市第一人民医院", "湖北省人民医院", "湖南省人民医院"}),
        ("武昌", {"武汉市武昌医院"}),
        ("民人", set()),  # both characters, not as a pair
        ("dental", {"Wuchang Dental Clinic"}),  # any case
        ("L C", {"Wuchang Dental Clinic"}),
        ("%", set()),
    ],
)
def test_a_name_search_finds_every_institution_containing_the_text_and_no_other(world, clinic, text, expected):
    assert set(Institution.objects.filter(text_contains("name", text)).values_list("name", flat=True)) == expected


@pytest.mark.parametrize(
    "url, user, text, expected",
    [
        ("institutions:institution_list", "region_user", "人民", {"宜昌市第一人民医院", "湖北省人民医院"}),
        ("institutions:institution_list", "wuhan_user", "dental", {"Wuchang Dental Clinic"}),
        ("institutions:institution_list", "wuhan_user", "人民", set()),
        ("reports:filing_list", "region_user", "人民", {"宜昌市第一人民医院", "湖北省人民医院"}),
        ("reports:filing_list", "wuchang_user", "武昌", {"武汉市武昌医院"}),
        ("reports:filing_list", "hongshan_user", "武昌", set()),
    ],
)
def test_the_office_lists_search_names_within_the_office_scope(rworld, clinic, url, user, text, expected):
    world = rworld.world
    response = world.client_for(getattr(world, user)).get(reverse(url), {"q": text})
    assert response.status_code == 200
    rows = response.context["page"].object_list  # the filing list's rows are dicts (reports.views.FILING_COLUMNS)
    assert {row["name"] if isinstance(row, dict) else row.name for row in rows} == expected


def test_the_record_list_filters_an_office_records_by_part_of_the_institution_name(rworld):
    world = rworld.world
    here = make_record(
        make_person(1, name="王芳"), world.wuchang_hospital, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31"
    )
    make_record(
        make_person(2, name="李娜"), world.hongshan_centre, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31"
    )
    client = world.client_for(world.wuhan_user)
    response = client.get(reverse("trainees:list"), {"institution": "武昌"})
    assert [row["pk"] for row in response.context["page"]] == [here.pk]
    response = client.get(reverse("trainees:list"), {"institution": "社区"})
    assert [row["person__name"] for row in response.context["page"]] == ["李娜"]


def test_three_characters_must_stand_together_and_two_are_found_from_the_grams_alone(world):
    Institution.objects.create(office=world.wuchang, name="人民甲民医院")  # the pairs 人民 and 民医, not 人民医
    found = Institution.objects.filter(text_contains("name", "人民医")).values_list("name", flat=True)
    assert set(found) == {"宜昌市第一人民医院", "湖北省人民医院", "湖南省人民医院"}
    # Two characters: their pair is in the grams exactly when they stand together, so no LIKE (which PostgreSQL
    # cannot estimate and would expect to keep almost no rows).
    assert "LIKE" not in str(Institution.objects.filter(text_contains("name", "民医")).query)
    assert set(Institution.objects.filter(text_contains("name", "民医")).values_list("name", flat=True)) == {
        "人民甲民医院", "宜昌市第一人民医院", "湖北省人民医院", "湖南省人民医院",
    }  # fmt: skip


def test_the_record_list_searches_institution_names_once_then_its_records_by_their_ids(rworld):
    """The names are searched in the account's institutions alone; the record queries get their ids as one array,
    without the name's LIKE, so that they are prepared (hbwsrc.db)."""
    world = rworld.world
    here = make_record(
        make_person(1, name="王芳"), world.wuchang_hospital, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31"
    )
    with CaptureQueriesContext(connection) as queries:
        response = world.client_for(world.wuhan_user).get(reverse("trainees:list"), {"institution": "武昌"})
    assert [row["pk"] for row in response.context["page"]] == [here.pk]
    [searched] = [q["sql"] for q in queries if "trainees_search_grams" in q["sql"]]
    assert '"trainees_probationrecord"' not in searched
    records = [q["sql"] for q in queries if '"trainees_probationrecord"."institution_id" = ANY(' in q["sql"]]
    assert records and not [sql for sql in records if " LIKE " in sql]
    [rows] = [q["sql"] for q in queries if '"trainees_probationrecord"."id" = ANY(' in q["sql"]]
    assert "trainees_search_grams" not in rows


@pytest.mark.parametrize("text", ["人民医院", "湖南", "不存在的医院"])
def test_an_institution_name_outside_the_accounts_scope_or_matching_none_lists_no_record(rworld, text):
    world = rworld.world
    for number, institution in enumerate((world.yichang_hospital, world.provincial_hospital, world.hunan_hospital)):
        make_record(make_person(10 + number), institution, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31")
    response = world.client_for(world.wuhan_user).get(reverse("trainees:list"), {"institution": text})
    assert response.status_code == 200 and list(response.context["page"]) == []


def test_the_institution_searches_can_be_answered_from_the_grams_index(world):
    """With plain index scans priced out as well: on a test's five institutions PostgreSQL would rather walk any
    index and filter; only the grams index can find the names (a GIN index is read by bitmap scans)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        institutions = plan(Institution.objects.filter(text_contains("name", "人民")).order_by())
        records = plan(ProbationRecord.objects.filter(text_contains("institution__name", "人民")).values("pk"))
    assert "institution_name_grams_idx" in institutions and "Seq Scan" not in institutions
    assert "institution_name_grams_idx" in records
