"""Export and import in the admin site (issue #5, item 6), with the platform's rules, and the housekeeping of
uploaded import files: auditors and superusers export exactly what the record list shows (auditors only their
region), audited like every export; superusers alone import, through the platform's checked, all-or-nothing import;
office and institution accounts never reach any of it."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import AuditEvent
from tests import import_files as f
from tests.record_helpers import make_record
from tests.test_admin_audit import refused
from tests.world import logged_in
from trainees.models import ImportJob, ProbationRecord, mask_id_number

CHANGELIST = "admin:trainees_probationrecord_changelist"
IMPORT = "admin:trainees_probationrecord_import"


def export_url(fmt="xlsx"):
    return reverse("admin:trainees_probationrecord_export", args=[fmt])


def job_url(job):
    return reverse("admin:trainees_probationrecord_import_job", args=[job.public_id])


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def sheet_rows(response) -> list[dict]:
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def ids_at(*institutions) -> set:
    return set(ProbationRecord.objects.filter(institution__in=institutions).values_list("person__id_number", flat=True))


# --- export -------------------------------------------------------------------------------------------------------


def test_the_record_list_offers_the_export_of_what_it_shows_and_the_import_only_to_superusers(
    spread, auditor, superuser
):
    office = str(spread.world.wuhan.public_id)
    auditors_page = logged_in(auditor).get(reverse(CHANGELIST), {"office": office}).content.decode()
    superusers_page = logged_in(superuser).get(reverse(CHANGELIST)).content.decode()

    assert f"{export_url('xlsx')}?office={office}" in auditors_page
    assert f"{export_url('csv')}?office={office}" in auditors_page
    assert 'id="admin-import"' not in auditors_page
    assert 'id="admin-import"' in superusers_page


def test_auditor_export_contains_exactly_the_filtered_list_of_his_region_with_whole_id_numbers(spread, auditor):
    world = spread.world
    client = logged_in(auditor)

    everything = sheet_rows(client.get(export_url()))
    wuhan = sheet_rows(client.get(export_url("csv"), {"office": str(world.wuhan.public_id)}))
    searched = sheet_rows(client.get(export_url(), {"q": "学员2"}))
    hunan_searched = sheet_rows(client.get(export_url(), {"q": "学员9"}))  # 学员9 is at the 湖南 hospital

    hubei = (world.wuchang_hospital, world.hongshan_centre, world.yichang_hospital, world.provincial_hospital)
    assert {row["证件号码"] for row in everything} == ids_at(*hubei)
    assert {row["证件号码"] for row in wuhan} == ids_at(world.wuchang_hospital, world.hongshan_centre)
    assert [row["姓名"] for row in searched] == ["学员2"]
    assert hunan_searched == []
    assert "湖南省人民医院" not in {row["试用机构"] for row in everything}


def test_superuser_export_covers_every_region_with_masked_id_numbers(spread, superuser):
    rows = sheet_rows(logged_in(superuser).get(export_url()))

    every_id = set(ProbationRecord.objects.values_list("person__id_number", flat=True))
    assert len(rows) == 9
    assert {row["证件号码"] for row in rows} == {mask_id_number(number) for number in every_id}
    assert not {row["证件号码"] for row in rows} & every_id


def test_every_admin_export_is_audited_with_the_list_filter_format_and_row_count(spread, auditor, superuser):
    office = str(spread.world.wuhan.public_id)

    logged_in(auditor).get(export_url("csv"), {"office": office, "result__exact": "passed"})
    logged_in(superuser).get(export_url("xlsx"))

    by_auditor, by_superuser = AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).order_by("pk")
    assert by_auditor.actor == auditor and by_auditor.region_id == spread.world.hubei.pk
    assert by_auditor.changes == {
        "filter": {"office": office, "result__exact": "passed"},
        "rows": 5,
        "format": "csv",
        "site": "admin",
        "whole_id_numbers": 5,
    }
    assert by_superuser.actor == superuser
    assert by_superuser.changes["rows"] == 9 and by_superuser.changes["whole_id_numbers"] == 0


def test_a_bad_list_filter_or_format_is_refused_without_an_export(spread, auditor):
    client = logged_in(auditor)

    bad_filter = client.get(export_url(), {"exam_year": "x", "created_at__year": "not-a-year"})
    bad_format = client.get(export_url("pdf"))

    assert bad_filter.status_code == 400
    assert bad_format.status_code == 404
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).exists()


def test_the_export_costs_the_same_queries_for_few_and_many_records(
    spread, auditor, django_assert_max_num_queries, django_assert_num_queries
):
    client = logged_in(auditor)
    client.get(export_url())  # the session and the grants are warm from here on
    with django_assert_max_num_queries(15) as few:
        client.get(export_url())
    world = spread.world
    for serial in range(20, 60):
        make_record(
            f.make_person(serial), world.yichang_hospital, spread.year, spread.clinical, "2024-07-01", "2025-06-30"
        )
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(export_url())
    assert len(sheet_rows(response)) == 48


# --- who reaches what ----------------------------------------------------------------------------------------


def test_office_and_institution_accounts_get_no_admin_export_or_import(spread):
    world = spread.world
    job = ImportJob.objects.create(
        institution=world.wuchang_hospital, created_by=world.master, file=ContentFile(b"x", "a.csv"), original_name="a"
    )
    for user in (world.region_user, world.wuhan_user, world.master, world.staff):
        client = logged_in(user)
        for url in (export_url(), reverse(IMPORT), job_url(job)):
            assert refused(client, url), (user.username, url)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).exists()


def test_auditor_cannot_reach_the_import(rworld, auditor, superuser, django_capture_on_commit_callbacks):
    client = logged_in(auditor)
    data = f.xlsx(f.rows(rworld, 2))
    with django_capture_on_commit_callbacks(execute=True):
        upload(logged_in(superuser), rworld.world.wuchang_hospital.uscc, data)
    job = ImportJob.objects.get()

    assert client.get(reverse(IMPORT)).status_code == 403
    assert upload(client, rworld.world.wuchang_hospital.uscc, data).status_code == 403
    assert client.get(job_url(job)).status_code == 403
    assert client.post(job_url(job)).status_code == 403
    assert ImportJob.objects.count() == 1 and ProbationRecord.objects.count() == 0


# --- import -------------------------------------------------------------------------------------------------------


def upload(client, institution, data, name="名单.xlsx"):
    return client.post(reverse(IMPORT), {"institution": institution, "file": SimpleUploadedFile(name, data)})


def test_superuser_sees_each_bad_row_with_row_column_and_message_and_cannot_confirm(
    rworld, superuser, django_capture_on_commit_callbacks
):
    client = logged_in(superuser)
    records = f.rows(rworld, 3)
    records[1]["性别"] = "女"

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, rworld.world.wuchang_hospital.uscc, f.xlsx(records))

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert job.status == ImportJob.Status.CHECKED and job.created_by == superuser
    page = client.get(job_url(job)).content.decode()
    assert "The sex does not agree with the ID number." in page and ">性别<" in page
    assert 'id="import-confirm"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(job_url(job))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED
    assert ProbationRecord.objects.count() == 0
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.IMPORT).exists()


def test_superuser_imports_a_clean_file_for_an_institution_found_by_public_id(
    rworld, superuser, django_capture_on_commit_callbacks
):
    world = rworld.world
    client = logged_in(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, f" {world.yichang_hospital.public_id} ", f.csv_bytes(f.rows(rworld, 3)), "records.csv")
    job = ImportJob.objects.get()
    preview = client.get(job_url(job)).content.decode()
    assert 'id="import-confirm"' in preview and "学员2" in preview and "new record" in preview
    assert ProbationRecord.objects.count() == 0  # the dry run saves nothing

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(job_url(job)).status_code == 302
        client.post(job_url(job))  # a second click starts nothing

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    records = ProbationRecord.objects.select_related("person", "created_by", "institution")
    assert {record.person.name for record in records} == {"学员1", "学员2", "学员3"}
    assert {(record.institution, record.created_by) for record in records} == {(world.yichang_hospital, superuser)}
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.IMPORT)
    assert event.actor == superuser and event.target_id == str(world.yichang_hospital.public_id)
    assert event.changes["new"] == 3 and event.changes["job"] == str(job.public_id)
    assert "Imported: 3 new" in client.get(job_url(job)).content.decode()
    listing = client.get(reverse(IMPORT)).content.decode()
    assert job_url(job) in listing and "宜昌市第一人民医院" in listing


def test_the_institution_neither_sees_nor_confirms_a_job_started_in_the_admin(
    rworld, superuser, django_capture_on_commit_callbacks
):
    world = rworld.world
    with django_capture_on_commit_callbacks(execute=True):
        upload(logged_in(superuser), str(world.wuchang_hospital.public_id), f.csv_bytes(f.rows(rworld, 2)), "r.csv")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.CHECKED
    master = world.client_for(world.master)
    assert str(job.public_id) not in master.get(reverse("trainees:import")).content.decode()
    assert master.get(job.get_absolute_url()).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert master.post(job.get_absolute_url()).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED and ProbationRecord.objects.count() == 0


def test_nothing_is_imported_when_one_row_fails_at_confirmation(rworld, superuser, django_capture_on_commit_callbacks):
    world = rworld.world
    client = logged_in(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, world.wuchang_hospital.uscc, f.xlsx(f.rows(rworld, 4)))
    job = ImportJob.objects.get()
    assert job.can_confirm
    # Between the check and the confirmation, row 3's person starts a probation elsewhere for the same period.
    person = f.make_person(2)
    make_record(person, world.hongshan_centre, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(job_url(job))

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert [error["row"] for error in job.report["errors"]] == [3]
    assert not ProbationRecord.objects.filter(institution=world.wuchang_hospital).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.IMPORT).exists()


def test_the_institution_must_exist_and_have_a_complete_profile(world, superuser):
    client = logged_in(superuser)

    unknown = upload(client, "91420100MA4KXXXXXX", f.csv_bytes([]))
    incomplete = upload(client, str(world.wuchang_hospital.public_id), f.csv_bytes([]))  # no profile in `world`

    assert unknown.status_code == 200 and incomplete.status_code == 200
    assert "No trial institution has this unified social credit code or public id." in unknown.content.decode()
    assert "has not completed its profile" in incomplete.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_that_is_not_a_spreadsheet_is_refused_at_upload(rworld, superuser):
    response = upload(logged_in(superuser), rworld.world.wuchang_hospital.uscc, b"%PDF-1.4 x", "scan.pdf")

    assert response.status_code == 200
    assert "This file is not a spreadsheet." in response.content.decode()
    assert not ImportJob.objects.exists()


# --- housekeeping of uploaded files -------------------------------------------------------------------------------


def make_job(world, status, *, age=datetime.timedelta(0), report=None):
    job = ImportJob.objects.create(
        institution=world.wuchang_hospital,
        created_by=world.master,
        file=ContentFile(b"id numbers", "upload.csv"),
        original_name="名单.csv",
        status=status,
        report=report or {"total_rows": 2, "errors": [], "file_errors": [], "rows": [{"row": 2}]},
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - age, updated_at=timezone.now() - age)
    job.refresh_from_db()
    return job


def test_purge_deletes_old_files_and_keeps_the_jobs_and_their_reports(world, settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    S = ImportJob.Status
    old_done = make_job(world, S.DONE, age=datetime.timedelta(days=31))
    old_failed = make_job(world, S.FAILED, age=datetime.timedelta(days=31))
    old_checked = make_job(world, S.CHECKED, age=datetime.timedelta(days=31))
    recent_done = make_job(world, S.DONE, age=datetime.timedelta(days=29))
    old_pending = make_job(world, S.PENDING, age=datetime.timedelta(days=31))
    names = {job.pk: job.file.name for job in (old_done, old_failed, old_checked, recent_done, old_pending)}
    out = io.StringIO()

    with translation.override("en"):
        call_command("purge_import_files", stdout=out)
        call_command("purge_import_files", stdout=io.StringIO())  # again: nothing more to do

    for job in (old_done, old_failed, old_checked):
        job.refresh_from_db()
        assert job.file.name == "" and not default_storage.exists(names[job.pk])
        assert job.report["rows"] == [{"row": 2}]
    assert old_done.status == S.DONE and old_failed.status == S.FAILED
    assert old_checked.status == S.FAILED and not old_checked.can_confirm  # its file is gone: upload again
    assert "was deleted after 30 days" in old_checked.report["file_errors"][0]
    for job in (recent_done, old_pending):
        job.refresh_from_db()
        assert job.file.name == names[job.pk] and default_storage.exists(names[job.pk])
    assert "3 uploaded files deleted" in out.getvalue()


def test_jobs_left_running_by_a_dead_worker_fail_with_a_message_and_running_ones_are_left(world, settings):
    settings.IMPORT_STUCK_MINUTES = 120
    S = ImportJob.Status
    stuck_check = make_job(world, S.CHECKING, age=datetime.timedelta(minutes=121))
    stuck_import = make_job(world, S.IMPORTING, age=datetime.timedelta(hours=5))
    running = make_job(world, S.IMPORTING, age=datetime.timedelta(minutes=30))
    finished = make_job(world, S.DONE, age=datetime.timedelta(hours=5))
    out = io.StringIO()

    with translation.override("en"):
        call_command("purge_import_files", stdout=out)

    for job in (stuck_check, stuck_import):
        job.refresh_from_db()
        assert job.status == S.FAILED
        assert "Nothing was imported. Upload the file again." in job.report["file_errors"][0]
        assert job.file.name  # kept until the retention period ends, like any other
    running.refresh_from_db()
    finished.refresh_from_db()
    assert running.status == S.IMPORTING and finished.status == S.DONE
    assert "2 stuck import jobs" in out.getvalue()


def test_confirming_an_import_restarts_the_stuck_clock(rworld, django_capture_on_commit_callbacks):
    """An import confirmed days after its upload is not taken for a stuck one."""
    world = rworld.world
    job = make_job(world, ImportJob.Status.CHECKED, age=datetime.timedelta(days=3))
    job.report = {"total_rows": 1, "errors": [], "file_errors": [], "rows": []}
    job.save(update_fields=["report"])
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - datetime.timedelta(days=3))

    with django_capture_on_commit_callbacks(execute=False):  # the import itself does not run
        world.client_for(world.master).post(job.get_absolute_url())
    call_command("purge_import_files", stdout=io.StringIO())

    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTING


def test_the_messages_are_in_chinese_for_chinese_users(world, superuser, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        client = logged_in(superuser)
        unknown = client.post(
            reverse(IMPORT),
            {"institution": "no-such-code", "file": SimpleUploadedFile("a.csv", f.csv_bytes([]))},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        ).content.decode()
        bad_filter = client.get(export_url(), {"created_at__year": "x"}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "没有试用机构使用该统一社会信用代码或公开编号。" in unknown
    assert bad_filter.status_code == 400 and "筛选条件无效" in bad_filter.content.decode()
