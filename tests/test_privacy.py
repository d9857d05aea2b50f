"""ID numbers: shown in full only on the record page (each view audited), masked on every other page; looked up
by POST so that they never appear in a URL."""

import runpy
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from reports import actions
from tests.record_helpers import make_person, make_record
from trainees.models import OverlapAttempt, mask_id_number


@pytest.fixture
def record(rworld):
    world = rworld.world
    return make_record(make_person(7), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")


@pytest.fixture
def roster(rworld, record):
    world = rworld.world
    return actions.finalise(world.wuchang_hospital, rworld.year, acting_user=world.staff)


def test_the_record_page_shows_the_full_number_and_each_view_is_audited(rworld, record):
    world = rworld.world
    number = record.person.id_number
    for who in ("staff", "wuchang_user", "region_user"):
        response = world.client_for(getattr(world, who)).get(record.get_absolute_url())
        assert f'id="full-id-number">{number}<' in response.content.decode()
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.FULL_ID_VIEW, target_id=str(record.public_id))
    assert sorted(e.actor_username for e in events) == sorted(["wcyy_staff", "wuchang", "hubei"])
    assert number not in str([e.changes for e in events]) + str([e.target_label for e in events])


def test_a_refused_record_page_is_not_audited_as_a_view(rworld, record):
    response = rworld.world.client_for(rworld.world.hongshan_user).get(record.get_absolute_url())
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.FULL_ID_VIEW).exists()


def pages(rworld, record, roster):
    world = rworld.world
    yield world.staff, reverse("trainees:list")
    yield world.wuchang_user, reverse("trainees:list") + "?q=" + record.person.name
    yield world.staff, reverse("trainees:history", args=[record.public_id])
    yield world.staff, roster.get_absolute_url()
    yield world.wuchang_user, roster.get_absolute_url()
    yield world.staff, reverse("reports:roster_home")
    yield world.wuchang_user, reverse("trainees:conflicts")


def test_every_other_page_shows_the_number_masked(rworld, record, roster):
    number = record.person.id_number
    OverlapAttempt.objects.create(
        id_type="resident",
        id_number=number,
        attempted_by=rworld.world.hongshan_master,
        institution=rworld.world.hongshan_centre,
        start_date=record.start_date,
        end_date=record.end_date,
        conflicting_record=record,
    )
    assert roster.entries.filter(id_number=number).exists()
    for user, url in pages(rworld, record, roster):
        response = rworld.world.client_for(user).get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert number not in page, url
    masked = mask_id_number(number)
    assert masked in rworld.world.client_for(rworld.world.staff).get(roster.get_absolute_url()).content.decode()


def test_the_lookup_result_shows_the_number_masked_and_the_url_never_carries_it(rworld, record):
    world = rworld.world
    number = record.person.id_number
    response = world.client_for(world.wuchang_user).post(reverse("reports:lookup"), {"id_number": number})
    page = response.content.decode()
    assert response.status_code == 200
    assert mask_id_number(number) in page and number not in page
    assert 'method="post"' in page


def test_the_access_log_leaves_out_query_strings_and_referers():
    # GET forms (the record search) may carry a name or an ID number in the query string.
    config = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    log_format = config["access_log_format"]
    assert "%(U)s" in log_format
    assert not any(item in log_format for item in ("%(r)s", "%(q)s", "%(f)s", "%({"))
