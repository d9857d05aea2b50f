"""Records on a finalised, submitted or filed roster are locked on the server, whatever path writes them: the
views, the actions, QuerySet.update() and raw SQL (a database trigger). A returned or discarded roster unlocks."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from reports import actions
from reports.models import Roster
from tests.world import make_resident_id
from trainees.actions import save_record, withdraw_record
from trainees.forms import RecordForm
from trainees.models import ExamYear, Person, ProbationRecord

S = Roster.Status
BIRTH = datetime.date(1998, 3, 1)
LOCKING = [S.FINALISED, S.SUBMITTED, S.ACCEPTED]
UNLOCKING = [S.RETURNED, S.CANCELLED]


def data(rworld, serial=1, **overrides) -> dict:
    """The form data of person ``serial``'s passed probation."""
    return rworld.record_data(id_number=make_resident_id(BIRTH, serial), name=f"学员{serial}", **overrides)


def enter(rworld, serial=1, **overrides) -> ProbationRecord:
    """A record entered through the form and the action, as the institution's staff does."""
    form = RecordForm(data(rworld, serial, **overrides), institution=rworld.world.wuchang_hospital)
    assert form.is_valid(), form.errors
    return save_record(form, acting_user=rworld.world.staff)


def roster_in(rworld, status) -> Roster:
    """The 武昌 hospital's roster taken through the real transitions to ``status``."""
    world = rworld.world
    roster = actions.finalise(world.wuchang_hospital, ExamYear.objects.get(pk=rworld.year.pk), acting_user=world.staff)
    if status == S.FINALISED:
        return roster
    if status == S.CANCELLED:
        return actions.cancel(roster, acting_user=world.staff)
    Roster.objects.filter(pk=roster.pk).update(pdf_state=Roster.PdfState.READY)
    roster = actions.submit(roster, acting_user=world.staff)
    if status == S.ACCEPTED:
        return actions.accept(roster, acting_user=world.wuchang_user)
    if status == S.RETURNED:
        return actions.return_roster(roster, reason="有误", acting_user=world.wuchang_user)
    return roster


def unchanged(record) -> bool:
    """The record in the database is exactly as it was."""
    current = ProbationRecord.objects.get(pk=record.pk)
    return (current.remarks, current.departments, current.withdrawn_at, current.updated_at) == (
        record.remarks,
        record.departments,
        record.withdrawn_at,
        record.updated_at,
    )


def edit_url(record):
    return reverse("trainees:edit", args=[record.public_id])


def withdraw_url(record):
    return reverse("trainees:withdraw", args=[record.public_id])


@pytest.fixture(params=LOCKING)
def locked(request, rworld) -> ProbationRecord:
    record = enter(rworld)
    roster_in(rworld, request.param)
    record.refresh_from_db()
    assert record.is_locked
    return record


def test_the_edit_view_refuses_a_locked_record(rworld, locked):
    staff = rworld.world.client_for(rworld.world.staff)
    assert staff.get(edit_url(locked)).status_code == 403
    response = staff.post(edit_url(locked), data(rworld, remarks="改动", departments="内科"))
    assert response.status_code == 403
    assert unchanged(locked)
    master = rworld.world.client_for(rworld.world.master)
    assert master.post(edit_url(locked), data(rworld, remarks="改动")).status_code == 403
    assert unchanged(locked)


def test_the_detail_page_offers_no_change_on_a_locked_record(rworld, locked):
    page = rworld.world.client_for(rworld.world.staff).get(locked.get_absolute_url())
    assert page.status_code == 200
    assert page.context["can_change"] is False
    assert edit_url(locked) not in page.content.decode()


def test_the_withdraw_view_refuses_a_locked_record(rworld, locked):
    staff = rworld.world.client_for(rworld.world.staff)
    assert staff.get(withdraw_url(locked)).status_code == 403
    assert staff.post(withdraw_url(locked), {"reason": "录入错误"}).status_code == 403
    assert unchanged(locked)


def test_withdrawing_a_locked_record_through_the_action_is_refused(rworld, locked):
    with pytest.raises(ValidationError) as refused:
        withdraw_record(locked, reason="录入错误", acting_user=rworld.world.staff)
    assert refused.value.code == "locked"
    assert unchanged(locked)


def test_saving_a_locked_record_through_the_action_is_refused_and_leaves_the_person_alone(rworld, locked):
    form = RecordForm(
        data(rworld, remarks="改动", school="华中科技大学"),
        instance=ProbationRecord.objects.get(pk=locked.pk),
        institution=rworld.world.wuchang_hospital,
    )
    assert form.is_valid(), form.errors  # the form itself has nothing against it: the database refuses
    with pytest.raises(ValidationError) as refused:
        save_record(form, acting_user=rworld.world.staff)
    assert refused.value.code == "locked"
    assert unchanged(locked)
    assert Person.objects.get(pk=locked.person_id).school == "武汉大学"  # the whole save was rolled back


def test_a_queryset_update_of_a_locked_record_is_refused_by_the_database(locked):
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        ProbationRecord.objects.filter(pk=locked.pk).update(remarks="x")
    assert "record_locked" == refused.value.__cause__.diag.message_hint
    assert unchanged(locked)


def test_a_model_save_and_raw_sql_on_a_locked_record_are_refused_by_the_database(locked):
    record = ProbationRecord.objects.get(pk=locked.pk)
    record.result = ProbationRecord.Result.FAILED
    with pytest.raises(DatabaseError), transaction.atomic():
        record.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE trainees_probationrecord SET remarks = 'sql' WHERE id = %s", [locked.pk])
    assert unchanged(locked)


def test_records_not_on_the_roster_stay_editable_while_it_is_finalised(rworld):
    on_roster = enter(rworld, 1)
    off_roster = enter(rworld, 2, result="in_progress", end_date="", assessed_on="", assessor="")
    roster = roster_in(rworld, S.FINALISED)
    assert list(roster.entries.values_list("record_id", flat=True)) == [on_roster.pk]
    ProbationRecord.objects.filter(pk=off_roster.pk).update(remarks="仍可修改")
    assert ProbationRecord.objects.get(pk=off_roster.pk).remarks == "仍可修改"


@pytest.mark.parametrize("status", UNLOCKING)
def test_after_a_return_or_a_discard_edits_work_again(rworld, status):
    record = enter(rworld)
    roster_in(rworld, status)
    assert not record.is_locked
    staff = rworld.world.client_for(rworld.world.staff)
    response = staff.post(edit_url(record), data(rworld, remarks="已更正", departments="内科、外科、妇产科"))
    assert response.status_code == 302, response.context and response.context["form"].errors
    record.refresh_from_db()
    assert (record.remarks, record.departments) == ("已更正", "内科、外科、妇产科")
    ProbationRecord.objects.filter(pk=record.pk).update(remarks="再次更正")
    withdraw_record(record, reason="录入错误", acting_user=rworld.world.staff)
    assert ProbationRecord.objects.get(pk=record.pk).is_withdrawn


def test_an_accepted_roster_keeps_its_records_locked_and_a_later_version_locks_them_again(rworld):
    record = enter(rworld)
    returned = roster_in(rworld, S.RETURNED)
    ProbationRecord.objects.filter(pk=record.pk).update(remarks="已更正")
    assert returned.status == S.RETURNED

    second = roster_in(rworld, S.ACCEPTED)
    assert second.version == 2
    record.refresh_from_db()
    assert record.is_locked
    staff = rworld.world.client_for(rworld.world.staff)
    assert staff.post(edit_url(record), data(rworld, remarks="再改")).status_code == 403
    with pytest.raises(DatabaseError), transaction.atomic():
        ProbationRecord.objects.filter(pk=record.pk).update(remarks="再改")
    assert ProbationRecord.objects.get(pk=record.pk).remarks == "已更正"
