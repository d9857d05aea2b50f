"""Entering, changing and withdrawing probation records through the web pages."""

import pytest
from django.urls import reverse
from django.utils import translation

from trainees.models import OverlapAttempt, Person, ProbationRecord


def post_record(client, data):
    return client.post(reverse("trainees:create"), data)


def test_institution_staff_enters_a_record_and_sees_it_in_the_list(rworld):
    client = rworld.world.client_for(rworld.world.staff)
    response = post_record(client, rworld.record_data())
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    record = ProbationRecord.objects.get()
    assert record.institution == rworld.world.wuchang_hospital
    assert record.person.name == "张三"
    listing = client.get(reverse("trainees:list"))
    assert "张三" in listing.content.decode()
    assert record.person.id_number not in listing.content.decode()  # masked in lists
    detail = client.get(record.get_absolute_url())
    assert record.person.id_number in detail.content.decode()


def test_overlap_at_another_institution_is_refused_naming_only_its_office(rworld):
    world = rworld.world
    assert post_record(world.client_for(world.staff), rworld.record_data()).status_code == 302
    response = post_record(
        world.client_for(world.hongshan_master), rworld.record_data(start_date="2025-01-01", end_date="2025-12-31")
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert world.wuchang.name in errors
    assert world.wuchang_hospital.name not in response.content.decode()
    assert ProbationRecord.objects.count() == 1
    attempt = OverlapAttempt.objects.get()
    assert attempt.institution == world.hongshan_centre
    conflicts = world.client_for(world.wuhan_user).get(reverse("trainees:conflicts"))
    assert world.hongshan_centre.name in conflicts.content.decode()


@pytest.mark.parametrize(
    "field,value",
    [
        ("id_number", "42010619980301001X"),
        ("birth_date", "1998-03-02"),
        ("sex", "F"),
        ("end_date", "2024-06-30"),
        ("start_date", "2010-01-01"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_keeping_the_rest(rworld, field, value):
    world = rworld.world
    response = post_record(world.client_for(world.staff), rworld.record_data(**{field: value}))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors or form.non_field_errors()
    assert form["school"].value() == "武汉大学"
    assert not Person.objects.exists()


@pytest.mark.parametrize("full_name", ["王录入", ""])
def test_detail_names_the_account_that_entered_the_record(rworld, full_name):
    world = rworld.world
    world.staff.full_name = full_name
    world.staff.save(update_fields=["full_name"])
    client = world.client_for(world.staff)
    post_record(client, rworld.record_data())
    record = ProbationRecord.objects.get()
    response = client.get(record.get_absolute_url())
    assert response.context["entered_by"] == str(world.staff)
    assert f"<dd>{str(world.staff)}, " in response.content.decode()
    ProbationRecord.objects.filter(pk=record.pk).update(created_by=None)  # an imported or seeded record
    assert "<dd>—, " in client.get(record.get_absolute_url()).content.decode()


def test_detail_warns_when_a_dental_category_has_no_dental_rotation(rworld):
    world = rworld.world
    client = world.client_for(world.staff)
    post_record(client, rworld.record_data(category=rworld.dental.pk, departments="内科、外科"))
    record = ProbationRecord.objects.get()
    assert record.category_mismatch()
    page = client.get(record.get_absolute_url()).content.decode()
    with translation.override("zh-hans"):
        warning = translation.gettext("The exam category does not match the rotation departments.")
    assert warning == "报考类别与轮转科室不符。"
    assert warning in page

    record_ok = ProbationRecord(category=rworld.dental, departments="口腔科")
    assert not record_ok.category_mismatch()


def test_a_withdrawn_record_names_who_withdrew_it_and_why(rworld, django_assert_max_num_queries):
    world = rworld.world
    client = world.client_for(world.staff)
    post_record(client, rworld.record_data())
    record = ProbationRecord.objects.get()
    assert client.post(reverse("trainees:withdraw", args=[record.public_id]), {"reason": "重复录入"}).status_code == 302

    office = world.client_for(world.wuchang_user)
    office.get(record.get_absolute_url())
    # Session, account, grants, record, audit event, eligibility, and the withdrawing account: read apart from
    # the record, as only withdrawn records show it.
    with django_assert_max_num_queries(7):
        page = office.get(record.get_absolute_url()).content.decode()
    assert f"由{world.staff}撤销，撤销原因：重复录入" in page
