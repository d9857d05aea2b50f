"""The database constraints behind the anti-挂靠 rule, including two institutions saving at the same moment.

The concurrent tests run real transactions on two connections (one per thread). Both threads pass a barrier,
insert, and hold their transaction open until the main thread has seen one of them wait on the other's lock;
only then may the first commit. So both inserts are issued before either commits.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, connections, transaction

from tests.record_helpers import ensure_categories, exam_year, make_person, make_record, withdraw_in_db
from tests.world import RecordsWorld, World
from trainees import actions
from trainees.forms import RecordForm
from trainees.models import ExamCategory, ProbationRecord

TIMEOUT = 20


def lock_waiters() -> int:
    """Backends of the test database waiting on a lock held by another transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def run_concurrently(*jobs):
    """Run each job in its own thread and transaction; return [(outcome, value)] in job order.

    A job runs inside ``transaction.atomic()``; the transaction commits only after the main thread has seen a
    backend waiting on a lock (the second insert blocked by the first) or after a timeout.
    """
    barrier = threading.Barrier(len(jobs), timeout=TIMEOUT)
    may_commit = threading.Event()
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            with transaction.atomic():
                value = job()
                may_commit.wait(TIMEOUT)
            results[index] = ("ok", value)
        except Exception as error:  # the outcome is what the test asserts
            results[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    saw_waiter = False
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and not saw_waiter:
        saw_waiter = lock_waiters() > 0
        time.sleep(0.02)
    may_commit.set()
    for thread in threads:
        thread.join(TIMEOUT)
    assert saw_waiter, "the second insert never waited for the first transaction"
    return results


@pytest.fixture
def tworld(transactional_db) -> RecordsWorld:
    ensure_categories()
    return RecordsWorld.build(World.build())


@pytest.mark.django_db(transaction=True)
def test_two_institutions_inserting_overlapping_periods_at_the_same_moment_only_one_commits(tworld):
    world = tworld.world
    person = make_person()

    def insert_at(institution):
        return lambda: make_record(person, institution, tworld.year, tworld.clinical, "2025-09-01", "2026-08-31").pk

    results = run_concurrently(insert_at(world.wuchang_hospital), insert_at(world.hongshan_centre))

    outcomes = sorted(outcome for outcome, _ in results)
    assert outcomes == ["error", "ok"]
    error = next(value for outcome, value in results if outcome == "error")
    if isinstance(error, IntegrityError):
        assert error.__cause__.diag.constraint_name == actions.OVERLAP_CONSTRAINT
    else:
        # Both inserts reached the exclusion check together, each waiting for the other: PostgreSQL aborts one
        # (actions.save_record then tries once more and meets the committed record).
        assert error.__cause__.sqlstate == actions.DEADLOCK_DETECTED
        assert "exclusion constraint" in str(error)
    saved = ProbationRecord.objects.get(person=person)
    assert saved.pk == next(value for outcome, value in results if outcome == "ok")


@pytest.mark.django_db(transaction=True)
def test_two_institutions_saving_valid_forms_at_the_same_moment_get_one_record_and_one_overlap_error(tworld):
    world = tworld.world
    make_person(name="张三")  # the person already exists, as after an earlier exam year
    forms = []
    for institution in (world.wuchang_hospital, world.hongshan_centre):
        form = RecordForm(tworld.record_data(), institution=institution)
        assert form.is_valid(), form.errors  # neither sees the other's record yet
        forms.append(form)
    accounts = (world.staff, world.hongshan_master)

    def save(form, user):
        return lambda: actions.save_record(form, acting_user=user).pk

    results = run_concurrently(*(save(form, user) for form, user in zip(forms, accounts, strict=True)))

    assert sorted(outcome for outcome, _ in results) == ["error", "ok"]
    error = next(value for outcome, value in results if outcome == "error")
    assert isinstance(error, ValidationError)
    assert error.code == "overlap"
    assert ProbationRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_institutions_entering_the_same_new_person_at_the_same_moment_get_a_form_error_not_a_crash(tworld):
    world = tworld.world
    forms = []
    for institution in (world.wuchang_hospital, world.hongshan_centre):
        form = RecordForm(tworld.record_data(), institution=institution)
        assert form.is_valid(), form.errors
        forms.append(form)
    accounts = (world.staff, world.hongshan_master)

    def save(form, user):
        return lambda: actions.save_record(form, acting_user=user).pk

    results = run_concurrently(*(save(form, user) for form, user in zip(forms, accounts, strict=True)))

    assert sorted(outcome for outcome, _ in results) == ["error", "ok"]
    error = next(value for outcome, value in results if outcome == "error")
    assert isinstance(error, ValidationError), repr(error)
    assert ProbationRecord.objects.count() == 1


def test_the_same_institution_may_cover_the_same_time_again_for_the_next_exam_year(world):
    ensure_categories()
    clinical = ExamCategory.objects.get(code="110")
    person = make_person()
    year_2025, year_2026 = exam_year(world.hubei, 2025), exam_year(world.hubei, 2026)
    make_record(person, world.wuchang_hospital, year_2025, clinical, "2024-09-01", "2025-08-31")

    make_record(person, world.wuchang_hospital, year_2026, clinical, "2024-09-01", "2025-08-31")

    assert ProbationRecord.objects.filter(person=person).count() == 2


def test_two_active_records_at_one_institution_for_one_exam_year_are_refused(world):
    clinical = ExamCategory.objects.get(code="110")
    person = make_person()
    year = exam_year(world.hubei, 2026)
    make_record(person, world.wuchang_hospital, year, clinical, "2025-03-01", "2025-06-30")

    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-08-31")

    assert raised.value.__cause__.diag.constraint_name == actions.DUPLICATE_CONSTRAINT


def test_an_open_ended_period_blocks_any_later_period_at_another_institution(world):
    clinical = ExamCategory.objects.get(code="110")
    person = make_person()
    year = exam_year(world.hubei, 2026)
    make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", None, ProbationRecord.Result.IN_PROGRESS)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_record(person, world.yichang_hospital, year, clinical, "2030-01-01", "2030-06-30")


def test_periods_touching_end_to_start_at_two_institutions_are_allowed_but_sharing_one_day_is_not(world):
    clinical = ExamCategory.objects.get(code="110")
    person = make_person()
    year = exam_year(world.hubei, 2026)
    make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-02-28")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_record(person, world.hongshan_centre, year, clinical, "2026-02-28", "2026-08-31")
    make_record(person, world.hongshan_centre, year, clinical, "2026-03-01", "2026-08-31")

    assert ProbationRecord.objects.filter(person=person).count() == 2


def test_a_withdrawn_record_no_longer_blocks_another_institution_or_a_new_record_at_its_own(world):
    clinical = ExamCategory.objects.get(code="110")
    person = make_person()
    year = exam_year(world.hubei, 2026)
    first = make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-08-31")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_record(person, world.hongshan_centre, year, clinical, "2025-09-01", "2026-08-31")

    withdraw_in_db(first)

    make_record(person, world.hongshan_centre, year, clinical, "2025-09-01", "2026-08-31")
    with pytest.raises(IntegrityError), transaction.atomic():  # now the new one blocks the old institution
        make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-08-31")
    assert ProbationRecord.objects.active().filter(person=person).count() == 1
    assert ProbationRecord.objects.filter(person=person).count() == 2


def test_a_withdrawn_record_allows_a_new_record_at_the_same_institution_for_the_same_year(world):
    clinical = ExamCategory.objects.get(code="110")
    person = make_person()
    year = exam_year(world.hubei, 2026)
    first = make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-08-31")
    withdraw_in_db(first)

    make_record(person, world.wuchang_hospital, year, clinical, "2025-09-01", "2026-08-31")

    assert ProbationRecord.objects.active().filter(person=person).count() == 1


class _Deadlock(Exception):
    sqlstate = actions.DEADLOCK_DETECTED


def _deadlock() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = _Deadlock()
    return error


def test_a_save_aborted_by_a_deadlock_is_tried_once_more(rworld, monkeypatch):
    form = RecordForm(rworld.record_data(), institution=rworld.world.wuchang_hospital)
    assert form.is_valid(), form.errors
    write = actions._write_record
    calls = []

    def deadlock_first(*args):
        calls.append(1)
        if len(calls) == 1:
            raise _deadlock()
        return write(*args)

    monkeypatch.setattr(actions, "_write_record", deadlock_first)
    record = actions.save_record(form, acting_user=rworld.world.staff)
    assert len(calls) == 2
    assert ProbationRecord.objects.get() == record


def test_a_second_deadlock_is_not_hidden(rworld, monkeypatch):
    form = RecordForm(rworld.record_data(), institution=rworld.world.wuchang_hospital)
    assert form.is_valid(), form.errors

    def always(*args):
        raise _deadlock()

    monkeypatch.setattr(actions, "_write_record", always)
    with pytest.raises(OperationalError):
        actions.save_record(form, acting_user=rworld.world.staff)
    assert not ProbationRecord.objects.exists()
