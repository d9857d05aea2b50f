"""Who may do what with a probation record of 武汉市武昌医院 (under 武昌区 < 武汉市 < 湖北考区).

The institution enters and changes its own records; the offices above it only look; everybody else does not
even learn that the record exists (404, absent from lists); anonymous visitors are sent to the login page.
"""

import datetime

import pytest
from django.urls import reverse

from tests.record_helpers import make_person, make_record
from tests.world import make_resident_id
from trainees.models import ProbationRecord

OWN = ("master", "staff")
ABOVE = ("wuchang_user", "wuhan_user", "region_user")
OUTSIDE_OFFICES = ("hongshan_user", "hunan_user")
OTHER_INSTITUTION = ("hongshan_master",)
ANONYMOUS = "anonymous"
ACTIONS = ("list", "detail", "create", "edit", "withdraw", "history")


def expected(actor: str, action: str):
    """The status code, and for the list whether the record shows."""
    if actor == ANONYMOUS:
        return 302
    if actor in OWN:
        return {"create": 302, "edit": 302, "withdraw": 302}.get(action, 200)
    if actor in ABOVE:
        return {"create": 403, "edit": 403, "withdraw": 403}.get(action, 200)
    if action == "list":
        return 200
    if action == "create":
        return 302 if actor in OTHER_INSTITUTION else 403  # an institution enters its own records only
    return 404


MATRIX = [
    (actor, action, expected(actor, action))
    for actor in (*OWN, *ABOVE, *OUTSIDE_OFFICES, *OTHER_INSTITUTION, ANONYMOUS)
    for action in ACTIONS
]


@pytest.fixture
def target(rworld) -> ProbationRecord:
    """张三's passed record at 武汉市武昌医院 for the current exam year, entered by its staff."""
    world = rworld.world
    person = make_person(name="张三")
    return make_record(
        person,
        world.wuchang_hospital,
        rworld.year,
        rworld.clinical,
        "2025-09-01",
        "2026-08-31",
        created_by=world.staff,
    )


def new_person_data(rworld) -> dict:
    birth = datetime.date(1999, 5, 5)
    return rworld.record_data(
        id_number=make_resident_id(birth, 7), name="李四", birth_date=birth.isoformat(), start_date="2024-09-01"
    )


def form_errors(response):
    context = response.context or {}
    return context["form"].errors if "form" in context else response.status_code


def perform(client, action, record, rworld):
    if action == "list":
        return client.get(reverse("trainees:list"))
    if action == "detail":
        return client.get(reverse("trainees:detail", args=[record.public_id]))
    if action == "create":
        return client.post(reverse("trainees:create"), new_person_data(rworld))
    if action == "edit":
        data = rworld.record_data(
            start_date="2025-09-01", end_date="2026-08-31", assessed_on="2026-08-31", remarks="改过"
        )
        return client.post(reverse("trainees:edit", args=[record.public_id]), data)
    if action == "withdraw":
        return client.post(reverse("trainees:withdraw", args=[record.public_id]), {"reason": "重复录入"})
    if action == "history":
        return client.get(reverse("trainees:history", args=[record.public_id]))
    raise AssertionError(action)


@pytest.mark.parametrize("actor,action,status", MATRIX, ids=[f"{a}-{b}-{c}" for a, b, c in MATRIX])
def test_record_pages_answer_each_account_according_to_its_place_in_the_hierarchy(
    rworld, target, actor, action, status
):
    world = rworld.world
    client = world.client_for(None if actor == ANONYMOUS else getattr(world, actor))

    response = perform(client, action, target, rworld)

    assert response.status_code == status, form_errors(response)
    target.refresh_from_db()
    done = status == 302 and actor != ANONYMOUS
    if actor == ANONYMOUS:
        assert response["Location"].startswith(reverse("accounts:login"))
    if action == "list" and status == 200:
        listed = "张三" in response.content.decode()
        assert listed == (actor in OWN + ABOVE)
    if action in ("detail", "history") and status == 200:
        assert "张三" in response.content.decode()
    if action == "edit":
        assert (target.remarks == "改过") == done
    if action == "withdraw":
        assert target.is_withdrawn == done
        if done:
            assert target.withdrawn_by == getattr(world, actor)
    if action == "create":
        created = ProbationRecord.objects.filter(person__name="李四")
        if done:
            assert created.get().institution == getattr(world, actor).institution
            assert response["Location"] == created.get().get_absolute_url()
        else:
            assert not created.exists()
    if not done:
        assert target.remarks == "" and not target.is_withdrawn


@pytest.mark.parametrize("actor", [*OWN, *ABOVE])
def test_edit_and_withdraw_links_show_only_to_the_institution_itself(rworld, target, actor):
    world = rworld.world
    response = world.client_for(getattr(world, actor)).get(target.get_absolute_url())

    content = response.content.decode()
    assert response.status_code == 200
    assert (reverse("trainees:edit", args=[target.public_id]) in content) == (actor in OWN)
    assert (reverse("trainees:withdraw", args=[target.public_id]) in content) == (actor in OWN)
    assert reverse("trainees:history", args=[target.public_id]) in content


@pytest.mark.parametrize("actor", [*OUTSIDE_OFFICES, *OTHER_INSTITUTION])
def test_a_search_for_the_id_number_finds_nothing_outside_the_institutions_subtree(rworld, target, actor):
    world = rworld.world
    response = world.client_for(getattr(world, actor)).get(
        reverse("trainees:list"), {"q": target.person.id_number, "withdrawn": "on"}
    )

    assert response.status_code == 200
    assert "张三" not in response.content.decode()
    assert target.person.masked_id_number not in response.content.decode()
