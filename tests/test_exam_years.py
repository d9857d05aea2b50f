"""Exam years belong to the region office: it creates them, moves the current year, and cannot rewrite the past."""

import datetime

import pytest
from django.urls import reverse

from tests.record_helpers import exam_year
from trainees.models import ExamYear


def year_data(year: int, **overrides) -> dict:
    data = {
        "year": year,
        "cutoff": "",
        "entry_opens": f"{year - 1}-12-25",
        "entry_closes": f"{year}-08-31",
        "filing_opens": f"{year}-09-01",
        "filing_closes": f"{year}-09-30",
    }
    data.update(overrides)
    return data


def form_errors(response):
    return response.context["form"].errors if response.context and "form" in response.context else response


def test_the_region_office_creates_an_exam_year_whose_cut_off_defaults_to_31_august(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    next_year = rworld.year.year + 1

    response = client.post(reverse("trainees:exam_year_create"), year_data(next_year))

    assert response.status_code == 302, form_errors(response)
    created = ExamYear.objects.get(region=rworld.world.hubei, year=next_year)
    assert created.cutoff == datetime.date(next_year, 8, 31)
    assert not created.is_current
    assert ExamYear.objects.get(pk=rworld.year.pk).is_current
    assert str(next_year) in client.get(reverse("trainees:exam_years")).content.decode()


def test_an_explicit_cut_off_is_kept(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    next_year = rworld.year.year + 1

    response = client.post(reverse("trainees:exam_year_create"), year_data(next_year, cutoff=f"{next_year}-07-31"))

    assert response.status_code == 302, form_errors(response)
    assert ExamYear.objects.get(year=next_year, region=rworld.world.hubei).cutoff == datetime.date(next_year, 7, 31)


def test_marking_another_year_current_makes_the_previous_one_not_current(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    next_year = exam_year(rworld.world.hubei, rworld.year.year + 1)

    response = client.post(
        reverse("trainees:exam_year_edit", args=[next_year.public_id]),
        year_data(next_year.year, is_current="on"),
    )

    assert response.status_code == 302, form_errors(response)
    assert ExamYear.objects.get(pk=next_year.pk).is_current
    assert not ExamYear.objects.get(pk=rworld.year.pk).is_current
    assert ExamYear.objects.get(pk=rworld.hunan_year.pk).is_current  # another region keeps its own


def test_creating_a_year_as_current_moves_the_flag_too(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    next_year = rworld.year.year + 1

    response = client.post(reverse("trainees:exam_year_create"), year_data(next_year, is_current="on"))

    assert response.status_code == 302, form_errors(response)
    assert list(ExamYear.objects.filter(region=rworld.world.hubei, is_current=True).values_list("year", flat=True)) == [
        next_year
    ]


def test_the_same_year_cannot_be_created_twice(rworld):
    client = rworld.world.client_for(rworld.world.region_user)

    response = client.post(reverse("trainees:exam_year_create"), year_data(rworld.year.year))

    assert response.status_code == 200
    assert response.context["form"].errors
    assert ExamYear.objects.filter(region=rworld.world.hubei, year=rworld.year.year).count() == 1


def test_an_entry_period_closing_before_it_opens_is_refused(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    next_year = rworld.year.year + 1

    response = client.post(
        reverse("trainees:exam_year_create"),
        year_data(next_year, entry_opens=f"{next_year}-09-01", entry_closes=f"{next_year}-01-01"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ExamYear.objects.filter(region=rworld.world.hubei, year=next_year).exists()


@pytest.mark.parametrize("actor", ["wuhan_user", "wuchang_user", "yichang_user", "master", "staff", "hongshan_master"])
def test_prefecture_county_and_institution_accounts_may_not_open_the_exam_year_pages(rworld, actor):
    world = rworld.world
    client = world.client_for(getattr(world, actor))
    edit_url = reverse("trainees:exam_year_edit", args=[rworld.year.public_id])

    assert client.get(reverse("trainees:exam_years")).status_code == 403
    assert client.get(reverse("trainees:exam_year_create")).status_code == 403
    assert client.post(reverse("trainees:exam_year_create"), year_data(rworld.year.year + 1)).status_code == 403
    assert client.get(edit_url).status_code == 403
    assert client.post(edit_url, year_data(rworld.year.year, cutoff="2000-01-01")).status_code == 403
    assert ExamYear.objects.filter(region=world.hubei).count() == 1
    assert ExamYear.objects.get(pk=rworld.year.pk).cutoff == rworld.year.cutoff


def test_another_regions_office_cannot_see_or_change_this_regions_years(rworld):
    client = rworld.world.client_for(rworld.world.hunan_user)

    listing = client.get(reverse("trainees:exam_years"))
    edit = client.get(reverse("trainees:exam_year_edit", args=[rworld.year.public_id]))

    assert listing.status_code == 200
    assert f"{rworld.year.cutoff:%Y-%m-%d}" in listing.content.decode()  # its own year, same dates
    assert reverse("trainees:exam_year_edit", args=[rworld.year.public_id]) not in listing.content.decode()
    assert edit.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(rworld):
    response = rworld.world.client_for(None).get(reverse("trainees:exam_years"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_past_exam_year_cannot_be_edited(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    past = exam_year(rworld.world.hubei, rworld.year.year - 1)
    url = reverse("trainees:exam_year_edit", args=[past.public_id])

    assert client.get(url).status_code == 403
    assert client.post(url, year_data(past.year, cutoff=f"{past.year}-06-30", is_current="on")).status_code == 403

    past.refresh_from_db()
    assert past.cutoff == datetime.date(past.year, 8, 31)
    assert not past.is_current
    assert ExamYear.objects.get(pk=rworld.year.pk).is_current


def test_the_current_year_can_still_be_edited(rworld):
    client = rworld.world.client_for(rworld.world.region_user)
    data = year_data(
        rworld.year.year,
        entry_opens=rworld.year.entry_opens.isoformat(),
        entry_closes=(rworld.year.entry_closes + datetime.timedelta(days=1)).isoformat(),
        filing_opens=rworld.year.filing_opens.isoformat(),
        filing_closes=rworld.year.filing_closes.isoformat(),
        is_current="on",
    )

    response = client.post(reverse("trainees:exam_year_edit", args=[rworld.year.public_id]), data)

    assert response.status_code == 302, form_errors(response)
    rworld.year.refresh_from_db()
    assert rworld.year.entry_closes == datetime.date.today() + datetime.timedelta(days=301)
    assert rworld.year.is_current


def test_saving_an_exam_year_is_audited_with_old_and_new_dates(world):
    from django.urls import reverse

    from accounts.models import AuditEvent
    from trainees.models import ExamYear

    client = world.client_for(world.region_user)
    data = {
        "year": 2031,
        "cutoff": "",
        "entry_opens": "2030-09-01",
        "entry_closes": "2031-08-31",
        "filing_opens": "2031-01-01",
        "filing_closes": "2031-03-31",
    }
    assert client.post(reverse("trainees:exam_year_create"), data).status_code == 302
    year = ExamYear.objects.get(year=2031)
    client.post(reverse("trainees:exam_year_edit", args=[year.public_id]), {**data, "filing_closes": "2031-04-15"})
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.EXAM_YEAR_SAVE, target_id=str(year.public_id))
    assert events.count() == 2
    assert events.order_by("-pk").first().changes == {"filing_closes": ["2031-03-31", "2031-04-15"]}
    assert events.first().actor == world.region_user
