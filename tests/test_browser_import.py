"""The spreadsheet import through a real browser: a file with two bad rows, the preview naming them, the corrected
file uploaded again, confirmed, and the records in the list.

As in the other browser tests, nothing depends on the visible text of buttons and labels (the interface is zh-hans
and its catalogue is still being written): elements are found by name, id and href.
"""

import pytest
from django.urls import reverse

from tests import import_files as f
from tests.record_helpers import ensure_categories
from tests.test_browser_records import in_own_thread, log_in, path_of
from tests.world import RecordsWorld, World
from trainees.models import ImportJob, ProbationRecord

pytestmark = pytest.mark.browser


def upload_from(page, path):
    form = page.locator("main form.import-upload")
    form.locator("input[name=file]").set_input_files(str(path))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def table_rows(page, table_id) -> list[list[str]]:
    rows = page.locator(f"#{table_id} tbody tr")
    return [[cell.strip() for cell in rows.nth(index).locator("td").all_inner_texts()] for index in range(rows.count())]


def test_staff_uploads_a_file_with_two_bad_rows_fixes_it_and_imports_it(live_server, transactional_db, tmp_path):
    ensure_categories()
    rworld = RecordsWorld.build(World.build())
    base = live_server.url
    records = f.rows(rworld, 3)
    records[0]["性别"] = "女"  # row 2: disagrees with the ID number
    records[2]["证件号码"] = float(f.resident_id(3))  # row 4: Excel turned the ID into a number
    bad_file = tmp_path / "学员名单.xlsx"
    bad_file.write_bytes(f.xlsx(records))
    fixed_file = tmp_path / "学员名单-改.xlsx"
    fixed_file.write_bytes(f.xlsx(f.rows(rworld, 3)))

    def steps(page):
        log_in(page, base, rworld.world.staff.username)
        page.goto(base + reverse("trainees:list"))
        with page.expect_navigation():
            page.locator(f"main a[href='{reverse('trainees:import')}']").click()
        upload_from(page, bad_file)

        first = ImportJob.objects.get()
        assert path_of(page) == first.get_absolute_url()
        errors = table_rows(page, "import-errors")
        assert [(row[0], row[1]) for row in errors] == [("2", "性别"), ("4", "证件号码")]
        assert all(row[2] for row in errors), "every bad row says what is wrong"
        assert "4.20106E+17" in errors[1][2]
        assert page.locator("#import-confirm").count() == 0
        assert not ProbationRecord.objects.exists()

        upload_from(page, fixed_file)  # from the preview page itself

        second = ImportJob.objects.exclude(pk=first.pk).get()
        assert path_of(page) == second.get_absolute_url()
        assert page.locator("#import-errors").count() == 0
        assert [row[1] for row in table_rows(page, "import-rows")] == ["学员1", "学员2", "学员3"]
        with page.expect_navigation():
            page.locator("#import-confirm button[type=submit]").click()

        assert page.locator("#import-done").count() == 1
        with page.expect_navigation():
            page.locator(f"main a[href='{reverse('trainees:list')}']").last.click()
        assert path_of(page) == reverse("trainees:list")
        for name in ("学员1", "学员2", "学员3"):
            assert page.locator("main table.list tbody a", has_text=name).count() == 1
        assert ProbationRecord.objects.filter(created_by=rworld.world.staff).count() == 3

    in_own_thread(steps)
