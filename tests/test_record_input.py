"""Awkward and hostile input on the record form: never a 500, the error next to its field, the rest kept."""

import datetime

import pytest
from django.urls import reverse

from institutions.models import Institution
from tests.record_helpers import exam_year, make_person, make_record
from tests.world import make_resident_id
from trainees.models import ExamYear, Person, ProbationRecord

BIRTH = datetime.date(1998, 3, 1)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def post_record(client, data):
    return client.post(reverse("trainees:create"), data)


def saved_or_errors(response):
    return response.context["form"].errors if response.context and "form" in response.context else response


def resident_id_ending_in_x() -> str:
    return next(number for serial in range(1, 500) if (number := make_resident_id(BIRTH, serial)).endswith("X"))


def test_full_width_digits_and_spaces_in_the_id_number_are_accepted_and_stored_canonical(rworld):
    world = rworld.world
    canonical = make_resident_id(BIRTH)
    typed = (
        canonical[:6].translate(FULL_WIDTH) + " " + canonical[6:14] + "\u3000" + canonical[14:].translate(FULL_WIDTH)
    )

    response = post_record(world.client_for(world.staff), rworld.record_data(id_number=typed))

    assert response.status_code == 302, saved_or_errors(response)
    assert Person.objects.get().id_number == canonical


def test_a_lowercase_x_check_character_is_stored_as_uppercase(rworld):
    world = rworld.world
    number = resident_id_ending_in_x()

    response = post_record(world.client_for(world.staff), rworld.record_data(id_number=number.lower()))

    assert response.status_code == 302, saved_or_errors(response)
    assert Person.objects.get().id_number == number


def test_an_id_number_typed_again_with_full_width_digits_finds_the_same_person(rworld):
    world = rworld.world
    person = make_person(name="张三")  # 张三 was entered before, for an earlier exam year

    response = post_record(
        world.client_for(world.staff), rworld.record_data(id_number=person.id_number.translate(FULL_WIDTH))
    )

    assert response.status_code == 302, saved_or_errors(response)
    assert Person.objects.count() == 1
    assert ProbationRecord.objects.get().person == person


TOMORROW = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
BAD_INPUT = {
    "an impossible birth date": ("birth_date", "2023-02-30"),
    "a future birth date": ("birth_date", "2099-01-01"),
    "a birth date that is not a date": ("birth_date", "1998/03/01 or so"),
    "a month thirteen": ("start_date", "2025-13-01"),
    "a name of ten thousand characters": ("name", "张" * 10_000),
    "a NUL byte in the departments": ("departments", "内科\x00外科"),
    "a control character in the school": ("school", "武汉\x07大学"),
    "a first-generation fifteen-digit ID": ("id_number", "420106980301003"),
    "an ID with a letter inside": ("id_number", "42010619980301A038"),
    "an ID with an unknown province": ("id_number", "990106199803010038"),
    "an unknown category": ("category", "999999"),
    "an unknown exam year": ("exam_year", "999999"),
    "an unknown result": ("result", "excellent"),
    "an assessment date in the future": ("assessed_on", TOMORROW),
    "a supervisor licence too short": ("supervisor_licence", "123"),
}


@pytest.mark.parametrize("field,value", BAD_INPUT.values(), ids=list(BAD_INPUT))
def test_bad_input_is_refused_next_to_its_field_and_the_other_input_is_kept(rworld, field, value):
    world = rworld.world
    data = rworld.record_data(**{field: value})

    response = post_record(world.client_for(world.staff), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    kept = "major" if field == "school" else "school"
    assert form[kept].value() == data[kept]
    assert f'value="{data[kept]}"' in response.content.decode()
    assert not ProbationRecord.objects.exists()
    assert not Person.objects.exists()


def test_a_future_birth_date_is_refused_even_with_a_matching_id_number(rworld):
    world = rworld.world
    future = datetime.date.today() + datetime.timedelta(days=30)
    # A passport carries no birth date, so only the birth-date check can refuse it.
    data = rworld.record_data(id_type="passport", id_number="E12345678", birth_date=future.isoformat())

    response = post_record(world.client_for(world.staff), data)

    assert response.status_code == 200
    assert "birth_date" in response.context["form"].errors
    assert not Person.objects.exists()


def test_html_in_text_fields_is_stored_as_typed_and_shown_escaped(rworld):
    world = rworld.world
    script = "<script>alert(1)</script>"
    client = world.client_for(world.staff)
    data = rworld.record_data(
        name="张<i>三</i>",
        school=f"武汉大学{script}",
        departments=f"内科{script}",
        content=f"病史采集{script}",
        remarks=script,
        assessor="<b>王</b>",
    )

    response = post_record(client, data)

    assert response.status_code == 302, saved_or_errors(response)
    record = ProbationRecord.objects.get()
    assert record.remarks == script
    assert record.person.school == f"武汉大学{script}"
    detail = client.get(record.get_absolute_url()).content.decode()
    assert "<script>" not in detail
    assert "&lt;script&gt;" in detail
    assert "<i>三</i>" not in detail and "<b>王</b>" not in detail
    listing = client.get(reverse("trainees:list")).content.decode()
    assert "<i>三</i>" not in listing
    assert "张&lt;i&gt;三&lt;/i&gt;" in listing


def test_an_office_account_cannot_create_records_even_for_an_institution_beneath_it(rworld):
    world = rworld.world
    data = rworld.record_data(institution=world.wuchang_hospital.pk)

    for office_user in (world.wuchang_user, world.wuhan_user, world.region_user):
        assert post_record(world.client_for(office_user), data).status_code == 403
        assert world.client_for(office_user).get(reverse("trainees:create")).status_code == 403

    assert not ProbationRecord.objects.exists()


def test_an_institution_field_slipped_into_the_post_is_ignored(rworld):
    world = rworld.world
    data = rworld.record_data(institution=world.hongshan_centre.pk, institution_id=world.hongshan_centre.pk)

    response = post_record(world.client_for(world.staff), data)

    assert response.status_code == 302, saved_or_errors(response)
    assert ProbationRecord.objects.get().institution == world.wuchang_hospital


def test_an_incomplete_profile_shows_a_link_to_the_profile_and_refuses_a_post(rworld):
    world = rworld.world
    Institution.objects.filter(pk=world.wuchang_hospital.pk).update(uscc="")
    client = world.client_for(world.staff)

    page = client.get(reverse("trainees:create"))
    refused = post_record(client, rworld.record_data())

    assert page.status_code == 200
    profile_url = reverse("institutions:institution_profile", args=[world.wuchang_hospital.public_id])
    assert f'href="{profile_url}"' in page.content.decode()
    assert 'name="id_number"' not in page.content.decode()
    assert refused.status_code == 403
    assert not ProbationRecord.objects.exists()


def test_entry_is_refused_on_the_exam_year_once_the_entry_period_has_closed(rworld):
    world = rworld.world
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    ExamYear.objects.filter(pk=rworld.year.pk).update(entry_closes=yesterday)

    response = post_record(world.client_for(world.staff), rworld.record_data())

    assert response.status_code == 200
    form = response.context["form"]
    assert "exam_year" in form.errors
    assert str(yesterday) in " ".join(form.errors["exam_year"])
    assert form["name"].value() == "张三"
    assert not ProbationRecord.objects.exists()


def test_entry_is_refused_before_the_entry_period_opens(rworld):
    world = rworld.world
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    ExamYear.objects.filter(pk=rworld.year.pk).update(entry_opens=tomorrow)

    response = post_record(world.client_for(world.staff), rworld.record_data())

    assert response.status_code == 200
    assert "exam_year" in response.context["form"].errors
    assert not ProbationRecord.objects.exists()


def test_a_record_of_a_past_exam_year_is_read_only(rworld):
    world = rworld.world
    past = exam_year(world.hubei, rworld.year.year - 1)
    record = make_record(
        make_person(name="张三"), world.wuchang_hospital, past, rworld.clinical, "2024-09-01", "2025-08-31"
    )
    client = world.client_for(world.staff)
    edit_url = reverse("trainees:edit", args=[record.public_id])

    assert client.get(record.get_absolute_url()).status_code == 200
    assert edit_url not in client.get(record.get_absolute_url()).content.decode()
    assert client.get(edit_url).status_code == 403
    data = rworld.record_data(exam_year=past.pk, start_date="2024-09-01", end_date="2025-08-31", remarks="改过")
    assert client.post(edit_url, data).status_code == 403
    withdraw = client.post(reverse("trainees:withdraw", args=[record.public_id]), {"reason": "重复"})
    assert withdraw.status_code == 403
    record.refresh_from_db()
    assert record.remarks == "" and not record.is_withdrawn


def test_an_edit_cannot_move_a_record_to_another_exam_year_or_change_the_id_number(rworld):
    world = rworld.world
    client = world.client_for(world.staff)
    assert post_record(client, rworld.record_data()).status_code == 302
    record = ProbationRecord.objects.get()
    other_year = exam_year(world.hubei, rworld.year.year + 1)

    response = client.post(
        reverse("trainees:edit", args=[record.public_id]),
        rworld.record_data(exam_year=other_year.pk, id_number=resident_id_ending_in_x(), remarks="改过"),
    )

    assert response.status_code == 302, saved_or_errors(response)
    record.refresh_from_db()
    assert record.remarks == "改过"
    assert record.exam_year == rworld.year
    assert record.person.id_number == make_resident_id(BIRTH)
