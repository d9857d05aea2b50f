"""Exports of probation records as xlsx or csv, filtered as on the record list, and the writers they share with
the import template.

Institutions export their own records, offices their whole subtree's (``filter_records``, which goes through
``ProbationRecord.objects.for_user``); offices' workbooks add a sheet of their institutions with profile and filing
status. ID numbers are written whole: whoever may export a record may open its detail page, which shows the whole
number. The admin site's export (``trainees.admin``) applies the same rule row by row through ``records_spec``:
whole where the user could open the record's page in the platform, masked elsewhere. Every export is audited with
its filter, format and row count.

Both writers keep what Excel would otherwise mangle: xlsx cells of ID numbers and codes are text, never numbers,
and no text cell is ever written as a formula; csv is UTF-8 with a BOM (so Excel detects the encoding) and text
that Excel would run as a formula (=, +, -, @) is prefixed with an apostrophe, which the importer removes again.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts import audit
from accounts.models import AuditEvent
from hbwsrc.search import text_contains
from institutions.scope import scope_for
from trainees.imports import FORMULA_STARTS, NO, YES
from trainees.models import ExamYear
from trainees.resources import TEXT_COLUMNS, RecordExportResource
from trainees.views import filter_records

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


@dataclass
class SheetSpec:
    title: str
    headers: list
    rows: list
    text_columns: set = field(default_factory=set)  # column indexes written as text
    widths: list = field(default_factory=list)


def _xlsx_value(sheet, value, as_text: bool):
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, str) and (as_text or value.startswith(FORMULA_STARTS)):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # never a formula, never a number
        cell.number_format = "@"
        return cell
    return value


def xlsx_bytes(sheets) -> bytes:
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title)
        for index, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header_cells = []
        for header in spec.headers:
            cell = WriteOnlyCell(sheet, str(header))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in spec.rows:
            sheet.append([_xlsx_value(sheet, value, index in spec.text_columns) for index, value in enumerate(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(headers, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(header) for header in headers])
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def file_response(content: bytes, filename: str, fmt: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE if fmt == "xlsx" else CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- what is exported ----------------------------------------------------------------------------------------


def _filing_statuses(user) -> dict:
    return filing_statuses(scope_for(user).institutions())


def filing_statuses(institutions) -> dict:
    """(institution id, exam year id) -> the status of that institution's latest roster for that year."""
    from reports.models import Roster

    rosters = (
        Roster.objects.filter(institution__in=institutions)
        .current()
        .values_list("institution_id", "exam_year_id", "status")
    )
    return {(institution, year): str(Roster.Status(status).label) for institution, year, status in rosters}


def record_sheet(user, params, filing: dict) -> tuple[SheetSpec, dict]:
    form, records = filter_records(user, params)
    records = records.with_eligibility().select_related("person", "category", "exam_year", "institution__office")
    spec = records_spec(records, filing)
    return spec, (form.cleaned_data if form.is_valid() else {})


def records_spec(records, filing: dict, *, whole_id_number=None) -> SheetSpec:
    """The record sheet of ``records`` (with person, category, exam year and institution's office selected and
    eligibility annotated). ``whole_id_number(record)`` says whether a row's ID number is written whole (by
    default every one is); the others are masked."""
    resource = RecordExportResource(filing=filing)
    if whole_id_number is not None:
        resource.fields["id_number"].dehydrate_method = lambda record: (
            record.person.id_number if whole_id_number(record) else record.person.masked_id_number
        )
    dataset = resource.export(records)
    names = resource.column_names()
    spec = SheetSpec(
        title="试用期考核记录",
        headers=list(dataset.headers),
        rows=list(dataset),
        text_columns={names.index(name) for name in TEXT_COLUMNS},
        widths=[14 if name not in ("id_number", "institution", "public_id") else 24 for name in names],
    )
    return spec


INSTITUTION_HEADERS = ["试用机构", "统一社会信用代码", "主管考试管理机构", "资料是否完整", "记录数", "名单备案状态"]


def institution_sheet(user, filters: dict, filing: dict) -> SheetSpec:
    """An office's institutions (as filtered by sub-office and name) with their records and filing status."""
    scope = scope_for(user)
    institutions = scope.institutions().select_related("office").in_tree_order()
    if filters.get("office"):  # an id (trainees.forms.OfferedChoiceField)
        path = scope.offices().filter(pk=filters["office"]).values_list("path", flat=True).first()
        institutions = institutions.filter(path__subtree=path) if path else institutions.none()
    if filters.get("institution"):
        institutions = institutions.filter(text_contains("name", filters["institution"]))
    year = ExamYear.objects.filter(pk=filters["exam_year"]).first() if filters.get("exam_year") else None
    current = {year.region_id: year for year in ExamYear.objects.filter(is_current=True)}
    record_filter = Q(records__withdrawn_at__isnull=True)
    if year:
        record_filter &= Q(records__exam_year=year)
    else:
        record_filter &= Q(records__exam_year__is_current=True)
    institutions = institutions.annotate(record_count=Count("records", filter=record_filter))
    rows = []
    for institution in institutions:
        shown_year = year or current.get(institution.region_id)
        status = filing.get((institution.pk, shown_year.pk if shown_year else None), _("No roster"))
        rows.append(
            [
                institution.name,
                institution.uscc,
                institution.office.name,
                YES if institution.profile_complete else NO,
                institution.record_count,
                status,
            ]
        )
    return SheetSpec(
        title="试用机构", headers=INSTITUTION_HEADERS, rows=rows, text_columns={1}, widths=[30, 22, 16, 12, 10, 14]
    )


@login_required
def export_records(request, fmt):
    user = request.user
    if scope_for(user).is_empty:
        raise PermissionDenied
    filing = _filing_statuses(user)
    records, filters = record_sheet(user, request.GET, filing)
    sheets = [records]
    if user.office_id and fmt == "xlsx":
        sheets.append(institution_sheet(user, filters, filing))
    if fmt == "xlsx":
        content = xlsx_bytes(sheets)
    else:
        content = csv_bytes(records.headers, records.rows)
    query = {key: values if len(values) > 1 else values[0] for key, values in request.GET.lists() if key != "page"}
    audit.record(
        AuditEvent.Kind.EXPORT,
        actor=user,
        target=user.institution or user.office,
        changes={"filter": query, "rows": len(records.rows), "format": fmt},
        request=request,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return file_response(content, f"records-{stamp}.{fmt}", fmt)
