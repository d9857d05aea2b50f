"""Uploads that lie: files whose name or declared type says one thing and whose content is another, files over the
size limits, and archives that unpack to far more than they weigh. Refused with a message, never a server error,
nothing stored. (The stamped-scan sniffing itself is tested in tests/test_roster_uploads.py.)"""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from reports.models import Roster
from tests import import_files as f
from trainees.models import ImportJob, ProbationRecord


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def import_upload(client, data, name, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"):
    return client.post(reverse("trainees:import"), {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def zip_bomb_workbook(rworld, unpacked_bytes: int) -> bytes:
    """A real workbook with one more member: zeros that compress a thousand times over."""
    buffer = io.BytesIO(f.xlsx(f.rows(rworld, 1)))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("xl/media/image1.bin", b"\0" * unpacked_bytes)
    return buffer.getvalue()


def test_a_workbook_that_unpacks_to_far_more_than_it_weighs_is_refused(
    rworld, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_MAX_BYTES = 64 * 1024  # refused beyond 50 x this once unpacked
    client = rworld.world.client_for(rworld.world.staff)
    bomb = zip_bomb_workbook(rworld, 4 * 1024 * 1024)
    assert len(bomb) < settings.IMPORT_MAX_BYTES
    with django_capture_on_commit_callbacks(execute=True):
        response = import_upload(client, bomb, "名单.xlsx")
    assert response.status_code < 500
    job = ImportJob.objects.get()
    assert job.status != ImportJob.Status.DONE
    assert "too large once unpacked" in " ".join(job.report.get("file_errors", []))
    assert not ProbationRecord.objects.exists()


@pytest.mark.parametrize(
    "content,name,content_type",
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "名单.xlsx", "application/vnd.ms-excel"),
        (b"<html><script>alert(1)</script></html>", "名单.csv", "text/csv"),
        (b"%PDF-1.7\n%%EOF", "名单.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
    ids=["exe-named-xlsx", "html-named-csv", "pdf-named-xlsx"],
)
def test_a_file_whose_content_is_not_a_spreadsheet_is_refused_whatever_its_name_and_declared_type(
    rworld, content, name, content_type, django_capture_on_commit_callbacks
):
    client = rworld.world.client_for(rworld.world.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = import_upload(client, content, name, content_type)
    assert response.status_code < 500
    assert "<script>alert(1)</script>" not in response.content.decode()
    jobs = ImportJob.objects.all()
    assert all(job.status != ImportJob.Status.DONE for job in jobs)
    assert not ProbationRecord.objects.exists()


def test_a_scan_that_claims_to_be_a_pdf_but_is_html_is_refused_and_not_stored(rworld):
    world = rworld.world
    roster = Roster.objects.create(
        institution=world.wuchang_hospital,
        exam_year=rworld.year,
        version=1,
        status=Roster.Status.SUBMITTED,
        institution_name=world.wuchang_hospital.name,
        office_name=world.wuchang.name,
        finalised_by=world.staff,
    )
    client = world.client_for(world.staff)
    upload = SimpleUploadedFile("scan.pdf", b"<html><script>alert(1)</script>%%EOF", content_type="application/pdf")
    response = client.post(reverse("reports:roster_scan", args=[roster.public_id]), {"scan": upload})
    assert response.status_code == 302
    roster.refresh_from_db()
    assert not roster.scan


def test_a_request_body_over_the_upload_limit_is_refused_without_a_server_error(rworld, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = rworld.world.client_for(rworld.world.wuchang_user)
    client.raise_request_exception = False
    response = client.post(reverse("reports:lookup"), {"id_number": "1" * 20_000})
    assert response.status_code == 400
