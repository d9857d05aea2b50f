"""Eligibility lookup for registration review: region scope, eligibility, filed rosters, access, audit, queries."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import AuditEvent
from hbwsrc import ratelimit
from reports.models import Roster, RosterEntry
from tests.record_helpers import IN_PROGRESS, exam_year, make_person, make_record
from trainees.models import mask_id_number

LOOKUP = reverse("reports:lookup")


def zh(message: str) -> str:
    """``message`` as the zh-hans interface shows it (English until the catalogue translates it)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Keep the rate limiter inside one window, whenever the test runs."""
    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_000_000.0)


def file_roster(rworld, records, *, status=Roster.Status.ACCEPTED) -> Roster:
    """A roster of ``records`` (one institution, one year) written straight to the database."""
    world = rworld.world
    first = records[0]
    roster = Roster.objects.create(
        institution=first.institution,
        exam_year=first.exam_year,
        version=1,
        status=status,
        row_count=len(records),
        institution_name=first.institution.name,
        institution_uscc=first.institution.uscc,
        institution_licence=first.institution.licence_number,
        institution_head=first.institution.head_name,
        office_name=first.institution.office.name,
        finalised_by=world.master,
        decided_at=timezone.now() if status == Roster.Status.ACCEPTED else None,
        decided_by=world.wuchang_user if status == Roster.Status.ACCEPTED else None,
    )
    for position, record in enumerate(records, start=1):
        RosterEntry.objects.create(
            roster=roster,
            position=position,
            record=record,
            name=record.person.name,
            sex=record.person.sex,
            id_type=record.person.id_type,
            id_number=record.person.id_number,
            category=record.category.name,
            departments=record.departments,
            start_date=record.start_date,
            end_date=record.end_date,
            result=record.result,
        )
    return roster


@pytest.fixture
def person(rworld):
    return make_person(1, name="张三")


@pytest.fixture
def records(rworld, person):
    """张三's year in Hubei split between 武昌医院 (on a filed roster) and 宜昌 (outside 武昌's subtree), plus a
    withdrawn dental record at the provincial hospital and an older record in 湖南."""
    world = rworld.world
    wuchang = make_record(person, world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-01-31")
    yichang = make_record(person, world.yichang_hospital, rworld.year, rworld.clinical, "2025-02-01", "2025-06-30")
    withdrawn = make_record(
        person, world.provincial_hospital, rworld.year, rworld.dental, "2023-07-01", "2024-06-30", withdrawn=True
    )
    hunan = make_record(person, world.hunan_hospital, rworld.hunan_year, rworld.clinical, "2023-01-01", "2023-06-30")
    file_roster(rworld, [wuchang])
    return {"wuchang": wuchang, "yichang": yichang, "withdrawn": withdrawn, "hunan": hunan}


def lookup(world, user, number, id_type="resident"):
    return world.client_for(user).post(LOOKUP, {"id_type": id_type, "id_number": number})


def row(page: str, record) -> str:
    """The table row of ``record`` in the page."""
    match = re.search(rf'<tr[^>]*data-record="{record.public_id}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {record}"
    return match.group(1)


def eligibility_item(page: str, category) -> str:
    match = re.search(rf'<li data-category="{category.code}">(.*?)</li>', page, re.S)
    assert match, f"no eligibility for {category}"
    return match.group(1)


# --- scope -------------------------------------------------------------------------------------------------------


def test_a_county_office_sees_records_of_an_institution_outside_its_subtree_but_in_its_region(rworld, records, person):
    world = rworld.world
    response = lookup(world, world.wuchang_user, person.id_number)
    assert response.status_code == 200
    page = response.content.decode()
    assert "宜昌市第一人民医院" in row(page, records["yichang"])
    assert "宜昌市" in row(page, records["yichang"])  # its supervising office
    assert "武汉市武昌医院" in row(page, records["wuchang"])
    assert "武昌区" in row(page, records["wuchang"])


def test_another_regions_records_of_the_same_id_number_are_not_shown(rworld, records, person):
    world = rworld.world
    page = lookup(world, world.region_user, person.id_number).content.decode()
    assert "湖南省人民医院" not in page
    assert f'data-record="{records["hunan"].public_id}"' not in page


def test_the_other_region_sees_only_its_own_record(rworld, records, person):
    world = rworld.world
    page = lookup(world, world.hunan_user, person.id_number).content.decode()
    assert "湖南省人民医院" in row(page, records["hunan"])
    assert "武汉市武昌医院" not in page
    assert "宜昌市第一人民医院" not in page


def test_an_id_number_with_records_only_in_another_region_is_not_found_here(rworld, person):
    world = rworld.world
    make_record(person, world.hunan_hospital, rworld.hunan_year, rworld.clinical, "2024-07-01", "2025-06-30")
    response = lookup(world, world.wuchang_user, person.id_number)
    assert response.status_code == 200
    page = response.content.decode()
    assert zh("No probation record for this ID number in this region.") in page
    assert "湖南省人民医院" not in page
    assert "张三" not in page


def test_a_withdrawn_record_is_shown_as_withdrawn(rworld, records, person):
    world = rworld.world
    page = lookup(world, world.wuchang_user, person.id_number).content.decode()
    withdrawn = row(page, records["withdrawn"])
    assert "湖北省人民医院" in withdrawn
    assert zh("withdrawn") in withdrawn
    assert zh("withdrawn") not in row(page, records["wuchang"])
    assert zh("Every record in this category is withdrawn.") in eligibility_item(page, rworld.dental)


# --- eligibility and filed rosters -------------------------------------------------------------------------------


def test_eligibility_adds_up_the_periods_at_both_institutions(rworld, records, person):
    world = rworld.world
    page = lookup(world, world.wuchang_user, person.id_number).content.decode()
    item = eligibility_item(page, rworld.clinical)
    assert zh("Eligible") in item
    assert zh("%(days)s days of passed probation by the cut-off.") % {"days": 365} in item


def test_a_person_with_less_than_a_year_is_shown_as_insufficient_with_the_shortfall(rworld, person):
    world = rworld.world
    make_record(person, world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-01-31")
    page = lookup(world, world.wuchang_user, person.id_number).content.decode()
    item = eligibility_item(page, rworld.clinical)
    assert zh("Less than one year") in item
    assert zh("Probation adds up to less than one year, %(days)s days short.") % {"days": 150} in item
    assert zh("Eligible") not in item


def test_each_row_shows_the_period_result_and_category_and_the_heading_the_masked_number(rworld, person):
    world = rworld.world
    passed = make_record(person, world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-01-31")
    ongoing = make_record(
        person, world.yichang_hospital, rworld.year, rworld.clinical, "2025-02-01", None, IN_PROGRESS,
        is_fresh_graduate=True,
    )  # fmt: skip
    page = lookup(world, world.wuchang_user, person.id_number).content.decode()
    first, second = row(page, passed), row(page, ongoing)
    assert "2024-07-01 – 2025-01-31" in first and zh("Passed") in first and rworld.clinical.name in first
    assert "武昌区" in first and "宜昌市" in second
    assert f"2025-02-01 – {zh('ongoing')}" in second and zh("Under assessment") in second
    assert zh("fresh graduate") in second and zh("fresh graduate") not in first
    assert f"{rworld.clinical.code} {rworld.clinical.name}:" in eligibility_item(page, rworld.clinical)
    heading = re.search(r'<h2 id="lookup-person">(.*?)</h2>', page).group(1)
    assert "张三" in heading and person.masked_id_number in heading and person.id_number not in page
    assert page.index(first) < page.index(second)  # by start date within a year and category


def test_only_records_on_an_accepted_roster_are_marked_as_on_a_filed_roster(rworld, records, person):
    world = rworld.world
    file_roster(rworld, [records["yichang"]], status=Roster.Status.SUBMITTED)  # submitted, not yet filed
    page = lookup(world, world.wuchang_user, person.id_number).content.decode()
    on_roster = re.compile(r'<td class="on-roster">(.*?)</td>', re.S)
    assert 'class="good"' in on_roster.search(row(page, records["wuchang"])).group(1)
    assert 'class="good"' not in on_roster.search(row(page, records["yichang"])).group(1)
    assert 'class="good"' not in on_roster.search(row(page, records["withdrawn"])).group(1)


def test_exam_years_are_listed_newest_first(rworld, person):
    world = rworld.world
    older = exam_year(world.hubei, 2025)
    make_record(person, world.wuchang_hospital, older, rworld.clinical, "2023-07-01", "2024-06-30")
    make_record(person, world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")
    page = lookup(world, world.wuchang_user, person.id_number).content.decode()
    assert page.index(f'id="lookup-year-{rworld.year.year}"') < page.index('id="lookup-year-2025"')


def test_the_id_number_is_normalised_before_the_lookup(rworld, records, person):
    world = rworld.world
    typed = " " + person.id_number[:6] + " " + person.id_number[6:] + " "
    page = lookup(world, world.wuchang_user, typed).content.decode()
    assert "宜昌市第一人民医院" in row(page, records["yichang"])


# --- access ------------------------------------------------------------------------------------------------------


def test_an_institution_account_is_refused_with_403(rworld, records, person):
    world = rworld.world
    response = lookup(world, world.master, person.id_number)
    assert response.status_code == 403
    assert "宜昌市第一人民医院" not in response.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ELIGIBILITY_LOOKUP).exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page(rworld, records, person):
    response = rworld.world.client_for(None).post(LOOKUP, {"id_number": person.id_number})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ELIGIBILITY_LOOKUP).exists()


def test_the_empty_form_is_shown_without_a_lookup(rworld):
    world = rworld.world
    response = world.client_for(world.wuchang_user).get(LOOKUP)
    assert response.status_code == 200
    assert 'name="id_number"' in response.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ELIGIBILITY_LOOKUP).exists()


def test_an_id_number_in_the_query_string_is_never_looked_up(rworld, records, person):
    # Lookups are POSTed: an ID number in a URL would reach access logs, browser history and Referer headers.
    world = rworld.world
    response = world.client_for(world.wuchang_user).get(LOOKUP, {"id_number": person.id_number})
    assert response.status_code == 200
    assert person.name not in response.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ELIGIBILITY_LOOKUP).exists()


def test_the_lookup_page_is_not_cached(rworld, records, person):
    world = rworld.world
    assert "no-store" in lookup(world, world.wuchang_user, person.id_number)["Cache-Control"]


def test_a_wrong_check_character_is_a_form_error_and_not_a_lookup(rworld, person):
    world = rworld.world
    number = person.id_number
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    response = lookup(world, world.wuchang_user, wrong)
    assert response.status_code == 400
    page = response.content.decode()
    assert zh("The check character (last character) of the ID number is wrong.") in page
    assert zh("No probation record for this ID number in this region.") not in page
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ELIGIBILITY_LOOKUP).exists()


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"id_type": "resident", "id_number": "9" * 100_000}, id="100000-chars"),
        pytest.param({"id_type": "resident", "id_number": "42010619980301\x00038"}, id="nul"),
        pytest.param({"id_type": "resident", "id_number": "<script>alert(1)</script>"}, id="html"),
        pytest.param({"id_type": "nonsense", "id_number": "E12345678"}, id="unknown-type"),
        pytest.param({"id_number": ""}, id="empty"),
    ],
)
def test_malformed_input_is_a_form_error_never_a_500(rworld, params):
    world = rworld.world
    response = world.client_for(world.wuchang_user).post(LOOKUP, params)
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_a_passport_number_is_looked_up_with_its_own_document_type(rworld):
    world = rworld.world
    foreigner = make_person(7, name="John Smith")
    type(foreigner).objects.filter(pk=foreigner.pk).update(id_type="passport", id_number="E12345678")
    foreigner.refresh_from_db()
    record = make_record(foreigner, world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")
    page = lookup(world, world.wuchang_user, "e12345678", id_type="passport").content.decode()
    assert "武汉市武昌医院" in row(page, record)
    assert (
        zh("No probation record for this ID number in this region.")
        in lookup(world, world.wuchang_user, "E12345678", id_type="hk_macao_taiwan").content.decode()
    )


# --- audit, rate limit, queries ----------------------------------------------------------------------------------


def test_each_lookup_is_logged_with_the_masked_id_number_only(rworld, records, person):
    world = rworld.world
    number = person.id_number
    lookup(world, world.wuchang_user, number)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ELIGIBILITY_LOOKUP)
    assert event.actor == world.wuchang_user
    assert event.changes["id_number_masked"] == mask_id_number(number)
    assert event.changes["found"] is True
    stored = str(event.changes) + event.target_label + event.target_id
    assert number not in stored
    assert number[6:14] not in stored  # the birth date is masked too


def test_a_lookup_that_finds_nothing_is_logged_as_not_found(rworld, person):
    world = rworld.world
    lookup(world, world.wuchang_user, person.id_number)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ELIGIBILITY_LOOKUP)
    assert event.changes["found"] is False
    assert event.changes["id_number_masked"] == mask_id_number(person.id_number)


def test_lookups_over_the_limit_get_429_per_account(rworld, person, settings, frozen_clock):
    settings.LOOKUP_RATE_LIMIT = (2, 60)
    world = rworld.world
    client = world.client_for(world.wuchang_user)
    statuses = [client.post(LOOKUP, {"id_number": person.id_number}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ELIGIBILITY_LOOKUP).count() == 2
    assert lookup(world, world.hongshan_user, person.id_number).status_code == 200  # another account


def test_the_number_of_queries_is_the_same_for_one_record_and_for_ten(rworld):
    world = rworld.world
    one, ten = make_person(1, name="一条"), make_person(2, name="十条")
    make_record(one, world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")
    institutions = [world.wuchang_hospital, world.yichang_hospital, world.provincial_hospital, world.hongshan_centre]
    for i, year in enumerate(range(2017, 2027)):
        record = make_record(
            ten,
            institutions[i % len(institutions)],
            exam_year(world.hubei, year),
            rworld.clinical if i % 2 else rworld.dental,
            datetime.date(year - 2, 7, 1),
            datetime.date(year - 1, 6, 30),
        )
        if i % 3 == 0:
            file_roster(rworld, [record])
    client = world.client_for(world.wuchang_user)
    client.post(LOOKUP, {"id_number": one.id_number})  # warm up: session, content types

    def count(person) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(LOOKUP, {"id_number": person.id_number})
        assert response.status_code == 200
        return len(queries), response.content.decode()

    queries_one, _page = count(one)
    queries_ten, page = count(ten)
    assert page.count("data-record=") == 10
    assert queries_one == queries_ten
    assert queries_ten <= 8
