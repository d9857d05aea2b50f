"""Every change to a record and its trainee leaves a trace (database triggers), shown on the history page."""

import html
import re

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import translation
from pghistory.models import Events

from tests.record_helpers import make_person, make_record
from trainees.models import Person, ProbationRecord


def label(model, field) -> str:
    with translation.override("zh-hans"):
        return str(model._meta.get_field(field).verbose_name)


def history_rows(content: str) -> list[tuple[str, str, str]]:
    """(field, before, after) of each row of the history table."""
    rows = re.findall(r"<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>\s*</tr>", content)
    return [tuple(html.unescape(cell).strip() for cell in row) for row in rows]


@pytest.fixture
def entered(rworld):
    """A record entered, changed (end date, school) and withdrawn through the pages by the staff account."""
    world = rworld.world
    client = world.client_for(world.staff)
    assert client.post(reverse("trainees:create"), rworld.record_data()).status_code == 302
    record = ProbationRecord.objects.get()
    changed = rworld.record_data(end_date="2025-05-31", assessed_on="2025-06-05", school="华中科技大学")
    response = client.post(reverse("trainees:edit", args=[record.public_id]), changed)
    assert response.status_code == 302, response.context and response.context["form"].errors
    response = client.post(reverse("trainees:withdraw", args=[record.public_id]), {"reason": "录入重复"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.is_withdrawn
    return record


def test_the_history_page_lists_who_changed_which_field_from_what_to_what(rworld, entered):
    world = rworld.world

    response = world.client_for(world.staff).get(reverse("trainees:history", args=[entered.public_id]))

    assert response.status_code == 200
    content = response.content.decode()
    rows = history_rows(content)
    assert (label(ProbationRecord, "end_date"), "2025-06-30", "2025-05-31") in rows
    assert (label(ProbationRecord, "assessed_on"), "2025-07-05", "2025-06-05") in rows
    assert (label(Person, "school"), "武汉大学", "华中科技大学") in rows
    assert (label(ProbationRecord, "withdrawal_reason"), "", "录入重复") in rows
    assert world.staff.username in content


def test_the_history_names_the_actor_of_each_change(rworld, entered):
    events = list(Events.objects.tracks(entered).order_by("pgh_created_at", "pgh_id"))

    assert [event.pgh_label for event in events] == ["insert", "update", "update"]
    assert all(event.pgh_context and event.pgh_context.get("user") == rworld.world.staff.pk for event in events)
    assert events[1].pgh_diff["end_date"] == ["2025-06-30", "2025-05-31"]
    assert "withdrawn_at" in events[2].pgh_diff


def test_an_office_above_sees_the_same_history(rworld, entered):
    world = rworld.world

    response = world.client_for(world.wuhan_user).get(reverse("trainees:history", args=[entered.public_id]))

    assert response.status_code == 200
    assert (label(Person, "school"), "武汉大学", "华中科技大学") in history_rows(response.content.decode())


def test_a_bulk_update_outside_the_pages_still_leaves_a_history_event(rworld):
    world = rworld.world
    record = make_record(
        make_person(name="张三"), world.wuchang_hospital, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31"
    )
    before = Events.objects.tracks(record).count()

    assert ProbationRecord.objects.filter(pk=record.pk).update(remarks="x") == 1

    events = list(Events.objects.tracks(record).order_by("pgh_created_at", "pgh_id"))
    assert len(events) == before + 1
    assert events[-1].pgh_label == "update"
    assert events[-1].pgh_diff == {"remarks": ["", "x"]}
    response = world.client_for(world.staff).get(reverse("trainees:history", args=[record.public_id]))
    assert (label(ProbationRecord, "remarks"), "", "x") in history_rows(response.content.decode())


def test_a_record_cannot_be_deleted_not_even_in_bulk(rworld):
    world = rworld.world
    record = make_record(
        make_person(name="张三"), world.wuchang_hospital, rworld.year, rworld.clinical, "2025-09-01", "2026-08-31"
    )

    with pytest.raises(DatabaseError, match="record_never_deleted"), transaction.atomic():
        record.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ProbationRecord.objects.all().delete()

    assert ProbationRecord.objects.filter(pk=record.pk).exists()


def test_a_trainee_cannot_be_deleted(rworld):
    person = make_person(name="张三")

    with pytest.raises(DatabaseError, match="person_never_deleted"), transaction.atomic():
        Person.objects.filter(pk=person.pk).delete()

    assert Person.objects.filter(pk=person.pk).exists()


def test_history_hides_person_changes_made_by_another_institution(rworld, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from trainees.models import Person, ProbationRecord

    world = rworld.world
    own = world.client_for(world.staff)
    assert own.post(reverse("trainees:create"), rworld.record_data()).status_code == 302
    record = ProbationRecord.objects.get()
    other = world.client_for(world.hongshan_master)
    later = rworld.record_data(
        start_date="2025-07-01", end_date="2026-06-30", assessed_on="2026-07-02", school="同济大学"
    )
    assert other.post(reverse("trainees:create"), later).status_code == 302
    assert Person.objects.get().school == "同济大学"
    page = own.get(reverse("trainees:history", args=[record.public_id])).content.decode()
    assert "同济大学" not in page
    assert world.hongshan_master.username not in page
