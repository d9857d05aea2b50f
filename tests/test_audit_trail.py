"""The audit trail page: every kind of recorded event, each with its actor, time, object and values; filters,
exports (audited themselves), the region boundary and who may read it; and that audit rows cannot be changed."""

import csv
import datetime
import io

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext

from accounts.models import AuditEvent
from reports.audit_trail import _object_filter
from reports.models import Roster
from tests.auth_helpers import form_login
from tests.record_helpers import make_person, make_record
from tests.test_record_search import plan
from tests.world import PASSWORD, make_account, make_resident_id
from trainees.models import Person, ProbationRecord

EVENTS = reverse("reports:audit_events")
CHANGES = reverse("reports:audit_changes")
K = AuditEvent.Kind


@pytest.fixture
def trail(rworld):
    """One of each kind of event in Hubei, each made through the platform as a user would."""
    world, year = rworld.world, rworld.year
    staff = world.client_for(world.staff)
    assert staff.post(reverse("trainees:create"), rworld.record_data()).status_code == 302
    record = ProbationRecord.objects.get()
    edited = rworld.record_data(departments="内科、外科、急诊科")
    assert staff.post(reverse("trainees:edit", args=[record.public_id]), edited).status_code == 302
    office = world.client_for(world.wuchang_user)
    prefecture = world.client_for(world.wuhan_user)
    issued = prefecture.post(reverse("accounts:issue_office", args=[world.wuchang.public_id]), {"username": "wc_clerk"})
    assert issued.status_code == 200 and "wc_clerk" in issued.content.decode()
    assert form_login(Client(), "wcyy", PASSWORD).status_code == 302
    assert form_login(Client(), "wcyy", "wrong-password-0").status_code == 200
    assert office.get(reverse("trainees:detail", args=[record.public_id])).status_code == 200  # full ID number
    assert office.get(reverse("trainees:export_csv")).status_code == 200
    assert office.post(
        reverse("reports:lookup"), {"id_type": "resident", "id_number": "420106199803010038"}
    ).status_code
    roster = Roster.objects.create(
        institution=world.wuchang_hospital,
        exam_year=year,
        version=1,
        institution_name=world.wuchang_hospital.name,
        office_name=world.wuchang.name,
        finalised_by=world.master,
    )
    assert Client().get(reverse("reports:verify_code", args=[roster.verification_code])).status_code == 200
    # And something in Hunan, which Hubei must not see.
    assert form_login(Client(), "hnyy", "wrong-password-1").status_code == 200
    hunan = world.client_for(world.hunan_user)
    hunan_number = make_resident_id(datetime.date(1990, 1, 1), region="430102")
    assert hunan.post(reverse("reports:lookup"), {"id_type": "resident", "id_number": hunan_number}).status_code == 200
    return {"record": record, "roster": roster}


def rows_of(response):
    return list(response.context["page"])


@pytest.mark.parametrize(
    ("kind", "actor", "target"),
    [
        (K.ACCOUNT_ISSUE, "wuhan", "wc_clerk"),
        (K.LOGIN, "wcyy", "wcyy"),
        (K.LOGIN_FAILED, "wcyy", ""),
        (K.FULL_ID_VIEW, "wuchang", "张三"),
        (K.EXPORT, "wuchang", "武昌区"),
        (K.ELIGIBILITY_LOOKUP, "wuchang", ""),
        (K.VERIFICATION, "", "武汉市武昌医院"),
    ],
)
def test_the_region_office_finds_each_kind_of_event_with_actor_time_and_object(trail, world, kind, actor, target):
    response = world.client_for(world.region_user).get(EVENTS, {"kind": kind, "actor": actor})
    events = rows_of(response)
    assert len(events) == 1, [str(e) for e in events]
    event = events[0]
    assert event.actor_username == actor
    assert target in event.target_label
    assert event.at is not None
    page = response.content.decode()
    assert event.at.astimezone().strftime("%Y-%m-%d") in page
    assert (actor or "—") in page


def test_account_actions_carry_their_values(trail, world):
    event = rows_of(world.client_for(world.region_user).get(EVENTS, {"kind": K.ACCOUNT_ISSUE}))[0]
    assert event.changes["node"] == "武昌区"
    assert event.changes["permissions"] == ["view_office"]


def test_data_changes_show_who_changed_a_record_when_and_from_what_to_what(trail, world):
    response = world.client_for(world.region_user).get(CHANGES, {"model": "record", "actor": "wcyy_staff"})
    changes = response.context["changes"]
    assert [change.action for change in changes] == [gettext("changed"), gettext("created")]
    changed = changes[0]
    assert changed.actor.username == "wcyy_staff"
    assert any(old == "内科、外科、儿科" and new == "内科、外科、急诊科" for _label, old, new in changed.changes)
    page = response.content.decode()
    assert "内科、外科、急诊科" in page and "wcyy_staff" in page


def test_data_changes_of_trainees_mask_their_id_numbers(trail, world):
    response = world.client_for(world.region_user).get(CHANGES, {"model": "person"})
    (created,) = response.context["changes"]
    number = ProbationRecord.objects.get().person.id_number
    assert number not in response.content.decode()
    assert any(new == number[:6] + "********" + number[-4:] for _label, _old, new in created.changes)


def test_filters_by_actor_object_kind_and_date(trail, world):
    client = world.client_for(world.region_user)
    by_actor = rows_of(client.get(EVENTS, {"actor": "wcyy"}))
    assert by_actor and {e.actor_username for e in by_actor} == {"wcyy"}
    roster = trail["roster"]
    by_object = rows_of(client.get(EVENTS, {"obj": str(roster.public_id)}))
    assert [e.kind for e in by_object] == [K.VERIFICATION]
    today = by_actor[0].at.astimezone().date()
    assert rows_of(client.get(EVENTS, {"since": today, "until": today, "kind": K.LOGIN}))
    assert rows_of(client.get(EVENTS, {"until": today.replace(year=today.year - 1)})) == []
    by_record = client.get(CHANGES, {"obj": str(trail["record"].public_id)}).context["changes"]
    assert {change.object_id for change in by_record} == {str(trail["record"].public_id)}
    assert client.get(CHANGES, {"actor": "nobody-at-all"}).context["changes"] == []


def test_hubei_does_not_see_hunans_events(trail, world):
    client = world.client_for(world.region_user)
    events = rows_of(client.get(EVENTS))
    assert "hnyy" not in {e.actor_username for e in events}
    assert "hunan" not in {e.actor_username for e in events}
    hunan_view = rows_of(world.client_for(world.hunan_user).get(EVENTS, {"kind": K.ELIGIBILITY_LOOKUP}))
    assert [e.actor_username for e in hunan_view] == ["hunan"]
    hunan_changes = world.client_for(world.hunan_user).get(CHANGES).context["changes"]
    assert {change.object_label for change in hunan_changes} == {"湖南省人民医院"}
    hubei_changes = client.get(CHANGES).context["changes"]
    assert "湖南省人民医院" not in {change.object_label for change in hubei_changes}
    assert "武汉市武昌医院" in {change.object_label for change in hubei_changes}


def test_offices_below_the_region_and_institutions_cannot_read_the_trail(world):
    for user in (world.wuhan_user, world.wuchang_user, world.master, world.staff):
        client = world.client_for(user)
        assert client.get(EVENTS).status_code == 403
        assert client.get(CHANGES).status_code == 403


def test_auditor_reads_the_trail(trail, world):
    auditor = make_account("hubei_audit", world.hubei_office, perms=("view_office",), is_staff=True)
    response = world.client_for(auditor).get(EVENTS)
    assert response.status_code == 200 and rows_of(response)


def test_export_is_utf8_with_bom_matches_the_filter_and_is_audited(trail, world):
    client = world.client_for(world.region_user)
    response = client.get(EVENTS, {"kind": K.LOGIN, "actor": "wcyy", "export": "csv"})
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(lines) == 1 + AuditEvent.objects.filter(kind=K.LOGIN, actor_username="wcyy").count() == 2
    assert lines[1][1] == "wcyy" and lines[1][2] == gettext("Login")
    export = AuditEvent.objects.filter(kind=K.EXPORT, actor=world.region_user).get()
    assert export.changes["export"] == "audit_events"
    assert export.changes["filter"] == {"kind": K.LOGIN, "actor": "wcyy"}
    assert export.changes["rows"] == len(lines) - 1

    changes = client.get(CHANGES, {"model": "record", "export": "csv"}).content.decode("utf-8")
    assert changes.startswith("\ufeff") and "内科、外科、急诊科" in changes
    assert AuditEvent.objects.filter(kind=K.EXPORT, actor=world.region_user).count() == 2


def test_audit_rows_cannot_be_changed_or_deleted(trail, world):
    event = AuditEvent.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(target_label="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    client = world.client_for(world.region_user)
    assert client.post(EVENTS, {"kind": K.LOGIN}).status_code == 200  # a POST changes nothing: it is a search
    assert AuditEvent.objects.filter(pk=event.pk, target_label=event.target_label).exists()


def test_an_event_recorded_without_a_region_by_a_hubei_account_belongs_to_hubei(rworld):
    world = rworld.world
    person = make_person(5)
    make_record(person, world.wuchang_hospital, rworld.year, rworld.clinical, "2025-07-01", "2026-06-30")
    AuditEvent.objects.create(kind=K.IMPORT, actor=world.staff, actor_username="wcyy_staff")  # no region
    events = rows_of(world.client_for(world.region_user).get(EVENTS, {"kind": K.IMPORT}))
    assert [e.actor_username for e in events] == ["wcyy_staff"]
    assert rows_of(world.client_for(world.hunan_user).get(EVENTS, {"kind": K.IMPORT})) == []


def test_the_trail_pages_one_fifty_rows_at_a_time(world):
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=K.LOGIN, actor=world.wuhan_user, actor_username="wuhan", region=world.hubei) for _ in range(60)
    )
    client = world.client_for(world.region_user)
    first = client.get(EVENTS)
    total = first.context["page"].paginator.count
    assert total > 60 and len(rows_of(first)) == 50
    assert len(rows_of(client.get(EVENTS, {"page": 2}))) == total - 50


def test_a_trainees_history_is_found_by_part_of_the_name_or_the_whole_id_number(trail, world):
    client = world.client_for(world.region_user)
    person = trail["record"].person

    def found(obj):
        changes = client.get(CHANGES, {"model": "person", "obj": obj}).context["changes"]
        return {change.object_id for change in changes}

    assert found(person.name[1:]) == found(person.name) == {str(person.public_id)}
    assert found(person.id_number.lower()) == {str(person.public_id)}
    assert found(person.id_number[-6:]) == set()  # not a part of a number: the trail shows them masked
    assert found("无此人") == set()


def test_the_history_search_of_trainees_can_be_answered_from_indexes(trail, world):
    """trainees migration 0011: the person events' name grams and ID numbers, or every event is read."""
    events = Person.pgh_event_model.objects.filter(_object_filter("person", "张三"))
    explained = plan(events.order_by().values("pgh_id"))
    assert "person_event_name_grams_idx" in explained and "person_event_id_number_idx" in explained
    assert "Seq Scan" not in explained
