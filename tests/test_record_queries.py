"""The lists cost the same number of queries for one row as for a full page of fifty."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.record_helpers import make_person, make_record
from trainees.models import OverlapAttempt

INSTITUTIONS = ("wuchang_hospital", "hongshan_centre", "yichang_hospital", "provincial_hospital")


def add_records(rworld, serials, institution=None):
    """Passed records of new persons, at ``institution`` or spread over the Hubei institutions."""
    world = rworld.world
    records = []
    for serial in serials:
        at = institution or getattr(world, INSTITUTIONS[serial % len(INSTITUTIONS)])
        person = make_person(serial, name=f"学员{serial:03d}")
        records.append(make_record(person, at, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31"))
    return records


def add_attempts(rworld, records):
    world = rworld.world
    for record in records:
        OverlapAttempt.objects.create(
            person=record.person,
            id_type=record.person.id_type,
            id_number=record.person.id_number,
            attempted_by=world.hongshan_master if record.institution != world.hongshan_centre else world.staff,
            institution=world.hongshan_centre
            if record.institution != world.hongshan_centre
            else world.wuchang_hospital,
            start_date=record.start_date,
            end_date=record.end_date,
            conflicting_record=record,
        )


def queries_for(client, url):
    client.get(url)  # warm the session and any per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("actor", ["staff", "master", "wuchang_user", "wuhan_user", "region_user"])
def test_the_record_list_costs_the_same_queries_for_one_record_and_for_fifty(rworld, actor):
    world = rworld.world
    client = world.client_for(getattr(world, actor))
    url = reverse("trainees:list")
    add_records(rworld, [1], world.wuchang_hospital)

    one, response = queries_for(client, url)
    assert "学员001" in response.content.decode()
    add_records(rworld, range(2, 51), world.wuchang_hospital)
    add_records(rworld, range(51, 80))  # spread, a few more at the hospital too: a second page for everyone
    fifty, response = queries_for(client, url)

    assert len(response.context["page"].object_list) == 50
    # One record is its list's only page, which gives the count. Fifty with more after them are counted apart on the
    # first view, which finds the list under the cap; then the page's ids come with the count (CountedRows).
    assert response.context["page"].paginator.num_pages == 2
    assert fifty == one


def test_the_record_list_of_the_region_office_shows_a_full_page_of_fifty(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    add_records(rworld, range(1, 61))

    response = client.get(reverse("trainees:list"))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.count == 60


@pytest.mark.parametrize("actor", ["wuchang_user", "wuhan_user", "region_user"])
def test_the_conflicts_list_costs_the_same_queries_for_one_conflict_and_for_fifty(rworld, actor):
    client = rworld.world.client_for(getattr(rworld.world, actor))
    url = reverse("trainees:conflicts")
    add_attempts(rworld, add_records(rworld, [4], rworld.world.wuchang_hospital))

    one, response = queries_for(client, url)
    assert "420106" in response.content.decode()  # the masked ID number of the attempt shows
    add_attempts(rworld, add_records(rworld, range(100, 149), rworld.world.wuchang_hospital))
    fifty, response = queries_for(client, url)

    assert len(response.context["page"].object_list) == 50
    assert fifty == one


def test_a_list_reads_eligibility_for_its_page_of_rows_and_for_matching_only_when_filtered_by_it(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    add_records(rworld, range(1, 4))  # passed, a whole year: eligible
    url = reverse("trainees:list")
    client.get(url)

    def eligibility_reads(params):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        assert len(response.context["page"].object_list) == 3
        return [q["sql"] for q in captured.captured_queries if "trainees_eligibility" in q["sql"]]

    [rows] = eligibility_reads({})
    assert '"trainees_probationrecord"."id" = ANY(' in rows
    ids, rows = eligibility_reads({"eligibility": "eligible"})  # one page: not counted apart
    assert "ORDER BY" in ids and '"trainees_probationrecord"."id" = ANY(' in rows
