"""Spreadsheets for the import tests, built the way people's files really look."""

import csv
import datetime
import io

import openpyxl

from tests.world import make_resident_id
from trainees.imports import template_columns
from trainees.models import Person

HEADERS = [column.header for column in template_columns()]
BIRTH = datetime.date(1998, 3, 1)


PER_DAY = 400  # ID sequence numbers used per birth date, so that thousands of rows have thousands of IDs


def birth_date(serial: int) -> datetime.date:
    return BIRTH + datetime.timedelta(days=serial // PER_DAY)


def resident_id(serial: int) -> str:
    """The serial-th man's ID; for serials below 400 the same as tests.record_helpers.make_person's."""
    return make_resident_id(birth_date(serial), serial % PER_DAY)


def make_person(serial: int, name: str | None = None) -> Person:
    """The person of ``row(rworld, serial)``, already in the database."""
    return Person.objects.create(
        id_number=resident_id(serial),
        name=name or f"学员{serial}",
        sex="M",
        birth_date=birth_date(serial),
        education="bachelor",
        school="武汉大学",
        major="临床医学",
    )


def row(rworld, serial: int = 1, **overrides) -> dict:
    """One good row, keyed by header, with the values a hospital clerk would type (dates as real dates)."""
    values = {
        "证件类型": "居民身份证",
        "证件号码": resident_id(serial),
        "姓名": f"学员{serial}",
        "性别": "男",
        "出生日期": birth_date(serial),
        "学历": "本科",
        "毕业院校": "武汉大学",
        "所学专业": "临床医学",
        "毕业日期": datetime.date(2024, 6, 30),
        "考试年度": rworld.year.year,
        "报考类别": "110",
        "应届毕业生": "否",
        "轮转科室": "内科、外科、儿科",
        "工作及培训内容": "病史采集、体格检查",
        "带教老师": "李医生",
        "带教老师执业证书编码": "110420100001234",
        "试用开始日期": datetime.date(2024, 7, 1),
        "试用结束日期": datetime.date(2025, 6, 30),
        "考核结果": "合格",
        "考核日期": datetime.date(2025, 7, 5),
        "考核人": "王主任",
        "备注": "",
    }
    values.update(overrides)
    return values


def rows(rworld, count: int, start: int = 1, **overrides) -> list:
    return [row(rworld, serial, **overrides) for serial in range(start, start + count)]


def xlsx(records, headers=None, *, above=(), merges=(), number_formats=None, application=None) -> bytes:
    """An xlsx workbook: ``above`` are rows written before the header row, ``merges`` ranges like "A1:V1"."""
    headers = HEADERS if headers is None else headers
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    for values in above:
        sheet.append(list(values))
    sheet.append(headers)
    for record in records:
        sheet.append([_cell(record.get(header)) for header in headers] if isinstance(record, dict) else record)
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    for header, number_format in (number_formats or {}).items():
        column = headers.index(header) + 1
        for row_cells in sheet.iter_rows(min_row=len(above) + 2, min_col=column, max_col=column):
            row_cells[0].number_format = number_format
    if application:
        workbook.properties.creator = application
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value):
    return "" if value is None else value


def text(value) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def csv_text(records, headers=None, *, delimiter=",") -> str:
    headers = HEADERS if headers is None else headers
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for record in records:
        writer.writerow([text(record.get(header)) for header in headers] if isinstance(record, dict) else record)
    return buffer.getvalue()


def csv_bytes(records, headers=None, *, encoding="utf-8-sig", delimiter=",") -> bytes:
    return csv_text(records, headers, delimiter=delimiter).encode(encoding)
