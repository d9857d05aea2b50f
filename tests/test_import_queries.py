"""The import's cost in queries does not grow with the rows of the file, and the batched lookups answer exactly what
the record form's own queries answer."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import User
from tests import import_files as f
from tests.record_helpers import IN_PROGRESS, PASSED, make_record
from trainees import actions, imports
from trainees.models import ProbationRecord

D = datetime.date.fromisoformat


@pytest.fixture(autouse=True)
def english():
    with translation.override(None):
        yield


def counted(rworld, data, *, dry_run):
    """(report, number of queries) of a dry run or an import, as a freshly loaded account (no cached grants)."""
    user = User.objects.get(pk=rworld.world.staff.pk)
    run = imports.check_file if dry_run else imports.import_file
    with CaptureQueriesContext(connection) as captured:
        report = run(data, institution=rworld.world.wuchang_hospital, user=user)
    return report, len(captured.captured_queries)


def with_records_elsewhere(rworld, serials):
    """The persons of these rows already exist, each with an earlier record at another institution."""
    for serial in serials:
        person = f.make_person(serial)
        make_record(person, rworld.world.hongshan_centre, rworld.year, rworld.clinical, "2023-01-01", "2024-06-30")


def test_a_dry_run_of_new_trainees_costs_the_same_queries_for_5_rows_and_for_60(rworld):
    small, small_queries = counted(rworld, f.xlsx(f.rows(rworld, 5)), dry_run=True)
    large, large_queries = counted(rworld, f.xlsx(f.rows(rworld, 60, start=101)), dry_run=True)

    assert small.ok and small.counts[imports.NEW] == 5
    assert large.ok and large.counts[imports.NEW] == 60
    assert large_queries == small_queries
    assert small_queries <= 20


def test_an_import_of_new_trainees_costs_the_same_queries_for_5_rows_and_for_60(rworld):
    small, small_queries = counted(rworld, f.xlsx(f.rows(rworld, 5)), dry_run=False)
    large, large_queries = counted(rworld, f.xlsx(f.rows(rworld, 60, start=101)), dry_run=False)

    assert small.imported and large.imported
    assert ProbationRecord.objects.filter(institution=rworld.world.wuchang_hospital).count() == 65
    assert large_queries == small_queries
    assert small_queries <= 30


def test_checking_and_re_importing_a_file_already_imported_costs_the_same_queries_for_5_rows_and_for_60(rworld):
    files = [f.csv_bytes(f.rows(rworld, 5)), f.csv_bytes(f.rows(rworld, 60, start=101))]
    for data in files:
        assert counted(rworld, data, dry_run=False)[0].imported
    before = list(ProbationRecord.objects.order_by("pk").values_list("pk", "updated_at"))

    (small_check, small_check_queries), (large_check, large_check_queries) = (
        counted(rworld, data, dry_run=True) for data in files
    )
    (small, small_queries), (large, large_queries) = (counted(rworld, data, dry_run=False) for data in files)

    assert small_check.counts[imports.UNCHANGED] == 5 and large_check.counts[imports.UNCHANGED] == 60
    assert small.counts[imports.UNCHANGED] == 5 and large.counts[imports.UNCHANGED] == 60
    assert list(ProbationRecord.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert large_check_queries == small_check_queries
    assert large_queries == small_queries


def test_a_dry_run_of_known_trainees_with_records_elsewhere_costs_the_same_queries_for_5_rows_and_for_60(rworld):
    with_records_elsewhere(rworld, range(1, 6))
    with_records_elsewhere(rworld, range(101, 161))

    small, small_queries = counted(rworld, f.xlsx(f.rows(rworld, 5)), dry_run=True)
    large, large_queries = counted(rworld, f.xlsx(f.rows(rworld, 60, start=101)), dry_run=True)

    assert small.ok and small.counts[imports.NEW] == 5
    assert large.ok and large.counts[imports.NEW] == 60
    assert large_queries == small_queries


def test_known_trainees_overlapping_elsewhere_are_all_refused_without_a_query_per_row(rworld):
    world = rworld.world
    for serial in range(1, 41):
        person = f.make_person(serial)
        make_record(person, world.hongshan_centre, rworld.year, rworld.clinical, "2024-09-01", "2025-08-31")

    report, queries = counted(rworld, f.xlsx(f.rows(rworld, 40)), dry_run=True)

    assert report.bad_rows == 40
    assert {(e["column"], e["message"]) for e in report.errors} == {
        (
            "试用开始日期",
            "This person is already in probation at another institution during this period. "
            "Please contact 洪山区, the exam management office supervising that institution.",
        )
    }
    # The refused attempts are kept for the offices (one insert each), like the web form does; nothing else per row.
    assert queries <= 20 + 40


def test_a_person_twice_in_the_file_who_already_has_a_record_here_gets_the_forms_duplicate_message(rworld):
    assert counted(rworld, f.xlsx(f.rows(rworld, 1)), dry_run=False)[0].imported

    report, _queries = counted(rworld, f.xlsx([f.row(rworld, 1), f.row(rworld, 1, 备注="again")]), dry_run=True)

    assert [(e["row"], e["message"]) for e in report.errors] == [
        (3, "This person already has a record at this institution for this exam year; edit that record."),
        (3, "This person is already in row 2 of this file for the same exam year."),
    ]


def test_an_id_number_the_prefetch_did_not_cover_is_looked_up_by_the_forms_own_query(rworld):
    person = f.make_person(7)
    choices = imports.ImportRecordForm.choices_for(rworld.world.wuchang_hospital)
    converter = imports.RowConverter(rworld.world.wuchang_hospital)
    data, _errors = converter.convert({column.field: f.row(rworld, 7).get(column.header) for column in imports.COLUMNS})
    known = imports.KnownPersons()
    known.fetch({"110101199001010010"})  # another number: this row's is not covered

    form = imports.ImportRecordForm(data, institution=rworld.world.wuchang_hospital, choices=choices, known=known)

    assert form.is_valid(), form.errors
    assert form.person == person


# --- the in-memory checks agree with their queries ------------------------------------------------------------

PERIODS = [
    ("2023-07-01", "2024-06-30"),  # ends the day before
    ("2023-07-01", "2024-07-01"),  # ends on the first day
    ("2025-06-30", "2026-06-29"),  # starts on the last day
    ("2025-07-01", "2026-06-30"),  # starts the day after
    ("2024-09-01", None),  # still running, starts inside
    ("2023-01-01", None),  # still running, started before
    ("2025-08-01", None),  # still running, starts after
]
CANDIDATES = [("2024-07-01", "2025-06-30"), ("2024-07-01", None), ("2026-01-01", None)]


@pytest.mark.parametrize("withdrawn", [False, True])
@pytest.mark.parametrize("other", PERIODS)
def test_the_in_memory_overlap_check_agrees_with_the_query(rworld, other, withdrawn):
    world = rworld.world
    person = f.make_person(1)
    result = PASSED if other[1] else IN_PROGRESS
    elsewhere = make_record(
        person, world.hongshan_centre, rworld.year, rworld.clinical, *other, result, withdrawn=withdrawn
    )
    here = make_record(person, world.wuchang_hospital, rworld.year, rworld.dental, "2022-01-01", "2022-12-31")
    records = list(ProbationRecord.objects.filter(person=person).order_by("-created_at", "pk"))

    for start, end in CANDIDATES:
        start, end = D(start), end and D(end)
        for exclude in (None, here, elsewhere):
            expected = actions.find_overlap(person, world.wuchang_hospital, start, end, exclude=exclude)
            found = actions.find_overlap_in(records, person, world.wuchang_hospital, start, end, exclude=exclude)
            assert found == expected, (start, end, exclude)


def test_the_in_memory_duplicate_check_agrees_with_the_query(rworld):
    world = rworld.world
    person, other_person = f.make_person(1), f.make_person(2)
    here = make_record(person, world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")
    make_record(person, world.hongshan_centre, rworld.hunan_year, rworld.clinical, "2022-07-01", "2023-06-30")
    make_record(
        other_person, world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30", withdrawn=True
    )
    records = list(ProbationRecord.objects.order_by("-created_at", "pk"))
    new = ProbationRecord(institution=world.wuchang_hospital)

    for who in (person, other_person):
        for institution in (world.wuchang_hospital, world.hongshan_centre):
            for year in (rworld.year, rworld.hunan_year):
                for exclude in (None, new, here):
                    expected = actions.same_institution_duplicate(who, institution, year, exclude=exclude)
                    found = actions.same_institution_duplicate_in(records, who, institution, year, exclude=exclude)
                    assert found == expected, (who, institution, year, exclude)
