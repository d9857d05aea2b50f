"""Spreadsheet import of probation records: the files people really have, checked row by row by the record form.

Reading (``read_table``) accepts xlsx from Excel and WPS (real dates, merged header cells, extra columns, the data
on whichever sheet has the headers) and csv in UTF-8 with or without BOM, UTF-16 and GBK/GB18030; it refuses by
content, not by name, anything else. Headers are matched by name after normalisation (spaces, full-width forms, a
required-column asterisk and a bracketed hint are ignored), never by position.

Every cell is then converted (``RowConverter``) into what a person would have typed into the record form, and the
row is validated by ``ImportRecordForm``: ``RecordForm`` itself, with the same fields, clean methods and rules. A
cell that cannot be converted (an ID number Excel turned into 4.20106E+17, a date like 2024.07) gets a message
saying exactly what to do. The row loop, the matching of existing records and the all-or-nothing commit live in
``trainees.resources.RecordImportResource`` (django-import-export); ``check_file`` and ``import_file`` below run it
as a dry run or for real and turn its result into a ``Report`` of (row, column, message).

Month-only dates ("2024.07", "2024年7月") are refused, not guessed: a probation period decides the one-year rule
and the no-overlap rule to the day, and a number typed as 2024.10 reaches us from Excel as 2024.1.
"""

import codecs
import csv
import datetime
import io
import logging
import re
import time
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree

import openpyxl
import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.forms.models import construct_instance
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel

from hbwsrc import identifiers
from trainees.forms import RecordForm, record_choice_querysets
from trainees.models import Education, ExamCategory, ExamYear, IdType, ProbationRecord, Sex

logger = logging.getLogger(__name__)

# --- columns -------------------------------------------------------------------------------------------------

TEXT, IDENTIFIER, LICENCE, DATE, YEAR, CATEGORY, CHOICE, BOOLEAN, STATUS = (
    "text",
    "identifier",
    "licence",
    "date",
    "year",
    "category",
    "choice",
    "boolean",
    "status",
)

# The Chinese names written in templates and exports and read back on import (data, like the headers).
ID_TYPE_NAMES = {
    IdType.RESIDENT: "居民身份证",
    IdType.TEMPORARY: "临时身份证",
    IdType.MILITARY: "军警证件",
    IdType.HK_MACAO_TAIWAN: "台港澳居民往来大陆通行证",
    IdType.PASSPORT: "护照",
}
ID_TYPE_ALIASES = {
    "身份证": IdType.RESIDENT,
    "二代身份证": IdType.RESIDENT,
    "第二代居民身份证": IdType.RESIDENT,
    "军官证": IdType.MILITARY,
    "警官证": IdType.MILITARY,
    "文职干部证": IdType.MILITARY,
    "士兵证": IdType.MILITARY,
    "军队学员证": IdType.MILITARY,
    "港澳居民来往内地通行证": IdType.HK_MACAO_TAIWAN,
    "台湾居民来往大陆通行证": IdType.HK_MACAO_TAIWAN,
    "通行证": IdType.HK_MACAO_TAIWAN,
}
SEX_NAMES = {Sex.MALE: "男", Sex.FEMALE: "女"}
SEX_ALIASES = {"男性": Sex.MALE, "女性": Sex.FEMALE, "male": Sex.MALE, "female": Sex.FEMALE}
EDUCATION_NAMES = {
    Education.DOCTORATE: "博士研究生",
    Education.MASTER: "硕士研究生",
    Education.BACHELOR: "本科",
    Education.JUNIOR_COLLEGE: "大专",
    Education.SECONDARY: "中专",
    Education.APPRENTICESHIP: "师承或确有专长",
}
EDUCATION_ALIASES = {
    "博士": Education.DOCTORATE,
    "硕士": Education.MASTER,
    "大学本科": Education.BACHELOR,
    "专科": Education.JUNIOR_COLLEGE,
    "大学专科": Education.JUNIOR_COLLEGE,
    "中等专业学校": Education.SECONDARY,
    "师承": Education.APPRENTICESHIP,
    "确有专长": Education.APPRENTICESHIP,
}
RESULT_NAMES = {
    ProbationRecord.Result.IN_PROGRESS: "考核中",
    ProbationRecord.Result.PASSED: "合格",
    ProbationRecord.Result.FAILED: "不合格",
}
RESULT_ALIASES = {"考核合格": ProbationRecord.Result.PASSED, "考核不合格": ProbationRecord.Result.FAILED}
YES, NO = "是", "否"
BOOLEAN_VALUES = {
    "是": True,
    "否": False,
    "y": True,
    "n": False,
    "yes": True,
    "no": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "√": True,
    "×": False,
}
# The record status column of an export: withdrawn records are skipped when the export is imported again.
ACTIVE, WITHDRAWN = "有效", "已撤回"


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    kind: str
    required: bool
    help: str
    example: str = ""
    aliases: tuple[str, ...] = ()
    names: dict | None = None  # stored value -> Chinese name (the first accepted spelling)
    extra_names: dict | None = None  # other accepted spellings -> stored value
    in_template: bool = True


COLUMNS = (
    Column(
        "id_type",
        "证件类型",
        CHOICE,
        False,
        gettext_lazy("Type of identity document. Leave empty for a resident identity card."),
        "居民身份证",
        ("证件种类",),
        ID_TYPE_NAMES,
        ID_TYPE_ALIASES,
    ),
    Column(
        "id_number",
        "证件号码",
        IDENTIFIER,
        True,
        gettext_lazy("Format this column as text before typing, or Excel destroys 18-digit numbers."),
        "420106199803010013",
        ("证件号", "身份证号", "身份证号码", "身份证件号码"),
    ),
    Column("name", "姓名", TEXT, True, gettext_lazy("As on the identity document."), "张三", ("学员姓名",)),
    Column(
        "sex",
        "性别",
        CHOICE,
        True,
        gettext_lazy("Must agree with a resident ID number."),
        "男",
        (),
        SEX_NAMES,
        SEX_ALIASES,
    ),
    Column(
        "birth_date",
        "出生日期",
        DATE,
        True,
        gettext_lazy("Must agree with a resident ID number."),
        "1998-03-01",
        ("出生年月日",),
    ),
    Column(
        "education",
        "学历",
        CHOICE,
        True,
        gettext_lazy("Highest education."),
        "本科",
        ("最高学历",),
        EDUCATION_NAMES,
        EDUCATION_ALIASES,
    ),
    Column("school", "毕业院校", TEXT, True, gettext_lazy("School graduated from."), "武汉大学", ("毕业学校",)),
    Column("major", "所学专业", TEXT, True, gettext_lazy("Major studied."), "临床医学", ("专业",)),
    Column(
        "graduation_date",
        "毕业日期",
        DATE,
        False,
        gettext_lazy("Date of graduation, if known."),
        "2024-06-30",
        ("毕业时间",),
    ),
    Column(
        "exam_year",
        "考试年度",
        YEAR,
        True,
        gettext_lazy("The year of the exam this probation is for; only the current exam year is open."),
        "2027",
        ("报考年度", "年度"),
    ),
    Column(
        "category",
        "报考类别",
        CATEGORY,
        True,
        gettext_lazy("Exam category code from the list below (the name is accepted too)."),
        "110",
        ("报考类别代码", "类别代码", "报考类别编码"),
    ),
    Column(
        "is_fresh_graduate",
        "应届毕业生",
        BOOLEAN,
        False,
        gettext_lazy("是 for a fresh graduate registering with a commitment letter; empty means 否."),
        NO,
        ("是否应届毕业生", "是否应届"),
    ),
    Column(
        "departments",
        "轮转科室",
        TEXT,
        True,
        gettext_lazy("Rotation departments."),
        "内科、外科、儿科",
        ("试用科室",),
    ),
    Column(
        "content",
        "工作及培训内容",
        TEXT,
        False,
        gettext_lazy("What the trainee did and learned."),
        "病史采集、体格检查",
        ("试用期工作基本情况", "工作内容"),
    ),
    Column(
        "supervisor_name",
        "带教老师",
        TEXT,
        True,
        gettext_lazy("Supervising physician."),
        "李医生",
        ("带教医师", "指导医师", "带教老师姓名"),
    ),
    Column(
        "supervisor_licence",
        "带教老师执业证书编码",
        LICENCE,
        True,
        gettext_lazy("The supervisor's practising certificate number, 6 to 30 characters; format the column as text."),
        "110420100001234",
        ("带教医师执业证书编码", "执业证书编码"),
    ),
    Column(
        "start_date",
        "试用开始日期",
        DATE,
        True,
        gettext_lazy("A full date: 2024-07-01, 2024/7/1 or 2024年7月1日; a month alone is refused."),
        "2024-07-01",
        ("开始日期", "试用期开始日期"),
    ),
    Column(
        "end_date",
        "试用结束日期",
        DATE,
        False,
        gettext_lazy("Empty while the probation runs; required once assessed."),
        "2025-06-30",
        ("结束日期", "试用期结束日期"),
    ),
    Column(
        "result",
        "考核结果",
        CHOICE,
        True,
        gettext_lazy("Assessment result."),
        "合格",
        (),
        RESULT_NAMES,
        RESULT_ALIASES,
    ),
    Column(
        "assessed_on",
        "考核日期",
        DATE,
        False,
        gettext_lazy("Required once assessed; not in the future."),
        "2025-07-05",
    ),
    Column("assessor", "考核人", TEXT, False, gettext_lazy("Who assessed."), "王主任"),
    Column("remarks", "备注", TEXT, False, gettext_lazy("Remarks."), ""),
    Column(
        "record_status",
        "记录状态",
        STATUS,
        False,
        gettext_lazy("Written by exports; rows of withdrawn records are skipped."),
        ACTIVE,
        in_template=False,
    ),
)
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
FIELDS = tuple(column.field for column in COLUMNS)
ROW_NUMBER = "__row__"  # the dataset column holding each row's number in the spreadsheet

_FULL_WIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_BRACKETED = re.compile(r"\(.*?\)|\[.*?\]|【.*?】|<.*?>")
_SPACES = re.compile(r"\s+")


def normalize_header(value) -> str:
    """'  试用开始日期（年-月-日）*' and '试用开始\\n日期' both become '试用开始日期'; Chinese is kept as it is."""
    if value is None:
        return ""
    text = _SPACES.sub("", str(value).translate(_FULL_WIDTH_TO_ASCII))
    return _BRACKETED.sub("", text).strip("*:").lower()


def _choice_key(value: str) -> str:
    return _SPACES.sub("", value.translate(_FULL_WIDTH_TO_ASCII)).lower()


HEADER_ALIASES = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        HEADER_ALIASES[normalize_header(_name)] = _column.field
REQUIRED_FIELDS = tuple(column.field for column in COLUMNS if column.required)
HEADER_SCAN_ROWS = 10  # titles and two-level headers above the real header row


# --- reading files -------------------------------------------------------------------------------------------


class ImportFileError(Exception):
    """The file as a whole cannot be read; nothing is checked row by row."""

    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


@dataclass
class Table:
    """The record columns found in a file and its non-empty data rows, numbered as the spreadsheet shows them."""

    headers: dict  # field -> the header as written in the file
    rows: list  # (row number, tuple of raw values in FIELDS order)
    ignored_columns: list
    epoch: datetime.datetime | None = None  # an xlsx workbook's date epoch, for date serials in number cells

    def column_label(self, name: str) -> str:
        return self.headers.get(name) or COLUMN_BY_FIELD[name].header


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003) and WPS .et


def _not_a_spreadsheet():
    return ImportFileError(_("This file is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file."))


def sniff(data: bytes) -> str:
    """'xlsx' or 'csv', decided by the content; anything else raises ImportFileError."""
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise _not_a_spreadsheet() from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise _not_a_spreadsheet()
    if data.startswith(OLE2_MAGIC):
        raise ImportFileError(
            _(
                "This is an old Excel 97-2003 (.xls) file. Open it in Excel or WPS, save it as an Excel workbook "
                "(.xlsx) and upload that."
            )
        )
    return "csv"


def read_table(data: bytes, *, max_rows: int | None = None) -> Table:
    max_bytes = settings.IMPORT_MAX_BYTES
    if len(data) > max_bytes:
        raise ImportFileError(
            _("The file is larger than %(max)s MB. Split it into smaller files.") % {"max": _megabytes(max_bytes)}
        )
    max_rows = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    if sniff(data) == "xlsx":
        return _read_xlsx(data, max_rows)
    return _table_from_grid(_csv_rows(_decode_text(data)), [], max_rows)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g}"


def _decode_text(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")  # GB18030 is a superset of GBK, what Chinese Excel writes
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _not_a_spreadsheet()
    head = text[:4096]
    if any(ord(char) < 32 and char not in "\t\r\n" for char in head) or head.lstrip().startswith(("<", "%PDF", "{")):
        raise _not_a_spreadsheet()
    return text


def _csv_rows(text: str):
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error:
        raise _not_a_spreadsheet() from None


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # A zip bomb unpacks to far more than it weighs; real sheets stay within a few times the file's size.
        if sum(info.file_size for info in archive.infolist()) > 50 * settings.IMPORT_MAX_BYTES:
            raise ImportFileError(_("The workbook is too large once unpacked. Split it into smaller files."))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on damaged files
        logger.info("unreadable xlsx", exc_info=True)
        raise ImportFileError(
            _("The workbook could not be read. Open it in Excel or WPS, save it again as .xlsx and upload that.")
        ) from None
    try:
        sheet = _sheet_with_headers(workbook)
        sheet.reset_dimensions()  # some writers record a wrong size; read what is there
        merges = _merged_header_ranges(data, sheet._worksheet_path)
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        table = _table_from_grid(rows, merges, max_rows)
        table.epoch = workbook.epoch
        return table
    finally:
        workbook.close()


def _sheet_with_headers(workbook):
    """The first sheet whose top rows hold at least three known headers (the template's help sheet has none)."""
    for sheet in workbook.worksheets:
        if getattr(sheet, "sheet_state", "visible") != "visible":
            continue
        for row in sheet.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True):
            if len({HEADER_ALIASES.get(normalize_header(cell)) for cell in row} - {None}) >= 3:
                return sheet
    return workbook.worksheets[0]


def _merged_header_ranges(data: bytes, path: str) -> list:
    """Merged cell ranges touching the top rows, read from the sheet's XML (read-only openpyxl does not keep them)."""
    ranges = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path.lstrip("/")) as source:
        for _event, element in ElementTree.iterparse(source):
            if element.tag.endswith("}mergeCell") and element.get("ref"):
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref"))
                if min_row <= HEADER_SCAN_ROWS:
                    ranges.append((min_row, min_col, max_row, max_col))
            element.clear()
    return ranges


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_from_grid(rows, merges, max_rows: int) -> Table:
    rows = iter(rows)
    top = []
    for number, row in rows:
        top.append((number, row))
        if number >= HEADER_SCAN_ROWS:
            break
    by_number = {number: list(row) for number, row in top}  # a copy: merges fill the headers, not the data
    # A merged header cell holds its value in its top-left cell only: give it to every cell it covers.
    for min_row, min_col, max_row, max_col in merges:
        source = by_number.get(min_row)
        value = source[min_col - 1] if source and len(source) >= min_col else None
        for number in range(min_row, min(max_row, HEADER_SCAN_ROWS) + 1):
            cells = by_number.get(number)
            if cells is None:
                continue
            cells.extend([None] * (max_col - len(cells)))
            for col in range(min_col, max_col + 1):
                cells[col - 1] = value
    header_number, header_cells, best = None, [], -1
    for number, cells in by_number.items():
        score = len({HEADER_ALIASES.get(normalize_header(cell)) for cell in cells} - {None})
        if score > best:
            header_number, header_cells, best = number, cells, score
    positions, headers, ignored = {}, {}, []
    for index, cell in enumerate(header_cells):
        name = HEADER_ALIASES.get(normalize_header(cell))
        if name is None:
            if not _is_empty(cell):
                ignored.append(str(cell).strip())
            continue
        if name in positions:
            raise ImportFileError(
                _("The column %(column)s appears twice. Keep one of them.") % {"column": str(cell).strip()}
            )
        positions[name] = index
        headers[name] = _SPACES.sub("", str(cell))
    missing = [COLUMN_BY_FIELD[name].header for name in REQUIRED_FIELDS if name not in positions]
    if missing:
        raise ImportFileError(
            _("Required columns are missing: %(columns)s. Start from the template to get every column.")
            % {"columns": "、".join(missing)}
        )
    # Data starts below the header row and below any header cell merged downwards from it.
    first_data = max(
        [header_number] + [max_row for min_row, _c, max_row, _x in merges if min_row <= header_number <= max_row]
    )
    table = Table(headers=headers, rows=[], ignored_columns=ignored)
    indexes = [positions.get(name) for name in FIELDS]

    def data_rows():
        yield from top
        yield from rows

    for number, cells in data_rows():
        if number <= first_data:
            continue
        values = tuple(cells[index] if index is not None and index < len(cells) else None for index in indexes)
        if all(_is_empty(value) for value in values):
            continue
        if len(table.rows) >= max_rows:
            raise ImportFileError(
                _("The file has more than %(max)s rows. Split it into files of at most %(max)s rows.")
                % {"max": max_rows}
            )
        table.rows.append((number, values))
    return table


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- converting cells ----------------------------------------------------------------------------------------


class CellError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?E\+?[0-9]+", re.ASCII | re.IGNORECASE)
_FULL_DATE = re.compile(
    r"([0-9]{4})\s*[-/.]\s*([0-9]{1,2})\s*[-/.]\s*([0-9]{1,2})(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?",
    re.ASCII,
)
_CHINESE_DATE = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]?", re.ASCII)
_COMPACT_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII)
_MONTH_ONLY = re.compile(r"([0-9]{4})\s*(?:[-/.]|年)\s*([0-9]{1,2})\s*月?", re.ASCII)
_YEAR = re.compile(r"([0-9]{4})\s*年?(?:度)?", re.ASCII)
FORMULA_STARTS = ("=", "+", "-", "@")  # csv exports prefix such text with an apostrophe, so Excel never runs it


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:.15g}" if abs(value) < 1e15 else f"{value:.6g}".upper()
    return str(value).strip()


def _number_as_text_message(value) -> str:
    return _(
        "Excel has turned this into a number (%(value)s) and digits may be lost. Format the column as text, "
        "type the numbers again and upload the file again."
    ) % {"value": _shown(value)}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if _is_number(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).strip()
    if text.startswith('="') and text.endswith('"') and len(text) > 2:
        return text[2:-1].strip()  # ="420106..." is how some systems keep a number as text in csv
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def parse_date(value, epoch=None) -> datetime.date | None:
    """A real Excel date, an Excel date serial or one of the written forms; raises CellError otherwise."""
    if _is_empty(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, datetime.time):
        raise CellError(_("“%(value)s” is a time, not a date.") % {"value": value})
    if _is_number(value):
        number = float(value)
        if 1900 <= number < 2200:
            if number.is_integer():
                raise CellError(
                    _("“%(value)s” is a year, not a date. Enter the full date, e.g. 2024-07-01.")
                    % {"value": int(number)}
                )
            raise CellError(_month_only_message(_shown(value)))
        if number.is_integer() and 19000101 <= number <= 21991231:
            return _date_or_error(str(int(number)), int(number) // 10000, int(number) // 100 % 100, int(number) % 100)
        if 0 < number < 2958466:  # an Excel date serial in a cell not formatted as a date
            result = from_excel(number, epoch or WINDOWS_EPOCH)
            if isinstance(result, datetime.datetime):
                return result.date()
        raise CellError(_not_a_date_message(_shown(value)))
    text = str(value).strip().translate(_FULL_WIDTH_TO_ASCII)
    for pattern in (_FULL_DATE, _CHINESE_DATE, _COMPACT_DATE):
        if match := pattern.fullmatch(text):
            year, month, day = (int(group) for group in match.groups())
            return _date_or_error(text, year, month, day)
    if _MONTH_ONLY.fullmatch(text):
        raise CellError(_month_only_message(text))
    raise CellError(_not_a_date_message(text))


def _date_or_error(text, year, month, day) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(_("“%(value)s” is not a real date.") % {"value": text}) from None


def _not_a_date_message(text) -> str:
    return _("“%(value)s” is not a date. Write dates as 2024-07-01, 2024/7/1 or 2024年7月1日.") % {"value": text}


def _month_only_message(text) -> str:
    return _(
        "“%(value)s” gives only a year and a month. Probation is counted to the day: enter the full date, "
        "e.g. 2024-07-01."
    ) % {"value": text}


class RowConverter:
    """Turns one row of raw cells into the data a person would have posted to the record form."""

    def __init__(self, institution, *, epoch=None):
        self.epoch = epoch
        self.years = {year.year: year for year in ExamYear.objects.filter(region_id=institution.region_id)}
        self.categories = {}
        for category in ExamCategory.objects.all():
            for key in (category.code, category.name, f"{category.code}{category.name}"):
                self.categories[_choice_key(key)] = category
        self.choices = {}
        for column in COLUMNS:
            if column.kind == CHOICE:
                mapping = {_choice_key(str(value)): value for value in column.names}
                mapping.update({_choice_key(name): value for value, name in column.names.items()})
                mapping.update({_choice_key(name): value for name, value in (column.extra_names or {}).items()})
                self.choices[column.field] = mapping

    def convert(self, values: dict) -> tuple[dict, dict]:
        """(form data, {field: message}) for the cells that could not be read."""
        data, errors = {}, {}
        for column in COLUMNS:
            try:
                data[column.field] = self._convert(column, values.get(column.field))
            except CellError as error:
                errors[column.field] = error.message
                data[column.field] = ""
        return data, errors

    def _convert(self, column, value):
        kind = column.kind
        if kind == DATE:
            return parse_date(value, self.epoch)
        if kind == IDENTIFIER:
            if _is_number(value):
                raise CellError(_number_as_text_message(value))
            text = _text(value)
            if _SCIENTIFIC.fullmatch(text.translate(_FULL_WIDTH_TO_ASCII)):
                raise CellError(_number_as_text_message(text))
            return text
        if kind == LICENCE:
            # Up to 15 digits survive as an Excel number; anything longer, or shown as 1.1042E+14, has lost digits.
            if _is_number(value) and not (float(value).is_integer() and abs(value) < 10**15):
                raise CellError(_number_as_text_message(value))
            text = _text(value)
            if _SCIENTIFIC.fullmatch(text.translate(_FULL_WIDTH_TO_ASCII)):
                raise CellError(_number_as_text_message(text))
            return text
        text = _text(value)
        if kind == TEXT or kind == STATUS:
            return text
        if kind == YEAR:
            return self._exam_year(text)
        if kind == CATEGORY:
            return self._category(text)
        if kind == BOOLEAN:
            if not text:
                return False
            if (result := BOOLEAN_VALUES.get(_choice_key(text))) is None:
                raise CellError(_("“%(value)s” is not one of: %(allowed)s.") % {"value": text, "allowed": "是、否"})
            return result
        # CHOICE
        if not text:
            return IdType.RESIDENT if column.field == "id_type" else ""
        if (result := self.choices[column.field].get(_choice_key(text))) is None:
            raise CellError(
                _("“%(value)s” is not one of: %(allowed)s.")
                % {"value": text, "allowed": "、".join(column.names.values())}
            )
        return result

    def _exam_year(self, text):
        if not text:
            return ""
        match = _YEAR.fullmatch(text.translate(_FULL_WIDTH_TO_ASCII))
        if not match:
            raise CellError(_("“%(value)s” is not a year. Enter the exam year, e.g. 2027.") % {"value": text})
        exam_year = self.years.get(int(match.group(1)))
        if exam_year is None or not exam_year.is_current:
            current = next((year for year in self.years.values() if year.is_current), None)
            if current is None:
                raise CellError(_("No exam year is open for records in this region."))
            raise CellError(
                _("Records can only be imported for the current exam year, %(year)s.") % {"year": current.year}
            )
        return exam_year.pk

    def _category(self, text):
        if not text:
            return ""
        category = self.categories.get(_choice_key(text))
        if category is None and (match := re.match(r"[0-9]{3}", text.translate(_FULL_WIDTH_TO_ASCII), re.ASCII)):
            category = self.categories.get(match.group())  # "110 临床执业医师" with an odd name
        if category is None:
            raise CellError(
                _("Unknown exam category “%(value)s”. Use a code from the template's second sheet, e.g. 110.")
                % {"value": text}
            )
        if not category.is_active:
            raise CellError(_("The exam category %(category)s is no longer open.") % {"category": category})
        return category.pk

    def id_number(self, value) -> str | None:
        """The ID number the record form will clean from this cell (normalised), or None when the cell is refused."""
        try:
            return identifiers.normalize_identifier(self._convert(COLUMN_BY_FIELD["id_number"], value))
        except CellError:
            return None

    @staticmethod
    def key(data: dict):
        """What identifies a row's record at its institution: the person's ID and the exam year."""
        if not (data.get("id_number") and data.get("exam_year")):
            return None
        number = identifiers.normalize_identifier(data["id_number"])
        return (data.get("id_type") or IdType.RESIDENT, number, data["exam_year"])


# --- the record form, row by row -----------------------------------------------------------------------------


def _cached_choice(field, objects):
    """ModelChoiceField.to_python without its query: the objects come from the same queryset, fetched once."""

    def to_python(value):
        if value in field.empty_values:
            return None
        found = objects.get(str(getattr(value, "pk", value)))
        if found is None:
            raise ValidationError(field.error_messages["invalid_choice"], code="invalid_choice")
        return found

    return to_python


class KnownPersons:
    """The persons already registered under the ID numbers of a stretch of the file, with their active records.

    Two queries per window of rows (``fetch``) instead of up to three per row: ``ImportRecordForm`` answers from here
    what ``RecordForm`` would have queried (is this ID registered, does the period overlap another institution's
    record, is there already a record here for this exam year), and the resource finds here the record a row
    updates (``record_at``). An ID number the window did not cover falls back to a query. Rows are checked against
    the database as it was when their window was fetched; the import's own earlier rows are caught by the file's
    duplicate check, and anything entered meanwhile elsewhere by the database constraints when the rows are saved.
    """

    def __init__(self):
        self.numbers = frozenset()
        self.persons = {}  # (id type, ID number) -> Person
        self.records = {}  # person id -> the person's active records at every institution, newest first

    def fetch(self, numbers) -> None:
        from trainees.models import Person

        self.numbers = frozenset(numbers)
        # Naming the id types (all of them) lets the (id_type, id_number) unique index serve the lookup.
        persons = Person.objects.filter(id_type__in=IdType.values, id_number__in=self.numbers) if self.numbers else []
        self.persons = {(person.id_type, person.id_number): person for person in persons}
        by_pk = {person.pk: person for person in self.persons.values()}
        self.records = {pk: [] for pk in by_pk}
        if by_pk:
            records = (
                ProbationRecord.objects.active()
                .filter(person__in=list(by_pk))
                .select_related("institution__office", "exam_year")
                .order_by("-created_at", "pk")
            )
            for record in records:
                record.person = by_pk[record.person_id]
                self.records[record.person_id].append(record)

    def covers(self, number) -> bool:
        return number in self.numbers

    def record_at(self, institution, id_type, number, exam_year_id):
        """The person's active record at ``institution`` for that exam year (at most one: a database constraint)."""
        person = self.persons.get((id_type, number))
        records = self.records[person.pk] if person else ()
        return next((r for r in records if r.institution_id == institution.pk and r.exam_year_id == exam_year_id), None)


class ImportRecordForm(RecordForm):
    """``RecordForm`` for one imported row: the same fields, the same clean methods, the same rules.

    Some lookups are made differently because on a file of thousands of rows they would cost queries on every
    row: the exam year and category choices are resolved from the form's own querysets fetched once per import;
    the person, overlap and duplicate lookups (``find_person``, ``find_overlap``, ``has_duplicate``) are answered
    from ``known``, fetched for many rows at once; and the model-level re-check of the two foreign keys and of the
    CHECK constraints is skipped, since the choice fields have resolved the keys, ``RecordForm.clean`` applies the
    same period and result rules in Python and the database enforces the constraints again when the row is saved.
    """

    def __init__(self, *args, choices, known=None, **kwargs):
        self.choices = choices
        self.known = known
        super().__init__(*args, **kwargs)
        for name, (_queryset, objects) in choices.items():
            self.fields[name].to_python = _cached_choice(self.fields[name], objects)

    @staticmethod
    def choices_for(institution) -> dict:
        """{field: (the record form's queryset, its objects by pk)} for the exam year and category, fetched once."""
        querysets = record_choice_querysets(institution)
        return {name: (queryset, {str(obj.pk): obj for obj in queryset}) for name, queryset in querysets.items()}

    def choice_querysets(self) -> dict:
        # The same querysets, built once per import rather than once per row.
        return {name: queryset for name, (queryset, _objects) in self.choices.items()}

    def offer_options(self):
        pass  # an imported row is validated, never shown

    def find_person(self, id_type, number):
        if self.known is None or not self.known.covers(number):
            return super().find_person(id_type, number)
        return self.known.persons.get((id_type, number))

    def find_overlap(self, person, start, end):
        from trainees.actions import find_overlap_in

        if self.known is None or person.pk not in self.known.records:
            return super().find_overlap(person, start, end)
        records = self.known.records[person.pk]
        return find_overlap_in(records, person, self.institution, start, end, exclude=self.instance)

    def has_duplicate(self, person, exam_year):
        from trainees.actions import same_institution_duplicate_in

        if self.known is None or person.pk not in self.known.records:
            return super().has_duplicate(person, exam_year)
        records = self.known.records[person.pk]
        return same_institution_duplicate_in(records, person, self.institution, exam_year, exclude=self.instance)

    def _post_clean(self):
        exclude = self._get_validation_exclusions() | {"exam_year", "category"}
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except ValidationError as error:
            self._update_errors(error)
        try:
            self.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            self._update_errors(error)
        if self._validate_unique:
            self.validate_unique()


# --- reports -------------------------------------------------------------------------------------------------

NEW, UPDATE, UNCHANGED, SKIPPED = "new", "update", "unchanged", "skipped"


@dataclass
class Report:
    """What a dry run found or an import did, kept as JSON on the ImportJob and printed by the command."""

    total_rows: int = 0
    file_errors: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # {"row", "column", "message"}
    rows: list = field(default_factory=list)  # good rows: {"row", "action", "name", "id", "fields"}
    counts: dict = field(default_factory=lambda: {NEW: 0, UPDATE: 0, UNCHANGED: 0, SKIPPED: 0})
    ignored_columns: list = field(default_factory=list)
    imported: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors

    @property
    def bad_rows(self) -> int:
        return len({error["row"] for error in self.errors if error["row"]})

    def as_json(self) -> dict:
        return {
            "total_rows": self.total_rows,
            "file_errors": self.file_errors,
            "errors": self.errors,
            "rows": self.rows,
            "counts": self.counts,
            "ignored_columns": self.ignored_columns,
            "imported": self.imported,
            "seconds": round(self.seconds, 2),
        }

    @classmethod
    def from_json(cls, data: dict) -> "Report":
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    def add_error(self, row, column, message):
        self.errors.append({"row": row, "column": str(column), "message": str(message)})


def check_file(data: bytes, *, institution, user, progress=None) -> Report:
    """The dry run: read and validate every row; nothing is saved but the refused overlaps, as the form does."""
    return _run(data, institution=institution, user=user, dry_run=True, progress=progress)


def import_file(data: bytes, *, institution, user, progress=None, job=None, name="") -> Report:
    """Validate every row again and save them all in one transaction, or nothing when any row fails."""
    return _run(data, institution=institution, user=user, dry_run=False, progress=progress, job=job, name=name)


def _run(data, *, institution, user, dry_run, progress, job=None, name="") -> Report:
    from accounts import audit
    from accounts.models import AuditEvent
    from trainees.actions import require_record_access
    from trainees.resources import RecordImportResource

    started = time.monotonic()
    require_record_access(user, institution)
    report = Report()
    try:
        table = read_table(data)
    except ImportFileError as error:
        report.file_errors.append(error.message)
        return report
    report.total_rows = len(table.rows)
    report.ignored_columns = table.ignored_columns
    resource = RecordImportResource(institution=institution, user=user, table=table, progress=progress)
    dataset = resource.dataset()
    if dry_run:
        result = resource.import_data(dataset, dry_run=True, use_transactions=False)
        resource.fill_report(result, report)
    else:
        context = {"user": user.pk, "import": str(job.public_id) if job else "command"}
        with pghistory.context(**context), transaction.atomic():
            result = resource.import_data(
                dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
            )
            resource.fill_report(result, report)
            if report.ok:
                report.imported = True
                audit.record(
                    AuditEvent.Kind.IMPORT,
                    actor=user,
                    target=institution,
                    changes={
                        "file": job.original_name if job else name,
                        "job": str(job.public_id) if job else "",
                        "rows": report.total_rows,
                        **report.counts,
                    },
                )
            else:
                transaction.set_rollback(True)
    # Like the record form, every refused overlap is kept for the offices, outside the rolled-back import.
    resource.log_overlap_attempts()
    report.seconds = time.monotonic() - started
    return report


# --- background jobs -----------------------------------------------------------------------------------------


class JobProgress:
    """Moves an ImportJob's rows_done while the import runs inside its transaction.

    The import's own connection is inside one long transaction, so its writes stay invisible until commit: the
    progress goes through a second, autocommitting connection. It never waits for a lock, and a failure only
    costs the progress display.
    """

    INTERVAL = 0.5  # seconds between updates

    def __init__(self, job):
        self.job_id = job.pk
        self.connection = None
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.INTERVAL:
            return
        self.last = now
        try:
            if self.connection is None:
                self.connection = connection.Database.connect(**connection.get_connection_params())
                self.connection.autocommit = True
                self.connection.execute("SET lock_timeout = '200ms'")
            self.connection.execute(
                "UPDATE trainees_importjob SET rows_done = %s, rows_total = %s WHERE id = %s",
                [done, total, self.job_id],
            )
        except Exception:  # the progress bar is not worth failing an import for
            logger.warning("import progress not recorded", exc_info=True)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _job_report_failure(message) -> dict:
    report = Report()
    report.file_errors.append(str(message))
    return report.as_json()


def run_job(job_id: int, user_id: int, *, dry_run: bool) -> None:
    """Check (dry run) or import an uploaded file; what the tasks in trainees.tasks run."""
    from accounts.models import User
    from trainees.models import ImportJob

    job = ImportJob.objects.select_related("institution").get(pk=job_id)
    expected = ImportJob.Status.PENDING if dry_run else ImportJob.Status.IMPORTING
    if job.status != expected:
        return
    if dry_run:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CHECKING, rows_done=0)
    user = User.objects.get(pk=user_id)
    progress = JobProgress(job)
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        if dry_run:
            report = check_file(data, institution=job.institution, user=user, progress=progress)
        else:
            report = import_file(data, institution=job.institution, user=user, progress=progress, job=job)
    except Exception:
        logger.exception("import job %s failed", job.public_id)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            report=_job_report_failure(_("The file could not be processed because of an internal error.")),
        )
        raise
    finally:
        progress.close()
    if dry_run:
        status = ImportJob.Status.CHECKED
    else:
        status = ImportJob.Status.DONE if report.imported else ImportJob.Status.FAILED
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        report=report.as_json(),
        rows_total=report.total_rows,
        rows_done=report.total_rows,
        imported_at=timezone.now() if report.imported else None,
    )


# --- the template --------------------------------------------------------------------------------------------


def template_columns():
    return [column for column in COLUMNS if column.in_template]


def template_help_rows(categories) -> list:
    """The rows of the template's second sheet: every column explained, then the allowed values."""
    rows = [[_("Column"), _("Required"), _("What to enter"), _("Example")]]
    for column in template_columns():
        allowed = ""
        if column.names:
            allowed = " " + _("Allowed: %(values)s.") % {"values": "、".join(column.names.values())}
        elif column.kind == BOOLEAN:
            allowed = " " + _("Allowed: %(values)s.") % {"values": "是、否"}
        rows.append(
            [column.header, _("yes") if column.required else _("no"), str(column.help) + allowed, column.example]
        )
    rows.append([])
    rows.append([_("Exam categories (报考类别)"), "", "", ""])
    rows.append([_("Code"), _("Name"), "", ""])
    rows.extend([category.code, category.name, "", ""] for category in categories)
    rows.append([])
    rows.append([_("ID document types (证件类型)"), "", "", ""])
    rows.extend([name, IdType(value).label, "", ""] for value, name in ID_TYPE_NAMES.items())
    rows.append([])
    rows.append([_("Assessment results (考核结果)"), "", "", ""])
    rows.extend([name, ProbationRecord.Result(value).label, "", ""] for value, name in RESULT_NAMES.items())
    rows.append([])
    rows.append([_("Education (学历)"), "", "", ""])
    rows.extend([name, Education(value).label, "", ""] for value, name in EDUCATION_NAMES.items())
    rows.append([])
    rows.append(
        [
            _("Dates"),
            "",
            _("Real Excel dates, or text such as 2024-07-01, 2024/7/1, 2024年7月1日 or 2024.07.01."),
            "",
        ]
    )
    return rows
