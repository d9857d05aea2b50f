"""The import in the browser at the HTTP level: template, upload, preview, confirm, progress and who may do it."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from tests import import_files as f
from trainees.models import ImportJob, ProbationRecord


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def upload(client, data, name="学员名单.xlsx"):
    return client.post(reverse("trainees:import"), {"file": SimpleUploadedFile(name, data)})


def test_the_excel_template_has_every_column_and_a_sheet_explaining_them(rworld):
    client = rworld.world.client_for(rworld.world.staff)

    response = client.get(reverse("trainees:import_template_xlsx"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    data_sheet, help_sheet = workbook.worksheets
    assert [cell.value for cell in data_sheet[1]] == f.HEADERS
    assert data_sheet.column_dimensions["B"].number_format == "@"  # the ID number column is text
    explained = [row[0] for row in help_sheet.iter_rows(values_only=True)]
    assert set(f.HEADERS) <= set(explained)
    assert {"110", "120", "居民身份证", "护照", "合格", "考核中", "不合格"} <= set(explained)


def test_the_csv_template_is_a_header_line_with_a_bom(rworld):
    client = rworld.world.client_for(rworld.world.staff)

    response = client.get(reverse("trainees:import_template_csv"))

    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.decode("utf-8-sig").strip() == ",".join(f.HEADERS)


def test_an_upload_with_two_bad_rows_shows_each_with_row_column_and_message(rworld, django_capture_on_commit_callbacks):
    client = rworld.world.client_for(rworld.world.staff)
    records = f.rows(rworld, 4)
    records[1]["性别"] = "女"
    records[3]["试用开始日期"] = "2024.07"

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, f.xlsx(records))

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.status == ImportJob.Status.CHECKED and job.original_name == "学员名单.xlsx"
    page = client.get(job.get_absolute_url())
    html = page.content.decode()
    assert "The sex does not agree with the ID number." in html
    assert "“2024.07” gives only a year and a month." in html
    assert [(e["row"], e["column"]) for e in job.report["errors"]] == [(3, "性别"), (5, "试用开始日期")]
    assert 'id="import-confirm"' not in html
    assert 'enctype="multipart/form-data"' in html  # upload the corrected file from here
    assert ProbationRecord.objects.count() == 0


def test_a_clean_upload_previews_then_imports_once_on_confirmation(rworld, django_capture_on_commit_callbacks):
    world = rworld.world
    client = world.client_for(world.staff)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, f.csv_bytes(f.rows(rworld, 3), encoding="gb18030"), "records.csv")
    job = ImportJob.objects.get()
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="import-confirm"' in page and "学员2" in page and "new record" in page
    assert ProbationRecord.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(job.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(job.get_absolute_url())  # a second click

    job.refresh_from_db()
    assert response.status_code == 302
    assert job.status == ImportJob.Status.DONE and job.imported_at is not None
    assert ProbationRecord.objects.filter(institution=world.wuchang_hospital, created_by=world.staff).count() == 3
    assert "Imported: 3 new, 0 changed, 0 unchanged." in client.get(job.get_absolute_url()).content.decode()


def test_a_job_still_running_refreshes_itself_and_shows_progress(rworld):
    world = rworld.world
    job = ImportJob.objects.create(
        institution=world.wuchang_hospital,
        created_by=world.staff,
        file=SimpleUploadedFile("x.csv", b"a"),
        original_name="x.csv",
        status=ImportJob.Status.CHECKING,
        rows_total=4000,
        rows_done=1000,
    )

    response = world.client_for(world.staff).get(job.get_absolute_url())

    assert response["Refresh"] == "2"
    assert "1000 of 4000 rows (25%)" in response.content.decode()
    assert "<script" not in response.content.decode()


def test_the_report_download_lists_every_error(rworld, django_capture_on_commit_callbacks):
    client = rworld.world.client_for(rworld.world.staff)
    records = f.rows(rworld, 3, 性别="女")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, f.xlsx(records))
    job = ImportJob.objects.get()

    content = client.get(reverse("trainees:import_report", args=[job.public_id])).content.decode("utf-8-sig")

    assert content.splitlines() == [
        "Row,Column,Message",
        "2,性别,The sex does not agree with the ID number.",
        "3,性别,The sex does not agree with the ID number.",
        "4,性别,The sex does not agree with the ID number.",
    ]


def test_a_file_that_is_not_a_spreadsheet_is_refused_at_upload(rworld):
    client = rworld.world.client_for(rworld.world.staff)

    response = upload(client, b"%PDF-1.7\n\x00\x01binary", "名单.xlsx")

    assert response.status_code == 200
    assert "This file is not a spreadsheet." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_limit_is_refused_at_upload(rworld, settings):
    settings.IMPORT_MAX_BYTES = 100
    client = rworld.world.client_for(rworld.world.staff)

    response = upload(client, f.csv_bytes(f.rows(rworld, 3)), "名单.csv")

    assert "The file is larger than" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("account", ["wuchang_user", "wuhan_user", "region_user"])
def test_offices_do_not_import(rworld, account):
    client = rworld.world.client_for(getattr(rworld.world, account))

    assert client.get(reverse("trainees:import")).status_code == 403
    assert upload(client, f.xlsx(f.rows(rworld, 1))).status_code == 403


def test_an_institution_cannot_see_or_confirm_another_institutions_import(rworld, django_capture_on_commit_callbacks):
    world = rworld.world
    with django_capture_on_commit_callbacks(execute=True):
        upload(world.client_for(world.staff), f.xlsx(f.rows(rworld, 1)))
    job = ImportJob.objects.get()
    other = world.client_for(world.hongshan_master)

    assert other.get(job.get_absolute_url()).status_code == 404
    assert other.post(job.get_absolute_url()).status_code == 404
    assert other.get(reverse("trainees:import_report", args=[job.public_id])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED


def test_an_upload_always_goes_into_the_uploaders_own_institution(rworld, django_capture_on_commit_callbacks):
    world = rworld.world
    client = world.client_for(world.hongshan_master)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, f.xlsx(f.rows(rworld, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ImportJob.objects.get().get_absolute_url())

    assert list(ProbationRecord.objects.values_list("institution", flat=True)) == [world.hongshan_centre.pk]


def test_an_institution_with_an_incomplete_profile_completes_it_first(world):
    client = world.client_for(world.master)

    response = client.get(reverse("trainees:import"))

    assert response.status_code == 200
    assert response.templates[0].name == "trainees/profile_incomplete.html"
    assert client.post(reverse("trainees:import"), {}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(world):
    client = world.client_for(None)

    for name in ("trainees:import", "trainees:import_template_xlsx", "trainees:export_xlsx"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_progress_is_visible_while_the_imports_transaction_is_still_open(transactional_db):
    from django.db import transaction

    from tests.world import World
    from trainees.imports import JobProgress

    world = World.build()
    job = ImportJob.objects.create(
        institution=world.wuchang_hospital,
        created_by=world.staff,
        file=SimpleUploadedFile("x.csv", b"a"),
        original_name="x.csv",
        status=ImportJob.Status.IMPORTING,
    )
    progress = JobProgress(job)
    try:
        with transaction.atomic():
            ProbationRecord.objects.exists()  # the import's own transaction, open
            progress(500, 2000)
            seen = ImportJob.objects.values_list("rows_done", "rows_total").get(pk=job.pk)
    finally:
        progress.close()

    assert seen == (500, 2000)
