"""In a real browser: the region office logs in (password, then its authenticator code), opens its dashboard and
drills down from the region to the prefecture, the county and an institution that has not filed its roster.

Nothing depends on translated text: links are found by their href and rows by the node they stand for.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.models import Roster
from tests.auth_helpers import authenticator_for, code_for
from tests.record_helpers import ensure_categories, make_person, make_record
from tests.world import PASSWORD, RecordsWorld, World

pytestmark = pytest.mark.browser


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def click(page, href):
    with page.expect_navigation():
        page.locator(f"main a[href='{href}']").first.click()
    assert path_of(page) == href


def test_region_office_drills_down_from_the_dashboard_to_an_institution_that_has_not_filed(
    live_server, transactional_db, page
):
    ensure_categories()
    world = World.build()
    rworld = RecordsWorld.build(world)
    for serial, institution in enumerate([world.wuchang_hospital, world.yichang_hospital], start=1):
        person = make_person(serial)
        make_record(person, institution, rworld.year, rworld.clinical, "2025-07-01", "2026-06-30")
    Roster.objects.create(
        institution=world.yichang_hospital,
        exam_year=rworld.year,
        version=1,
        status=Roster.Status.SUBMITTED,
        submitted_at=timezone.now(),
        institution_name=world.yichang_hospital.name,
        office_name=world.yichang.name,
        finalised_by=world.yichang_master,
    )
    device = authenticator_for(world.region_user)

    page.goto(live_server.url + reverse("accounts:login"))
    page.locator("main input[name=username]").fill("hubei")
    page.locator("main input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    assert path_of(page).startswith(reverse("accounts:two_factor_verify"))
    page.locator("main input[name=token]").fill(code_for(device))
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    assert not path_of(page).startswith(reverse("accounts:two_factor_verify"))

    # The dashboard from the navigation bar: the region's totals, one row per prefecture.
    with page.expect_navigation():
        page.locator(f"header a[href='{reverse('reports:dashboard')}']").click()
    assert page.locator("#totals").is_visible()
    assert page.locator("main svg.chart").count() == 2
    wuhan_row = page.locator(f"#dashboard-rows tr[data-node='{world.wuhan.public_id}']")
    assert wuhan_row.locator("td").nth(3).inner_text().strip() == "1"  # one record under 武汉市
    not_submitted = page.locator("#not-submitted-link").inner_text()
    assert re.search(r"\d+", not_submitted).group() == "3"  # of the region's 4 institutions

    # Region -> prefecture -> county -> the institution that has not filed.
    click(page, reverse("reports:dashboard_office", args=[world.wuhan.public_id]))
    click(page, reverse("reports:dashboard_office", args=[world.wuchang.public_id]))
    hospital_row = page.locator(f"#dashboard-rows tr[data-node='{world.wuchang_hospital.public_id}']")
    assert hospital_row.locator("td").nth(5).inner_text().strip() == "1"  # roster not started
    click(page, reverse("reports:not_submitted", args=[world.wuchang.public_id]))
    assert world.wuchang_hospital.contact_phone in page.locator("#not-submitted").inner_text()
    click(page, world.wuchang_hospital.get_absolute_url())
    assert page.locator("main h1").inner_text().strip() == world.wuchang_hospital.name
