"""Exports: scoped like the record list, filtered like it, audited, and importable again without a change."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import AuditEvent
from reports import actions as roster_actions
from tests import import_files as f
from trainees import imports
from trainees.models import ProbationRecord


@pytest.fixture(autouse=True)
def english():
    with translation.override(None):
        yield


def workbook(response):
    return openpyxl.load_workbook(io.BytesIO(response.content))


def exported_ids(response) -> set:
    sheet = workbook(response).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    column = header.index("证件号码")
    return {row[column] for row in sheet.iter_rows(min_row=2, values_only=True)}


def ids_at(*institutions) -> set:
    return set(ProbationRecord.objects.filter(institution__in=institutions).values_list("person__id_number", flat=True))


def test_an_institution_exports_exactly_its_own_records_with_whole_id_numbers_as_text(spread):
    world = spread.world

    response = world.client_for(world.staff).get(reverse("trainees:export_xlsx"))

    assert response.status_code == 200
    assert exported_ids(response) == ids_at(world.wuchang_hospital)
    sheet = workbook(response).worksheets[0]
    id_cell = sheet.cell(row=2, column=2)
    assert id_cell.data_type == "s" and len(id_cell.value) == 18
    assert len(workbook(response).worksheets) == 1  # institutions get no institution sheet


@pytest.mark.parametrize(
    ("account", "institutions"),
    [
        ("wuchang_user", ["wuchang_hospital"]),
        ("wuhan_user", ["wuchang_hospital", "hongshan_centre"]),
        ("yichang_user", ["yichang_hospital"]),
        ("region_user", ["wuchang_hospital", "hongshan_centre", "yichang_hospital", "provincial_hospital"]),
        ("hunan_user", ["hunan_hospital"]),
    ],
)
def test_an_offices_export_contains_exactly_its_subtree(spread, account, institutions):
    world = spread.world

    response = world.client_for(getattr(world, account)).get(reverse("trainees:export_xlsx"))

    expected = [getattr(world, name) for name in institutions]
    assert exported_ids(response) == ids_at(*expected)
    institution_sheet = workbook(response).worksheets[1]
    names = {row[0] for row in institution_sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {institution.name for institution in expected}


def test_the_export_follows_the_list_filters(spread):
    world = spread.world
    client = world.client_for(world.wuhan_user)

    by_name = client.get(reverse("trainees:export_xlsx"), {"q": "学员4"})
    by_office = client.get(reverse("trainees:export_xlsx"), {"office": world.hongshan.pk})

    assert exported_ids(by_name) == {f.resident_id(4)}
    assert exported_ids(by_office) == ids_at(world.hongshan_centre)


def test_the_office_sees_filing_status_per_record_and_per_institution(spread):
    world = spread.world
    roster_actions.finalise(world.wuchang_hospital, spread.year, acting_user=world.master)

    sheets = workbook(world.client_for(world.wuhan_user).get(reverse("trainees:export_xlsx"))).worksheets

    records = list(sheets[0].iter_rows(values_only=True))
    status = records[0].index("名单备案状态")
    place = records[0].index("试用机构")
    with translation.override("zh-hans"):
        not_submitted, no_roster = translation.gettext("Not submitted"), translation.gettext("No roster")
    assert {(row[place], row[status]) for row in records[1:]} == {
        ("武汉市武昌医院", not_submitted),
        ("洪山街社区卫生服务中心", no_roster),
    }
    institutions = {row[0]: row[5] for row in sheets[1].iter_rows(min_row=2, values_only=True)}
    assert institutions == {"武汉市武昌医院": not_submitted, "洪山街社区卫生服务中心": no_roster}


def test_every_export_is_audited_with_its_filter_format_and_row_count(spread):
    world = spread.world

    world.client_for(world.wuhan_user).get(reverse("trainees:export_csv"), {"q": "学员", "page": "2"})

    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.actor == world.wuhan_user
    assert event.changes == {"filter": {"q": "学员"}, "rows": 5, "format": "csv"}


def test_the_csv_has_a_bom_iso_dates_and_no_formula_excel_would_run(spread):
    world = spread.world
    ProbationRecord.objects.filter(institution=world.wuchang_hospital).update(remarks='=HYPERLINK("x")')

    response = world.client_for(world.staff).get(reverse("trainees:export_csv"))

    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row["备注"] for row in rows} == {'\'=HYPERLINK("x")'}
    assert {row["试用开始日期"] for row in rows} == {"2024-07-01"}


def test_an_xlsx_export_never_writes_a_formula(spread):
    world = spread.world
    ProbationRecord.objects.filter(institution=world.wuchang_hospital).update(remarks="=1+1")

    sheet = workbook(world.client_for(world.staff).get(reverse("trainees:export_xlsx"))).worksheets[0]

    remarks = [cell for cell in sheet[2] if cell.value == "=1+1"]
    assert remarks and remarks[0].data_type == "s"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_export_then_import_gives_the_same_records_and_changes_nothing(rworld, fmt):
    world = rworld.world
    records = f.rows(rworld, 3)
    records[1].update({"考核结果": "考核中", "试用结束日期": None, "考核日期": None, "应届毕业生": "是"})
    records[2].update({"备注": "-", "工作及培训内容": "第一行\n第二行", "证件类型": "护照", "证件号码": "E12345678"})
    assert imports.import_file(f.xlsx(records), institution=world.wuchang_hospital, user=world.staff).imported
    before = list(ProbationRecord.objects.order_by("pk").values())

    exported = world.client_for(world.staff).get(reverse(f"trainees:export_{fmt}")).content
    preview = imports.check_file(exported, institution=world.wuchang_hospital, user=world.staff)
    report = imports.import_file(exported, institution=world.wuchang_hospital, user=world.staff)

    assert preview.ok and report.imported, (preview.file_errors, preview.errors)
    assert report.counts == {"new": 0, "update": 0, "unchanged": 3, "skipped": 0}
    assert list(ProbationRecord.objects.order_by("pk").values()) == before


def test_withdrawn_records_in_an_export_are_skipped_on_import(rworld):
    world = rworld.world
    imports.import_file(f.xlsx(f.rows(rworld, 2)), institution=world.wuchang_hospital, user=world.staff)
    ProbationRecord.objects.filter(person__name="学员2").update(
        withdrawn_at="2026-01-01T00:00Z", withdrawal_reason="错"
    )

    exported = world.client_for(world.staff).get(reverse("trainees:export_xlsx"), {"withdrawn": "on"}).content
    report = imports.import_file(exported, institution=world.wuchang_hospital, user=world.staff)

    assert report.imported and report.counts == {"new": 0, "update": 0, "unchanged": 1, "skipped": 1}
    assert ProbationRecord.objects.count() == 2
