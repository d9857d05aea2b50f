"""The eligibility view (trainees_eligibility) computed from records created directly in the database.

Each case lists the person's periods as (institution, start, end, result, category, withdrawn) and the expected
row of the view for the exam year whose cut-off is 31 August.
"""

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from tests.record_helpers import FAILED, IN_PROGRESS, PASSED, D, make_person, make_record
from tests.record_helpers import exam_year as region_exam_year
from trainees.models import Eligibility, ExamCategory, ProbationRecord


def exam_year(world, year):
    return region_exam_year(world.hubei, year)


def eligibility(person, year, category) -> Eligibility:
    return Eligibility.objects.get(person=person, exam_year=year, category=category)


# (institution attribute on World, start, end, result, category code, withdrawn)
CASES = {
    "exactly one year is eligible": dict(
        year=2026,
        periods=[("wuchang_hospital", "2025-09-01", "2026-08-31", PASSED, "110", False)],
        status="eligible",
        covered=365,
        shortfall=0,
        gap=0,
    ),
    "one day short is insufficient by one day": dict(
        year=2026,
        periods=[("wuchang_hospital", "2025-09-02", "2026-08-31", PASSED, "110", False)],
        status="insufficient",
        covered=364,
        shortfall=1,
        gap=0,
    ),
    "two consecutive institutions add up to a year": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-09-01", "2026-02-28", PASSED, "110", False),
            ("hongshan_centre", "2026-03-01", "2026-08-31", PASSED, "110", False),
        ],
        status="eligible",
        covered=365,
        shortfall=0,
        gap=0,
    ),
    "a gap is flagged but enough days stay eligible": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-01-01", "2025-06-30", PASSED, "110", False),
            ("hongshan_centre", "2025-08-01", "2026-08-31", PASSED, "110", False),
        ],
        status="eligible",
        covered=181 + 396,
        shortfall=0,
        gap=31,
    ),
    "a gap with too few days is insufficient and flagged": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-09-01", "2026-01-31", PASSED, "110", False),
            ("hongshan_centre", "2026-03-01", "2026-08-31", PASSED, "110", False),
        ],
        status="insufficient",
        covered=153 + 184,
        shortfall=28,
        gap=28,
    ),
    "a year from 29 February ends on 28 February": dict(
        year=2025,
        periods=[("wuchang_hospital", "2024-02-29", "2025-02-28", PASSED, "110", False)],
        status="eligible",
        covered=366,
        shortfall=0,
        gap=0,
    ),
    "a year from 29 February ending on 27 February is one day short": dict(
        year=2025,
        periods=[("wuchang_hospital", "2024-02-29", "2025-02-27", PASSED, "110", False)],
        status="insufficient",
        covered=365,
        shortfall=1,
        gap=0,
    ),
    "a period ending after the cut-off counts only up to the cut-off": dict(
        year=2026,
        periods=[("wuchang_hospital", "2025-10-01", "2026-12-31", PASSED, "110", False)],
        status="insufficient",
        covered=335,
        shortfall=30,
        gap=0,
    ),
    "a long period capped at the cut-off still makes exactly a year": dict(
        year=2026,
        periods=[("wuchang_hospital", "2025-09-01", "2026-12-31", PASSED, "110", False)],
        status="eligible",
        covered=365,
        shortfall=0,
        gap=0,
    ),
    "a period starting after the cut-off does not count": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-09-01", "2026-02-28", PASSED, "110", False),
            ("hongshan_centre", "2026-09-01", "2027-08-31", PASSED, "110", False),
        ],
        status="insufficient",
        covered=181,
        shortfall=184,
        gap=0,
    ),
    "a failed period is ignored": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-09-01", "2026-02-28", PASSED, "110", False),
            ("hongshan_centre", "2026-03-01", "2026-08-31", FAILED, "110", False),
        ],
        status="insufficient",
        covered=181,
        shortfall=184,
        gap=0,
    ),
    "only a failed period makes the status failed": dict(
        year=2026,
        periods=[("wuchang_hospital", "2025-09-01", "2026-08-31", FAILED, "110", False)],
        status="failed",
        covered=0,
        shortfall=365,
        gap=0,
    ),
    "a period in another category is ignored": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-09-01", "2026-02-28", PASSED, "110", False),
            ("hongshan_centre", "2026-03-01", "2026-08-31", PASSED, "120", False),
        ],
        status="insufficient",
        covered=181,
        shortfall=184,
        gap=0,
    ),
    "a withdrawn period is ignored": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-09-01", "2026-02-28", PASSED, "110", False),
            ("hongshan_centre", "2026-03-01", "2026-08-31", PASSED, "110", True),
        ],
        status="insufficient",
        covered=181,
        shortfall=184,
        gap=0,
    ),
    "a running period makes the status in progress": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-09-01", "2026-02-28", PASSED, "110", False),
            ("hongshan_centre", "2026-03-01", None, IN_PROGRESS, "110", False),
        ],
        status="in_progress",
        covered=181,
        shortfall=184,
        gap=0,
    ),
    "a full year with a running period elsewhere is already eligible": dict(
        year=2026,
        periods=[
            ("wuchang_hospital", "2025-03-01", "2026-02-28", PASSED, "110", False),
            ("hongshan_centre", "2026-03-01", None, IN_PROGRESS, "110", False),
        ],
        status="eligible",
        covered=365,
        shortfall=0,
        gap=0,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_eligibility_view_counts_the_passed_days_by_the_cut_off(world, case):
    year = exam_year(world, case["year"])
    person = make_person()
    for institution, start, end, result, code, withdrawn in case["periods"]:
        category = ExamCategory.objects.get(code=code)
        make_record(person, getattr(world, institution), year, category, start, end, result, withdrawn=withdrawn)

    row = eligibility(person, year, ExamCategory.objects.get(code="110"))

    assert row.status == case["status"]
    assert row.covered_days == case["covered"]
    assert row.shortfall_days == case["shortfall"]
    assert row.gap_days == case["gap"]


def test_one_day_short_says_so_in_the_reason(world):
    year = exam_year(world, 2026)
    person = make_person()
    clinical = ExamCategory.objects.get(code="110")
    make_record(person, world.wuchang_hospital, year, clinical, "2025-09-02", "2026-08-31")

    row = eligibility(person, year, clinical)

    assert row.status == Eligibility.Status.INSUFFICIENT
    assert row.shortfall_days == 1
    with translation.override("zh-hans"):
        assert "差1天" in row.reason()
    with translation.override("en"):
        assert "1 days short" in row.reason()


def test_a_gap_is_named_in_the_reason_of_an_eligible_person(world):
    year = exam_year(world, 2026)
    person = make_person()
    clinical = ExamCategory.objects.get(code="110")
    make_record(person, world.wuchang_hospital, year, clinical, "2025-01-01", "2025-06-30")
    make_record(person, world.hongshan_centre, year, clinical, "2025-08-01", "2026-08-31")

    row = eligibility(person, year, clinical)

    assert row.status == Eligibility.Status.ELIGIBLE
    with translation.override("en"):
        assert "31 days of gaps" in row.reason()


def test_a_capped_period_reports_the_cut_off_as_its_last_day(world):
    year = exam_year(world, 2026)
    person = make_person()
    clinical = ExamCategory.objects.get(code="110")
    make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-12-31")

    row = eligibility(person, year, clinical)

    assert row.first_start == D("2025-09-01")
    assert row.last_end == year.cutoff


def test_each_exam_year_is_counted_on_its_own(world):
    person = make_person()
    clinical = ExamCategory.objects.get(code="110")
    year_2025, year_2026 = exam_year(world, 2025), exam_year(world, 2026)
    make_record(person, world.wuchang_hospital, year_2025, clinical, "2024-10-01", "2025-08-31")
    make_record(person, world.wuchang_hospital, year_2026, clinical, "2024-10-01", "2025-09-30")

    assert eligibility(person, year_2025, clinical).status == Eligibility.Status.INSUFFICIENT
    assert eligibility(person, year_2026, clinical).status == Eligibility.Status.ELIGIBLE


def test_an_overlapping_period_at_another_institution_is_refused_and_the_remaining_one_counts(world):
    year = exam_year(world, 2026)
    person = make_person()
    clinical = ExamCategory.objects.get(code="110")
    make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-08-31")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_record(person, world.hongshan_centre, year, clinical, "2026-01-01", "2026-08-31")

    assert ProbationRecord.objects.filter(person=person).count() == 1
    row = eligibility(person, year, clinical)
    assert row.status == Eligibility.Status.ELIGIBLE
    assert row.covered_days == 365
    assert row.gap_days == 0


def test_a_person_with_only_withdrawn_records_has_no_eligibility_row(world):
    year = exam_year(world, 2026)
    person = make_person()
    clinical = ExamCategory.objects.get(code="110")
    make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-08-31", withdrawn=True)

    assert not Eligibility.objects.filter(person=person).exists()
