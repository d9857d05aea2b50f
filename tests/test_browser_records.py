"""A record entered through a real browser: a wrong ID number is caught next to its field, the rest of the input
survives, the corrected record is saved and the prefecture office finds it.

As in test_browser_foundation, nothing depends on visible text: inputs are found by name, and forms are
submitted with the submit button of the form inside ``main``.
"""

import datetime
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.urls import reverse

from tests.record_helpers import ensure_categories
from tests.world import PASSWORD, RecordsWorld, World, make_resident_id
from trainees.models import ProbationRecord

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NAME = "王小明"
BIRTH = datetime.date(1998, 3, 1)


def in_own_thread(steps):
    """Run ``steps(page)`` with a fresh Chromium in a thread of its own.

    Playwright's sync API refuses to start while another sync Playwright (test_browser_foundation's
    session-wide browser) runs its event loop in the main thread; a separate thread has its own loop.
    """
    from playwright import sync_api

    def run():
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(locale="zh-CN")
                context.set_default_timeout(15_000)
                steps(context.new_page())
            finally:
                browser.close()
                # Closed here, while Playwright's event loop runs in this thread: Django (asgiref's Local) then keeps
                # this thread's connections in the loop's context, and after the block close_all() would not see
                # them; left to the garbage collector, one sometimes outlived the test database's teardown ("being
                # accessed by other users").
                connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(run).result()


def test_the_browser_thread_closes_the_database_connection_its_steps_used(transactional_db):
    used = []

    def steps(page):
        assert not ProbationRecord.objects.exists()
        used.append(connections["default"])

    in_own_thread(steps)
    assert used and used[0].connection is None


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def submit_main_form(page):
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def log_in(page, base_url, username):
    page.context.clear_cookies()
    page.goto(base_url + reverse("accounts:login"))
    page.locator("main input[name=username]").fill(username)
    page.locator("main input[name=password]").fill(PASSWORD)
    submit_main_form(page)
    assert path_of(page) != reverse("accounts:login"), f"login of {username} failed"


def wrong_check_character(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def test_staff_corrects_a_wrong_id_number_keeping_the_rest_and_the_prefecture_office_finds_the_record(
    live_server, transactional_db
):
    ensure_categories()
    rworld = RecordsWorld.build(World.build())
    base = live_server.url
    right_id = make_resident_id(BIRTH, 3)
    data = rworld.record_data(name=NAME, id_number=wrong_check_character(right_id))

    def steps(page):
        log_in(page, base, rworld.world.staff.username)
        page.goto(base + reverse("trainees:create"))
        form = page.locator("main form.record-form")
        for name in (
            "id_number",
            "name",
            "school",
            "major",
            "departments",
            "supervisor_name",
            "supervisor_licence",
            "assessor",
        ):
            form.locator(f"input[name={name}]").fill(data[name])
        form.locator("textarea[name=content]").fill(data["content"])
        for name in ("birth_date", "graduation_date", "start_date", "end_date", "assessed_on"):
            form.locator(f"input[name={name}]").fill(data[name])
        for name in ("id_type", "sex", "education", "exam_year", "category", "result"):
            form.locator(f"select[name={name}]").select_option(str(data[name]))
        submit_main_form(page)

        assert path_of(page) == reverse("trainees:create")
        error_field = page.locator("main .field.has-error").filter(has=page.locator("input[name=id_number]"))
        assert error_field.count() == 1
        assert error_field.locator(".error").inner_text().strip()
        assert page.locator("main .field.has-error").count() == 1, "only the ID number is wrong"
        assert form.locator("input[name=name]").input_value() == NAME
        assert form.locator("input[name=school]").input_value() == data["school"]
        assert form.locator("input[name=start_date]").input_value() == data["start_date"]
        assert form.locator("textarea[name=content]").input_value() == data["content"]
        assert form.locator("select[name=result]").input_value() == "passed"
        assert form.locator("select[name=category]").input_value() == str(rworld.clinical.pk)
        assert not ProbationRecord.objects.exists()

        form.locator("input[name=id_number]").fill(right_id)
        submit_main_form(page)

        record = ProbationRecord.objects.get()
        assert path_of(page) == record.get_absolute_url()
        assert page.locator("#full-id-number").inner_text().strip() == right_id
        assert record.person.name == NAME
        assert record.institution == rworld.world.wuchang_hospital
        assert record.created_by == rworld.world.staff

        log_in(page, base, rworld.world.wuhan_user.username)
        page.goto(base + reverse("trainees:list"))
        link = page.locator("main table.list tbody a", has_text=NAME)
        assert link.count() == 1
        with page.expect_navigation():
            link.click()
        assert path_of(page) == record.get_absolute_url()
        assert page.locator(f"main a[href='{reverse('trainees:edit', args=[record.public_id])}']").count() == 0

    in_own_thread(steps)
