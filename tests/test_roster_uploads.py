"""Uploading the scan of the stamped paper roster: PDF, JPEG or PNG, told apart by content (never by name or the
browser's claim), within settings.SCAN_MAX_BYTES, no decompression bombs, only by the institution itself and only
once the roster is submitted."""

import hashlib
import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import AuditEvent
from reports import actions
from reports.forms import ScanForm
from reports.models import Roster
from tests.record_helpers import make_person, make_record
from trainees.models import ExamYear


def image_bytes(fmt: str, size=(120, 80), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white").save(buffer, fmt)
    return buffer.getvalue()


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A tiny valid PNG whose header claims ``width`` x ``height`` pixels (the CRC is fixed up to match)."""
    data = bytearray(image_bytes("PNG", (1, 1), "1"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


PDF = image_bytes("PDF")
JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n%%EOF\n"


def roster_in(rworld, status=Roster.Status.SUBMITTED) -> Roster:
    world = rworld.world
    make_record(make_person(1), world.wuchang_hospital, rworld.year, rworld.clinical, "2024-07-01", "2025-06-30")
    roster = actions.finalise(world.wuchang_hospital, ExamYear.objects.get(pk=rworld.year.pk), acting_user=world.staff)
    if status == Roster.Status.FINALISED:
        return roster
    Roster.objects.filter(pk=roster.pk).update(pdf_state=Roster.PdfState.READY)
    roster = actions.submit(roster, acting_user=world.staff)
    if status == Roster.Status.ACCEPTED:
        roster = actions.accept(roster, acting_user=world.wuchang_user)
    elif status == Roster.Status.RETURNED:
        roster = actions.return_roster(roster, reason="有误", acting_user=world.wuchang_user)
    return roster


@pytest.fixture
def submitted(rworld) -> Roster:
    return roster_in(rworld)


def upload(rworld, roster, name, content, claimed="application/pdf", user=None):
    client = rworld.world.client_for(user or rworld.world.staff)
    return client.post(
        reverse("reports:roster_scan", args=[roster.public_id]),
        {"scan": SimpleUploadedFile(name, content, content_type=claimed)},
        follow=True,
    )


def levels(response) -> list[str]:
    return [message.level_tag for message in response.context["messages"]]


def assert_refused(response, roster):
    assert response.status_code == 200
    assert response.redirect_chain == [(roster.get_absolute_url(), 302)]
    assert levels(response) == ["error"]
    roster.refresh_from_db()
    assert not roster.scan and not roster.scan_sha256 and roster.scan_uploaded_at is None
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ROSTER_SCAN).exists()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("scan.pdf", PDF, "application/pdf"), ("scan.jpg", JPEG, "image/jpeg"), ("scan.png", PNG, "image/png")],
)
def test_a_real_pdf_jpeg_or_png_is_stored_with_its_type_and_hash(rworld, submitted, name, content, content_type):
    response = upload(rworld, submitted, name, content, claimed=content_type)
    assert levels(response) == ["success"]
    assert 'enctype="multipart/form-data"' in response.content.decode()  # a submitted roster offers the upload
    submitted.refresh_from_db()
    assert submitted.scan_content_type == content_type
    assert submitted.scan_sha256 == hashlib.sha256(content).hexdigest()
    assert submitted.scan_uploaded_at is not None
    with submitted.scan.open("rb") as stored:
        assert stored.read() == content
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROSTER_SCAN)
    assert event.changes["sha256"] == submitted.scan_sha256 and event.actor == rworld.world.staff

    office = rworld.world.client_for(rworld.world.wuchang_user)
    download = office.get(reverse("reports:roster_scan", args=[submitted.public_id]))
    assert download.status_code == 200 and download["Content-Type"] == content_type
    assert b"".join(download.streaming_content) == content


def test_a_file_named_pdf_that_contains_html_is_refused(rworld, submitted):
    assert_refused(upload(rworld, submitted, "scan.pdf", HTML, claimed="application/pdf"), submitted)


def test_a_png_renamed_pdf_is_accepted_as_png_because_the_content_wins(rworld, submitted):
    response = upload(rworld, submitted, "scan.pdf", PNG, claimed="application/pdf")
    assert levels(response) == ["success"]
    submitted.refresh_from_db()
    assert submitted.scan_content_type == "image/png"
    download = rworld.world.client_for(rworld.world.staff).get(
        reverse("reports:roster_scan", args=[submitted.public_id])
    )
    assert download["Content-Type"] == "image/png"


def test_a_file_over_the_size_limit_is_refused(rworld, submitted, settings):
    settings.SCAN_MAX_BYTES = len(PNG) - 1
    assert_refused(upload(rworld, submitted, "scan.png", PNG, claimed="image/png"), submitted)
    settings.SCAN_MAX_BYTES = len(PNG)
    assert levels(upload(rworld, submitted, "scan.png", PNG, claimed="image/png")) == ["success"]


def test_a_decompression_bomb_is_refused_without_a_server_error(rworld, submitted):
    bomb = bomb_png()
    assert len(bomb) < 200
    with Image.open(io.BytesIO(bomb_png(2, 3))) as harmless:  # the patched header is otherwise a valid PNG
        assert harmless.size == (2, 3)
    assert_refused(upload(rworld, submitted, "scan.png", bomb, claimed="image/png"), submitted)


@pytest.mark.parametrize(
    "content",
    [bomb_png(), bomb_png(12_000, 6_000), image_bytes("PNG", (10_000, 7_000), "1")],
    ids=["claims 10 gigapixels", "claims 72 megapixels", "real 70 megapixel 1-bit image"],
)
def test_images_beyond_the_pixel_limit_are_refused_as_too_large(content):
    assert len(content) < 200_000
    form = ScanForm(files={"scan": SimpleUploadedFile("scan.png", content, content_type="image/png")})
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["scan"]] == ["bomb"]


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"\xff\xd8\xff" + b"garbage" * 10, b"%PDF-1.7\n1 0 obj\n"],
    ids=["png", "jpeg", "truncated pdf"],
)
def test_damaged_files_are_refused_without_a_server_error(rworld, submitted, content):
    assert_refused(upload(rworld, submitted, "scan.bin", content), submitted)


@pytest.mark.parametrize("status", [Roster.Status.FINALISED, Roster.Status.RETURNED])
def test_uploading_before_submitting_or_after_a_return_is_refused_with_a_message(rworld, status):
    roster = roster_in(rworld, status)
    response = upload(rworld, roster, "scan.png", PNG, claimed="image/png")
    assert_refused(response, roster)
    assert 'enctype="multipart/form-data"' not in response.content.decode()  # and no upload form is offered


def test_the_scan_may_still_be_uploaded_after_the_roster_was_filed(rworld):
    roster = roster_in(rworld, Roster.Status.ACCEPTED)
    assert levels(upload(rworld, roster, "scan.jpg", JPEG, claimed="image/jpeg")) == ["success"]
    roster.refresh_from_db()
    assert roster.scan_content_type == "image/jpeg"


def test_another_institution_cannot_upload(rworld, submitted):
    response = upload(rworld, submitted, "scan.png", PNG, claimed="image/png", user=rworld.world.hongshan_master)
    assert response.status_code == 404
    submitted.refresh_from_db()
    assert not submitted.scan


def test_the_supervising_office_cannot_upload_for_the_institution(rworld, submitted):
    response = upload(rworld, submitted, "scan.png", PNG, claimed="image/png", user=rworld.world.wuchang_user)
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert not submitted.scan


def test_asking_for_a_scan_that_was_never_uploaded_answers_404(rworld, submitted):
    client = rworld.world.client_for(rworld.world.staff)
    assert client.get(reverse("reports:roster_scan", args=[submitted.public_id])).status_code == 404
