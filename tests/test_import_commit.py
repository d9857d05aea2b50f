"""Confirming an import: everything in one transaction or nothing, re-imports that change nothing, updates through
the record form, locked records refused, and the audit trail."""

import datetime

import pytest
from django.utils import translation
from pghistory.models import Events

from accounts.models import AuditEvent
from reports import actions as roster_actions
from tests import import_files as f
from tests.record_helpers import make_person, make_record
from trainees import imports
from trainees.models import Person, ProbationRecord


@pytest.fixture(autouse=True)
def english():
    with translation.override(None):
        yield


def run(rworld, data, *, user=None):
    world = rworld.world
    return imports.import_file(data, institution=world.wuchang_hospital, user=user or world.staff)


def test_a_clean_file_is_imported_with_who_entered_it_and_one_audit_event(rworld):
    world = rworld.world

    report = run(rworld, f.xlsx(f.rows(rworld, 3)))

    assert report.imported and report.counts[imports.NEW] == 3
    records = ProbationRecord.objects.select_related("person").order_by("person__name")
    assert [(r.person.name, r.institution, r.created_by, r.result) for r in records] == [
        (f"学员{n}", world.wuchang_hospital, world.staff, "passed") for n in (1, 2, 3)
    ]
    assert records[0].start_date == datetime.date(2024, 7, 1)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.IMPORT)
    assert event.actor == world.staff and event.changes["new"] == 3 and event.changes["rows"] == 3
    # The history carries who imported it, like a change made through the form.
    assert {e.pgh_context["user"] for e in Events.objects.filter(pgh_model="trainees.ProbationRecordEvent")} == {
        world.staff.pk
    }


def test_re_importing_the_same_file_changes_nothing(rworld):
    data = f.csv_bytes(f.rows(rworld, 3))
    run(rworld, data)
    before = list(ProbationRecord.objects.order_by("pk").values_list("pk", "updated_at"))
    events = Events.objects.count()

    report = run(rworld, data)

    assert report.imported and report.counts == {"new": 0, "update": 0, "unchanged": 3, "skipped": 0}
    assert list(ProbationRecord.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert Events.objects.count() == events


def test_a_changed_row_updates_its_record_and_the_preview_names_the_changed_columns(rworld):
    run(rworld, f.xlsx(f.rows(rworld, 2, 考核结果="考核中", 试用结束日期=None, 考核日期=None)))
    changed = f.rows(rworld, 2)
    changed[1]["备注"] = "补录"

    preview = imports.check_file(f.xlsx(changed), institution=rworld.world.wuchang_hospital, user=rworld.world.staff)
    report = run(rworld, f.xlsx(changed))

    assert [(row["row"], row["action"], row["fields"]) for row in preview.rows] == [
        (2, "update", ["试用结束日期", "考核结果", "考核日期"]),
        (3, "update", ["试用结束日期", "考核结果", "考核日期", "备注"]),
    ]
    assert report.imported and report.counts[imports.UPDATE] == 2
    assert ProbationRecord.objects.count() == 2
    assert set(ProbationRecord.objects.values_list("result", flat=True)) == {"passed"}
    assert ProbationRecord.objects.get(person__name="学员2").remarks == "补录"


def test_a_known_person_gets_a_new_record_through_the_form(rworld):
    world = rworld.world
    person = make_person(1, name="学员1")
    make_record(
        person, world.wuchang_hospital, rworld.year, rworld.clinical, "2023-07-01", "2024-06-30", withdrawn=True
    )

    report = run(rworld, f.xlsx(f.rows(rworld, 2)))

    assert report.imported and report.counts[imports.NEW] == 2
    assert Person.objects.count() == 2
    assert person.records.filter(withdrawn_at__isnull=True).count() == 1


def test_a_change_to_a_record_on_a_finalised_roster_is_refused(rworld):
    world = rworld.world
    run(rworld, f.xlsx(f.rows(rworld, 2)))
    roster_actions.finalise(world.wuchang_hospital, rworld.year, acting_user=world.master)
    unchanged_and_changed = [f.row(rworld, 1), f.row(rworld, 2, 备注="改")]

    report = run(rworld, f.xlsx(unchanged_and_changed))

    assert not report.imported
    assert [(e["row"], e["column"], e["message"]) for e in report.errors] == [
        (3, "(whole row)", "This record is on a finalised or filed roster and cannot be changed.")
    ]
    assert not ProbationRecord.objects.filter(remarks="改").exists()


def test_a_bad_row_imports_nothing(rworld):
    records = f.rows(rworld, 4)
    records[2]["性别"] = "女"

    report = run(rworld, f.xlsx(records))

    assert not report.imported
    assert [(e["row"], e["column"]) for e in report.errors] == [(4, "性别")]
    assert Person.objects.count() == 0 and ProbationRecord.objects.count() == 0
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.IMPORT).exists()


def test_a_record_entered_elsewhere_between_check_and_save_fails_the_whole_import(rworld, monkeypatch):
    """The database refuses the batch at commit time; the row is found and reported, and nothing is kept."""
    world = rworld.world
    data = f.csv_bytes(f.rows(rworld, 5))

    def enter_elsewhere(*args, **kwargs):
        # After the rows were validated and before the batch is written, another institution enters 学员4.
        person = f.make_person(4)
        make_record(person, world.hongshan_centre, rworld.year, rworld.clinical, "2024-09-01", "2025-08-31")
        original_flush(*args, **kwargs)

    from trainees.resources import RecordImportResource

    original_flush = RecordImportResource._flush
    monkeypatch.setattr(RecordImportResource, "_flush", lambda self: enter_elsewhere(self))

    report = run(rworld, data)

    assert not report.imported
    assert [(e["row"], e["message"]) for e in report.errors] == [
        (
            5,
            "This person is already in probation at another institution during this period. "
            "Please contact 洪山区, the exam management office supervising that institution.",
        )
    ]
    assert ProbationRecord.objects.filter(institution=world.wuchang_hospital).count() == 0


def test_a_file_whose_row_9000_conflicts_leaves_the_database_unchanged(rworld):
    world = rworld.world
    other = f.make_person(9000)
    make_record(other, world.hongshan_centre, rworld.year, rworld.clinical, "2024-09-01", "2025-08-31")
    persons, records, events = Person.objects.count(), ProbationRecord.objects.count(), Events.objects.count()
    # Spreadsheet row 9,000 is the 8,999th data row: serial 8999 ... so give that row the conflicting person.
    lines = f.rows(rworld, 8999)
    lines[-1] = f.row(rworld, 9000)
    data = f.csv_bytes(lines)

    report = run(rworld, data)

    assert not report.imported
    assert [(e["row"], e["column"]) for e in report.errors] == [(9000, "试用开始日期")]
    assert (Person.objects.count(), ProbationRecord.objects.count(), Events.objects.count()) == (
        persons,
        records,
        events,
    )
