"""The files people really have: every kind of file and of bad cell, with the row, column and message reported.

Row numbers are the spreadsheet's own (the header is row 1 unless rows stand above it). Messages are compared in
English, the msgids: the tests run with translation turned off.
"""

import codecs
import datetime
import io
import zipfile

import openpyxl
import pytest
from django.utils import translation

from tests import import_files as f
from tests.record_helpers import make_person, make_record
from trainees import imports
from trainees.models import OverlapAttempt, Person, ProbationRecord


@pytest.fixture(autouse=True)
def english():
    with translation.override(None):
        yield


def check(rworld, data):
    world = rworld.world
    return imports.check_file(data, institution=world.wuchang_hospital, user=world.staff)


def errors(report):
    return [(error["row"], error["column"], error["message"]) for error in report.errors]


def wrong_check_character(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def assert_clean(report, rows):
    assert report.file_errors == [] and report.errors == [], (report.file_errors, report.errors)
    assert report.counts[imports.NEW] == rows


# --- kinds of file -------------------------------------------------------------------------------------------


def test_an_xlsx_from_excel_with_real_dates_checks_clean_and_writes_nothing(rworld):
    report = check(rworld, f.xlsx(f.rows(rworld, 3)))

    assert_clean(report, 3)
    assert [row["row"] for row in report.rows] == [2, 3, 4]
    assert Person.objects.count() == 0 and ProbationRecord.objects.count() == 0


def test_an_xlsx_from_wps_with_date_serials_and_chinese_date_formats_is_read(rworld):
    records = f.rows(rworld, 2)
    # WPS and Excel store dates as day numbers; a Chinese date format still marks them as dates, and a column the
    # clerk formatted as "General" shows the bare number, which in a date column is read as a date serial.
    records[0]["试用开始日期"] = 45474  # 2024-07-01
    data = f.xlsx(records, number_formats={"出生日期": 'yyyy"年"m"月"d"日"'}, application="WPS 表格")

    report = check(rworld, data)

    assert_clean(report, 2)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_every_encoding_chinese_excel_writes_is_read(rworld, encoding):
    report = check(rworld, f.csv_bytes(f.rows(rworld, 2), encoding=encoding))

    assert_clean(report, 2)
    assert report.rows[0]["name"] == "学员1"


def test_a_gb18030_only_character_in_a_name_survives(rworld):
    name = "王𠀀"  # outside GBK: only GB18030 (and Unicode) have it
    report = check(rworld, f.csv_bytes([f.row(rworld, 1, 姓名=name)], encoding="gb18030"))

    assert_clean(report, 1)
    assert report.rows[0]["name"] == name


def test_a_semicolon_or_tab_separated_csv_is_read(rworld):
    assert_clean(check(rworld, f.csv_bytes(f.rows(rworld, 2), delimiter="\t")), 2)
    assert_clean(check(rworld, f.csv_bytes(f.rows(rworld, 2), delimiter=";")), 2)


def test_headers_are_matched_by_name_in_any_order_with_hints_and_asterisks(rworld):
    headers = list(reversed(f.HEADERS))
    written = [("*" + h if h == "姓名" else h + "（年-月-日）" if h == "试用开始日期" else h) for h in headers]
    record = f.row(rworld, 1)
    data = f.xlsx([[record[h] for h in headers]], headers=written)

    assert_clean(check(rworld, data), 1)


def test_merged_title_and_group_header_cells_above_the_headers_are_understood(rworld):
    above = [
        ["武汉市武昌医院2027年试用期考核名单"] + [None] * (len(f.HEADERS) - 1),
        ["学员信息"] + [None] * 8 + ["试用期信息"] + [None] * (len(f.HEADERS) - 10),
    ]
    last = openpyxl.utils.get_column_letter(len(f.HEADERS))
    records = f.rows(rworld, 2)
    records[1]["性别"] = "女"
    data = f.xlsx(records, above=above, merges=[f"A1:{last}1", "A2:I2", f"J2:{last}2"])

    report = check(rworld, data)

    assert errors(report) == [(5, "性别", "The sex does not agree with the ID number.")]


def test_a_header_cell_merged_across_two_header_rows_is_found_and_data_starts_below_it(rworld):
    # Row 1: 姓名 merged down over rows 1-2 and a group title; row 2: the other headers.
    headers = f.HEADERS
    top = [None] * len(headers)
    top[headers.index("姓名")] = "姓名"
    top[0] = "证件"
    second = [None if h == "姓名" else h for h in headers]
    name_column = openpyxl.utils.get_column_letter(headers.index("姓名") + 1)
    record = f.row(rworld, 1)
    data = f.xlsx(
        [[record[h] for h in headers]], headers=second, above=[top], merges=[f"{name_column}1:{name_column}2"]
    )

    report = check(rworld, data)

    assert_clean(report, 1)
    assert report.rows[0]["row"] == 3


def test_extra_columns_are_ignored_and_named(rworld):
    headers = ["序号", *f.HEADERS, "联系电话"]
    records = [{"序号": 1, "联系电话": "13800000000", **f.row(rworld, 1)}]

    report = check(rworld, f.xlsx(records, headers=headers))

    assert_clean(report, 1)
    assert report.ignored_columns == ["序号", "联系电话"]


def test_empty_rows_are_skipped_and_row_numbers_stay_the_spreadsheets(rworld):
    records = [f.row(rworld, 1), {}, {"备注": "   "}, f.row(rworld, 2, 性别="女")]

    report = check(rworld, f.xlsx(records))

    assert report.total_rows == 2
    assert errors(report) == [(5, "性别", "The sex does not agree with the ID number.")]


def test_a_missing_required_column_is_reported_by_name(rworld):
    headers = [h for h in f.HEADERS if h not in ("带教老师执业证书编码", "试用开始日期")]

    report = check(rworld, f.xlsx(f.rows(rworld, 1), headers=headers))

    assert report.file_errors == [
        "Required columns are missing: 带教老师执业证书编码、试用开始日期. Start from the template to get every column."
    ]
    assert report.errors == []


def test_a_column_given_twice_is_refused(rworld):
    report = check(rworld, f.xlsx([], headers=[*f.HEADERS, "身份证号"]))

    assert report.file_errors == ["The column 身份证号 appears twice. Keep one of them."]


def test_an_optional_column_may_be_left_out(rworld):
    headers = [h for h in f.HEADERS if h not in ("证件类型", "应届毕业生", "备注", "工作及培训内容")]

    assert_clean(check(rworld, f.xlsx(f.rows(rworld, 1), headers=headers)), 1)


def test_a_file_over_the_size_limit_is_refused(rworld, settings):
    settings.IMPORT_MAX_BYTES = 1024

    report = check(rworld, f.xlsx(f.rows(rworld, 20)))

    assert report.file_errors == ["The file is larger than 0.000976562 MB. Split it into smaller files."]


def test_a_file_over_the_row_limit_is_refused(rworld, settings):
    settings.IMPORT_MAX_ROWS = 3

    report = check(rworld, f.csv_bytes(f.rows(rworld, 4)))

    assert report.file_errors == ["The file has more than 3 rows. Split it into files of at most 3 rows."]


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"<html><body><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table></body></html>",
        b"\x00\x01\x02\x03binary",
    ],
    ids=["png", "pdf", "html", "binary"],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_by_its_content(rworld, content):
    report = check(rworld, content)

    assert report.file_errors == ["This file is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file."]


def test_a_zip_that_is_not_a_workbook_is_refused(rworld):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    assert check(rworld, buffer.getvalue()).file_errors == [
        "This file is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file."
    ]


def test_an_old_xls_workbook_is_refused_with_what_to_do(rworld):
    report = check(rworld, imports.OLE2_MAGIC + b"\x00" * 512)

    assert report.file_errors == [
        "This is an old Excel 97-2003 (.xls) file. Open it in Excel or WPS, save it as an Excel workbook (.xlsx) "
        "and upload that."
    ]


def test_an_empty_file_is_refused(rworld):
    assert check(rworld, b"  \r\n").file_errors == ["The file is empty."]


def test_a_damaged_workbook_is_refused(rworld):
    data = f.xlsx(f.rows(rworld, 1))
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, b"garbage" if info.filename.startswith("xl/worksheets/") else source.read(info))

    assert check(rworld, buffer.getvalue()).file_errors == [
        "The workbook could not be read. Open it in Excel or WPS, save it again as .xlsx and upload that."
    ]


# --- kinds of cell -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    ["2024-07-01", "2024/7/1", "2024年7月1日", "2024.07.01", "2024.7.1", "20240701", "2024-07-01 00:00:00"],
)
def test_dates_written_as_text_are_read(rworld, written):
    report = check(rworld, f.csv_bytes([f.row(rworld, 1, 试用开始日期=written)]))

    assert_clean(report, 1)


@pytest.mark.parametrize("written", ["2024.07", "2024-07", "2024年7月", "2024/7"])
def test_a_month_without_a_day_is_refused_not_guessed(rworld, written):
    report = check(rworld, f.csv_bytes([f.row(rworld, 1, 试用开始日期=written)]))

    assert errors(report) == [
        (
            2,
            "试用开始日期",
            f"“{written}” gives only a year and a month. Probation is counted to the day: enter the full date, "
            "e.g. 2024-07-01.",
        )
    ]


def test_a_month_typed_into_excel_arrives_as_a_number_and_is_refused(rworld):
    report = check(rworld, f.xlsx([f.row(rworld, 1, 试用结束日期=2025.06)]))

    assert errors(report) == [
        (
            2,
            "试用结束日期",
            "“2025.06” gives only a year and a month. Probation is counted to the day: enter the full date, "
            "e.g. 2024-07-01.",
        )
    ]


def test_text_that_is_no_date_and_an_impossible_date_are_refused(rworld):
    records = [f.row(rworld, 1, 出生日期="九八年三月"), f.row(rworld, 2, 考核日期="2025-02-30")]

    report = check(rworld, f.csv_bytes(records))

    assert errors(report) == [
        (2, "出生日期", "“九八年三月” is not a date. Write dates as 2024-07-01, 2024/7/1 or 2024年7月1日."),
        (3, "考核日期", "“2025-02-30” is not a real date."),
    ]


def test_an_id_number_excel_turned_into_a_number_is_refused_with_what_to_do(rworld):
    number = f.resident_id(1)
    report = check(rworld, f.xlsx([f.row(rworld, 1, 证件号码=float(number))]))

    assert errors(report) == [
        (
            2,
            "证件号码",
            "Excel has turned this into a number (4.20106E+17) and digits may be lost. Format the column as text, "
            "type the numbers again and upload the file again.",
        )
    ]


def test_an_id_number_saved_by_excel_in_scientific_notation_in_a_csv_is_refused(rworld):
    report = check(rworld, f.csv_bytes([f.row(rworld, 1, 证件号码="4.20106E+17")]))

    assert errors(report) == [
        (
            2,
            "证件号码",
            "Excel has turned this into a number (4.20106E+17) and digits may be lost. Format the column as text, "
            "type the numbers again and upload the file again.",
        )
    ]


def test_an_id_number_kept_as_text_with_an_equals_sign_in_a_csv_is_read(rworld):
    report = check(rworld, f.csv_bytes([f.row(rworld, 1, 证件号码=f'="{f.resident_id(1)}"')]))

    assert_clean(report, 1)


def test_a_licence_number_excel_kept_whole_as_a_number_is_accepted(rworld):
    assert_clean(check(rworld, f.xlsx([f.row(rworld, 1, 带教老师执业证书编码=110420100001234)])), 1)


def test_trailing_spaces_are_removed(rworld):
    record = f.row(rworld, 1, 姓名=" 张三  ", 证件号码=f.resident_id(1) + "  ", 性别="男 ", 报考类别=" 110\t")

    report = check(rworld, f.csv_bytes([record]))

    assert_clean(report, 1)
    assert report.rows[0]["name"] == "张三"


def test_full_width_digits_letters_and_spaces_are_read(rworld):
    full_width = str.maketrans("0123456789-./X", "０１２３４５６７８９－．／Ｘ")
    record = f.row(
        rworld,
        1,
        证件号码=f.resident_id(1).translate(full_width),
        试用开始日期="2024-07-01".translate(full_width),
        考核日期="2025/7/5".translate(full_width),
        考试年度=str(rworld.year.year).translate(full_width),
        报考类别="１１０",
        带教老师执业证书编码="１１０４２０１０００\u3000０１２３４",
    )

    assert_clean(check(rworld, f.csv_bytes([record])), 1)


def test_full_width_and_spaced_headers_are_matched(rworld):
    headers = [h.replace("证件号码", "证件 号码").replace("姓名", "姓　名") for h in f.HEADERS]
    records = [[f.row(rworld, 1)[h] for h in f.HEADERS]]

    assert_clean(check(rworld, f.xlsx(records, headers=headers)), 1)


def test_categories_are_read_by_code_name_or_both(rworld):
    records = [
        f.row(rworld, 1, 报考类别="110"),
        f.row(rworld, 2, 报考类别="临床执业医师"),
        f.row(rworld, 3, 报考类别="110 临床执业医师"),
        f.row(rworld, 4, 报考类别="999"),
    ]

    report = check(rworld, f.csv_bytes(records))

    assert errors(report) == [
        (5, "报考类别", "Unknown exam category “999”. Use a code from the template's second sheet, e.g. 110.")
    ]


def test_a_value_outside_the_allowed_list_names_the_allowed_values(rworld):
    report = check(rworld, f.csv_bytes([f.row(rworld, 1, 考核结果="优秀", 性别="M", 应届毕业生="也许")]))

    assert errors(report) == [
        (2, "应届毕业生", "“也许” is not one of: 是、否."),
        (2, "考核结果", "“优秀” is not one of: 考核中、合格、不合格."),
    ]


def test_only_the_current_exam_year_can_be_imported(rworld):
    report = check(rworld, f.csv_bytes([f.row(rworld, 1, 考试年度=rworld.year.year - 1)]))

    assert errors(report) == [
        (2, "考试年度", f"Records can only be imported for the current exam year, {rworld.year.year}.")
    ]


# --- the record form's rules, row by row ---------------------------------------------------------------------


def test_the_record_forms_rules_apply_to_every_row_with_its_column(rworld):
    records = [
        f.row(rworld, 1, 性别="女"),
        f.row(rworld, 2, 出生日期=datetime.date(1998, 3, 2)),
        f.row(rworld, 3, 证件号码=wrong_check_character(f.resident_id(3))),
        f.row(rworld, 4, 试用结束日期=datetime.date(2024, 6, 1)),
        f.row(rworld, 5, 试用结束日期=None),
        f.row(rworld, 6, 姓名=""),
    ]

    report = check(rworld, f.xlsx(records))

    assert errors(report) == [
        (2, "性别", "The sex does not agree with the ID number."),
        (3, "出生日期", "The birth date does not agree with the ID number."),
        (4, "证件号码", "The check character (last character) of the ID number is wrong."),
        (5, "试用结束日期", "The end date must be after the start date."),
        (5, "试用结束日期", "An assessed probation needs its end date."),  # the web form says both too
        (6, "试用结束日期", "An assessed probation needs its end date."),
        (7, "姓名", "This field is required."),
    ]


def test_the_same_person_twice_in_one_file_is_refused_on_the_later_row(rworld):
    records = [f.row(rworld, 1), f.row(rworld, 2), f.row(rworld, 1, 证件号码=f.resident_id(1).lower())]

    report = check(rworld, f.xlsx(records))

    assert errors(report) == [(4, "证件号码", "This person is already in row 2 of this file for the same exam year.")]


def test_an_overlap_with_another_institutions_record_is_refused_and_logged(rworld):
    world = rworld.world
    person = make_person(1, name="学员1")
    make_record(person, world.hongshan_centre, rworld.year, rworld.clinical, "2024-09-01", "2025-08-31")

    report = check(rworld, f.xlsx(f.rows(rworld, 2)))

    assert errors(report) == [
        (
            2,
            "试用开始日期",
            "This person is already in probation at another institution during this period. "
            "Please contact 洪山区, the exam management office supervising that institution.",
        )
    ]
    attempt = OverlapAttempt.objects.get()
    assert (attempt.institution, attempt.attempted_by) == (world.wuchang_hospital, world.staff)


def test_a_known_person_under_another_name_is_refused(rworld):
    make_person(1, name="李四")

    report = check(rworld, f.xlsx(f.rows(rworld, 1)))

    assert errors(report) == [
        (2, "姓名", "This ID number is registered under another name. Check the ID number and the name.")
    ]


def test_text_excel_would_run_as_a_formula_comes_back_without_the_apostrophe(rworld):
    report = check(rworld, f.csv_bytes([f.row(rworld, 1, 备注="'=1+1")]))

    assert_clean(report, 1)


def test_bom_and_gbk_detection_does_not_depend_on_the_file_name(rworld):
    data = codecs.BOM_UTF8 + f.csv_text(f.rows(rworld, 1)).encode("utf-8")

    assert_clean(check(rworld, data), 1)
