"""The roster PDF as the finalisation task renders it: its text, its hash, its paper size and fonts, the header row
on every page, and a QR code that leads to the public verification page."""

import hashlib
import io
import re
import subprocess

import pypdf
import pytest
from django.urls import reverse
from PIL import Image

from institutions.models import Institution
from reports import actions
from reports.models import Roster
from tests.record_helpers import IN_PROGRESS, make_person, make_record
from trainees.models import ExamYear

A4_POINTS = (595.28, 841.89)


def spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def enter(rworld, serial, name, **fields):
    world = rworld.world
    if fields.get("result") == IN_PROGRESS:
        return make_record(
            make_person(serial, name=name),
            world.wuchang_hospital,
            rworld.year,
            rworld.clinical,
            "2025-07-01",
            None,
            **fields,
        )
    return make_record(
        make_person(serial, name=name),
        world.wuchang_hospital,
        rworld.year,
        rworld.clinical,
        "2024-07-01",
        "2025-06-30",
        **fields,
    )


def finalised(rworld, capture) -> Roster:
    """Finalise the 武昌 hospital's roster and let the on-commit task render its PDF."""
    with capture(execute=True):
        roster = actions.finalise(
            rworld.world.wuchang_hospital, ExamYear.objects.get(pk=rworld.year.pk), acting_user=rworld.world.staff
        )
    roster.refresh_from_db()
    assert roster.pdf_state == Roster.PdfState.READY, roster.pdf_error
    return roster


def stored_bytes(roster) -> bytes:
    with roster.pdf.open("rb") as stored:
        return stored.read()


def reader(roster) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(stored_bytes(roster)))


@pytest.fixture
def small(rworld, django_capture_on_commit_callbacks) -> Roster:
    enter(rworld, 1, "张三")
    enter(rworld, 2, "李四")
    enter(rworld, 3, "王五", result=IN_PROGRESS, is_fresh_graduate=True)
    enter(rworld, 4, "赵六", result=IN_PROGRESS)  # does not qualify
    return finalised(rworld, django_capture_on_commit_callbacks)


@pytest.fixture
def long(rworld, django_capture_on_commit_callbacks) -> Roster:
    for serial in range(1, 61):
        enter(rworld, serial, f"学员{serial:02d}")
    return finalised(rworld, django_capture_on_commit_callbacks)


def test_the_pdf_shows_title_header_names_total_verification_code_and_page_numbers(rworld, small):
    pdf = reader(small)
    assert small.pdf_pages == len(pdf.pages) == 1
    text = spaced(pdf.pages[0].extract_text())
    assert f"{rworld.year.year}年医师资格考试试用期考核合格人员名单" in text
    for name in ("张三", "李四", "王五"):
        assert name in text
    assert "赵六" not in text
    assert re.search(r"王五 .*考核中 ?（应届）", text)  # the fresh graduate under assessment is marked
    assert re.search(r"合计： ?3 ?人", text)
    assert small.verification_code in text
    assert re.search(r"第 ?1 ?页 ?共 ?1 ?页", text)
    for header in ("武汉市武昌医院", "武昌区", small.institution_uscc, small.institution_licence, "盖章处"):
        assert header in text
    assert f"第 {small.version} 版" in text


def test_the_stored_sha256_is_that_of_the_stored_file_and_of_the_download(rworld, small):
    data = stored_bytes(small)
    assert data.startswith(b"%PDF-")
    assert small.pdf_sha256 == hashlib.sha256(data).hexdigest()
    response = rworld.world.client_for(rworld.world.wuchang_user).get(
        reverse("reports:roster_pdf", args=[small.public_id])
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == small.pdf_sha256


def test_the_pdf_is_a4_and_embeds_subset_fonts(small):
    pdf = reader(small)
    for page in pdf.pages:
        box = page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4_POINTS, abs=1)
    fonts = {}
    for page in pdf.pages:
        resources = page["/Resources"]["/Font"]
        for key in resources:
            font = resources[key].get_object()
            fonts[str(font["/BaseFont"])] = font
    assert fonts
    for base_font, font in fonts.items():
        assert re.fullmatch(r"/[A-Z]{6}\+.+", base_font), base_font
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), f"{base_font} is not embedded"
    assert any("CJK" in name for name in fonts)


def test_with_60_rows_the_header_row_repeats_on_every_page_and_every_page_is_numbered(long):
    pdf = reader(long)
    pages = len(pdf.pages)
    assert pages >= 2 and long.pdf_pages == pages
    texts = [spaced(page.extract_text()) for page in pdf.pages]
    for number, text in enumerate(texts, start=1):
        assert "序号" in text and "证件号码" in text, f"no header row on page {number}"
        assert re.search(rf"第 ?{number} ?页 ?共 ?{pages} ?页", text), f"page {number}"
    everything = " ".join(texts)
    assert all(f"学员{serial:02d}" in everything for serial in range(1, 61))
    assert re.search(r"合计： ?60 ?人", texts[-1])


def test_the_qr_code_decodes_to_the_public_verification_url(rworld, settings, django_capture_on_commit_callbacks):
    zxingcpp = pytest.importorskip("zxingcpp")
    settings.PUBLIC_BASE_URL = "https://exam.example.gov.cn"
    enter(rworld, 1, "张三")
    roster = finalised(rworld, django_capture_on_commit_callbacks)
    png = subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", roster.pdf.path],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    barcodes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [b.text for b in barcodes if b.format == zxingcpp.BarcodeFormat.QRCode] == [
        "https://exam.example.gov.cn" + reverse("reports:verify_code", args=[roster.verification_code])
    ]
    assert settings.PUBLIC_BASE_URL in spaced(reader(roster).pages[0].extract_text())


def test_the_pdf_of_an_earlier_version_is_kept_when_a_new_version_is_rendered(
    rworld, small, django_capture_on_commit_callbacks
):
    first_bytes = stored_bytes(small)
    actions.submit(small, acting_user=rworld.world.staff)
    actions.return_roster(small, reason="有误", acting_user=rworld.world.wuchang_user)
    second = finalised(rworld, django_capture_on_commit_callbacks)
    small.refresh_from_db()
    assert second.pdf.name != small.pdf.name
    assert stored_bytes(small) == first_bytes
    assert hashlib.sha256(stored_bytes(small)).hexdigest() == small.pdf_sha256
    assert "第 2 版" in spaced(reader(second).pages[0].extract_text())


def test_a_failed_rendering_is_recorded_and_blocks_submission(rworld, monkeypatch, django_capture_on_commit_callbacks):
    def broken(roster):
        raise RuntimeError("no fonts")

    monkeypatch.setattr("reports.tasks.render_roster_pdf", broken)
    enter(rworld, 1, "张三")
    with django_capture_on_commit_callbacks(execute=True):
        roster = actions.finalise(
            rworld.world.wuchang_hospital, ExamYear.objects.get(pk=rworld.year.pk), acting_user=rworld.world.staff
        )
    roster.refresh_from_db()
    assert roster.pdf_state == Roster.PdfState.FAILED
    assert "no fonts" in roster.pdf_error
    assert not roster.pdf and not roster.pdf_sha256
    with pytest.raises(Exception) as refused:
        actions.submit(roster, acting_user=rworld.world.staff)
    assert getattr(refused.value, "code", None) == "pdf"


def test_the_running_page_header_shows_the_institution_name_exactly(rworld, django_capture_on_commit_callbacks):
    """The name goes into a CSS string (@top-center); hyphens, ampersands and quotes must survive."""
    name = '武汉市武昌医院-东院区 & "分院" \\ </style>'
    Institution.objects.filter(pk=rworld.world.wuchang_hospital.pk).update(name=name)
    rworld.world.wuchang_hospital.refresh_from_db()
    for serial in range(1, 61):
        enter(rworld, serial, f"学员{serial:02d}")
    roster = finalised(rworld, django_capture_on_commit_callbacks)
    pages = [spaced(page.extract_text()) for page in reader(roster).pages]
    assert len(pages) >= 2
    header = f"{spaced(name)} · {rworld.year.year}年医师资格考试试用期考核合格人员名单"
    for number, text in enumerate(pages, start=1):
        assert header in text, f"page {number}: {text[-200:]}"
    assert "u002D" not in " ".join(pages)
