"""Helpers shared by the probation-record tests: persons, records and exam years made directly in the database."""

import datetime
import importlib

from django.apps import apps
from django.utils import timezone

from tests.world import make_resident_id
from trainees.models import ExamCategory, ExamYear, Person, ProbationRecord

D = datetime.date.fromisoformat
PASSED = ProbationRecord.Result.PASSED
FAILED = ProbationRecord.Result.FAILED
IN_PROGRESS = ProbationRecord.Result.IN_PROGRESS


def ensure_categories() -> None:
    """Reload the exam categories of migration 0002: a transactional test's flush empties the table."""
    if not ExamCategory.objects.filter(code="110").exists():
        migration = importlib.import_module("trainees.migrations.0002_exam_categories_and_eligibility_view")
        migration.load_categories(apps, None)


def exam_year(region, year: int, **fields) -> ExamYear:
    defaults = {
        "cutoff": ExamYear.default_cutoff(year),
        "entry_opens": datetime.date(year - 1, 12, 25),
        "entry_closes": datetime.date(year, 8, 31),
        "filing_opens": datetime.date(year, 9, 1),
        "filing_closes": datetime.date(year, 9, 30),
    }
    defaults.update(fields)
    return ExamYear.objects.get_or_create(region=region, year=year, defaults=defaults)[0]


def make_person(serial: int = 1, *, name: str | None = None) -> Person:
    birth = datetime.date(1998, 3, 1)
    return Person.objects.create(
        id_number=make_resident_id(birth, serial),
        name=name or f"学员{serial}",
        sex="M",
        birth_date=birth,
        education="bachelor",
        school="武汉大学",
        major="临床医学",
    )


def make_record(person, institution, year, category, start, end, result=PASSED, *, withdrawn=False, **fields):
    """A record written straight to the database, bypassing the form (so it may break the form's rules)."""
    record = ProbationRecord.objects.create(
        person=person,
        institution=institution,
        exam_year=year,
        category=category,
        departments="内科、外科",
        supervisor_name="李医生",
        supervisor_licence="110420100001234",
        start_date=D(start) if isinstance(start, str) else start,
        end_date=(D(end) if isinstance(end, str) else end) if end else None,
        result=result,
        assessed_on=(D(end) if isinstance(end, str) else end) if end and result != IN_PROGRESS else None,
        **fields,
    )
    if withdrawn:
        withdraw_in_db(record)
    return record


def withdraw_in_db(record) -> None:
    ProbationRecord.objects.filter(pk=record.pk).update(withdrawn_at=timezone.now(), withdrawal_reason="录入错误")
    record.refresh_from_db()
