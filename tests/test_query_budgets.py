"""Query budgets: each main page runs as many queries for one row under one office as for fifty rows four offices
deep. A page whose query count grows with its rows (N+1) or with the offices above the account fails here, with
both lists of SQL printed.

Small: 湖南 → 长沙市: the office account has one office above it, one sub-office, one institution, one record.
Large: 湖北 → 武汉 → 武昌 → 首义路街道 → 首义片区: the office account sits four levels below the region office,
with 50 sub-offices and 50 institutions beneath it, one institution holding 50 records (and rosters in several
states), and a trainee with records at three institutions and in two exam years.

A record list whose page ends it is not counted (hbwsrc.pagination.CappedPaginator): the one-row case skips the
capped count the fifty-row case runs, so that count is compared apart (at most one on any page).
"""

import datetime
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions.models import Institution, Office
from reports.models import Roster, RosterEntry
from tests.record_helpers import exam_year, make_person, make_record
from tests.world import complete_profile, logged_in, make_account

ROWS = 50


@dataclass
class Case:
    office_user: object
    office: object
    master: object
    institution: object
    record: object
    lookup_number: str
    roster: object


def _roster(institution, year, version, status, user, records):
    roster = Roster.objects.create(
        institution=institution,
        exam_year=year,
        version=version,
        status=status,
        row_count=len(records),
        institution_name=institution.name,
        institution_uscc=institution.uscc,
        institution_licence=institution.licence_number,
        institution_head=institution.head_name,
        office_name=institution.office.name,
        finalised_by=user,
        return_reason="盖章不清晰" if status == Roster.Status.RETURNED else "",
    )
    RosterEntry.objects.bulk_create(
        RosterEntry.copy_of(record, roster=roster, position=position)
        for position, record in enumerate(records, start=1)
    )
    return roster


def small_case(rworld) -> Case:
    world = rworld.world
    changsha = Office.objects.create(region=world.hunan, parent=world.hunan_office, name="长沙市", kind="prefecture")
    Office.objects.create(region=world.hunan, parent=changsha, name="芙蓉区", kind="county")
    hospital = complete_profile(Institution.objects.create(office=changsha, name="长沙市第一医院"), 90)
    record = make_record(make_person(1), hospital, rworld.hunan_year, rworld.clinical, "2025-07-01", "2026-06-30")
    master = make_account("cs1y", hospital, master=True)
    _roster(hospital, rworld.hunan_year, 1, Roster.Status.RETURNED, master, [record])
    return Case(
        office_user=make_account("changsha", changsha),
        office=changsha,
        master=master,
        institution=hospital,
        record=record,
        lookup_number=record.person.id_number,
        roster=_roster(hospital, rworld.hunan_year, 2, Roster.Status.SUBMITTED, master, [record]),
    )


def large_case(rworld) -> Case:
    world = rworld.world
    street = Office.objects.create(region=world.hubei, parent=world.wuchang, name="首义路街道", kind="county")
    area = Office.objects.create(region=world.hubei, parent=street, name="首义片区", kind="county")
    for n in range(ROWS):
        Office.objects.create(region=world.hubei, parent=area, name=f"首义{n}分区", kind="county")
    institutions = [
        complete_profile(Institution.objects.create(office=area, name=f"首义路第{n}卫生服务站"), 100 + n)
        for n in range(ROWS)
    ]
    big = institutions[0]
    master = make_account("shouyi_master", big, master=True)
    area_user = make_account("shouyi_area", area)
    records = [
        make_record(make_person(100 + n), big, rworld.year, rworld.clinical, "2025-07-01", "2026-06-30")
        for n in range(ROWS)
    ]
    # Rosters: the big institution's returned first version and its current one; other institutions in every state.
    _roster(big, rworld.year, 1, Roster.Status.RETURNED, master, records[:10])
    roster = _roster(big, rworld.year, 2, Roster.Status.SUBMITTED, master, records)
    for n, status in enumerate([Roster.Status.FINALISED, Roster.Status.ACCEPTED, Roster.Status.CANCELLED], start=1):
        record = make_record(
            make_person(200 + n), institutions[n], rworld.year, rworld.clinical, "2025-07-01", "2026-06-30"
        )
        _roster(institutions[n], rworld.year, 1, status, master, [record])
    # One trainee with records at three institutions this year and one last year, for the eligibility lookup.
    trainee = make_person(300)
    last_year = exam_year(world.hubei, rworld.year.year - 1)
    make_record(trainee, institutions[4], last_year, rworld.clinical, "2023-07-01", "2024-06-30")
    make_record(trainee, institutions[5], rworld.year, rworld.clinical, "2024-07-01", "2024-12-31")
    make_record(trainee, institutions[6], rworld.year, rworld.clinical, "2025-01-01", "2025-06-30")
    make_record(trainee, institutions[7], rworld.year, rworld.dental, "2025-07-01", "2025-12-31")
    return Case(
        office_user=area_user,
        office=area,
        master=master,
        institution=big,
        record=records[-1],
        lookup_number=trainee.id_number,
        roster=roster,
    )


# (page, whose page, how to request it)
PAGES = {
    "record list (institution)": ("master", lambda c: ("get", reverse("trainees:list"), None)),
    "record list, search and filters (institution)": (
        "master",
        lambda c: ("get", reverse("trainees:list") + "?q=学员&result=passed&sort=person__name", None),
    ),
    "record list (office)": ("office_user", lambda c: ("get", reverse("trainees:list"), None)),
    "record list, filters (office)": (
        "office_user",
        lambda c: (
            "get",
            reverse("trainees:list") + f"?result=passed&office={c.office.pk}&eligibility=eligible&institution=第",
            None,
        ),
    ),
    "record detail (institution)": ("master", lambda c: ("get", c.record.get_absolute_url(), None)),
    "record detail (office)": ("office_user", lambda c: ("get", c.record.get_absolute_url(), None)),
    "record create form": ("master", lambda c: ("get", reverse("trainees:create"), None)),
    "roster home, draft": ("master", lambda c: ("get", reverse("reports:roster_home"), None)),
    "office list": ("office_user", lambda c: ("get", reverse("institutions:office_list"), None)),
    "office detail": ("office_user", lambda c: ("get", c.office.get_absolute_url(), None)),
    "institution list": ("office_user", lambda c: ("get", reverse("institutions:institution_list"), None)),
    "institution detail": ("office_user", lambda c: ("get", c.institution.get_absolute_url(), None)),
    "filing list": ("office_user", lambda c: ("get", reverse("reports:filing_list"), None)),
    "eligibility lookup": (
        "office_user",
        lambda c: ("post", reverse("reports:lookup"), {"id_type": "resident", "id_number": c.lookup_number}),
    ),
    "dashboard": ("office_user", lambda c: ("get", reverse("reports:dashboard"), None)),
    "roster detail (institution)": ("master", lambda c: ("get", c.roster.get_absolute_url(), None)),
    "roster detail (office reviewing)": ("office_user", lambda c: ("get", c.roster.get_absolute_url(), None)),
}


def _queries(case: Case, page: str):
    whose, request = PAGES[page]
    client = logged_in(getattr(case, whose))
    method, url, data = request(case)
    call = (lambda: client.post(url, data)) if method == "post" else (lambda: client.get(url))
    call()  # the first request may fill caches (content types, the session registry's last-seen time)
    cache.clear()  # but the pages' own work is measured, not a dashboard board read from the cache
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, (page, response.status_code, response.get("Location"))
    return response, [query["sql"] for query in captured.captured_queries]


def _is_capped_count(sql: str) -> bool:
    return sql.startswith("SELECT COUNT(*) FROM (SELECT")  # CappedPaginator's count of a LIMITed query


def _without(condition, sql: list[str]) -> list[str]:
    return [query for query in sql if not condition(query)]


@pytest.mark.parametrize("page", PAGES)
def test_query_count_does_not_grow_with_rows_or_depth(rworld, page):
    small, large = small_case(rworld), large_case(rworld)
    _response, small_sql = _queries(small, page)
    _response, large_sql = _queries(large, page)
    assert sum(map(_is_capped_count, small_sql)) <= sum(map(_is_capped_count, large_sql)) <= 1
    if len(_without(_is_capped_count, small_sql)) != len(_without(_is_capped_count, large_sql)):
        listing = "\n".join(
            [f"--- small ({len(small_sql)} queries)", *small_sql, f"--- large ({len(large_sql)} queries)", *large_sql]
        )
        pytest.fail(f"{page}: {len(small_sql)} queries for one row, {len(large_sql)} for {ROWS}\n{listing}")


def test_the_large_case_shows_its_rows(rworld):
    """The budgets compare like with like: the large pages really list 50 rows (one page) and 50 offices."""
    large = large_case(rworld)
    response, _sql = _queries(large, "record list (institution)")
    assert response.context["page"].paginator.count == ROWS
    assert len(response.context["page"].object_list) == ROWS
    response, _sql = _queries(large, "office list")
    assert response.context["page"].paginator.count == ROWS + 1
    assert large.office_user.office.depth == 4
    assert datetime.date.today() <= rworld.year.entry_closes
    response, _sql = _queries(large, "roster detail (office reviewing)")
    assert response.content.decode().count('name="flagged"') == ROWS
