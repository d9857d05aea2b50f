"""python manage.py import_records: the same dry run and import for operations, all or nothing."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from accounts.models import AuditEvent
from tests import import_files as f
from trainees.models import ProbationRecord


@pytest.fixture(autouse=True)
def english():
    with translation.override(None):
        yield


@pytest.fixture
def file_of(tmp_path):
    def write(data: bytes, name="records.xlsx"):
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


def command(*args):
    out = io.StringIO()
    try:
        call_command("import_records", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_bad_rows_are_printed_and_nothing_is_imported(rworld, file_of):
    records = f.rows(rworld, 4)
    records[1]["性别"] = "女"
    records[3]["证件号码"] = "4.20106E+17"
    path = file_of(f.csv_bytes(records), "records.csv")

    out, error = command("--institution", rworld.world.wuchang_hospital.uscc, path)

    assert out.splitlines()[:2] == [
        "row 3, 性别: The sex does not agree with the ID number.",
        "row 5, 证件号码: Excel has turned this into a number (4.20106E+17) and digits may be lost. Format the "
        "column as text, type the numbers again and upload the file again.",
    ]
    assert "4 rows: 2 new, 0 changed, 0 unchanged, 0 skipped, 2 with errors" in out
    assert str(error) == "2 of 4 rows have errors; nothing was imported"  # exit status 1 from manage.py
    assert ProbationRecord.objects.count() == 0


def test_a_dry_run_checks_and_imports_nothing(rworld, file_of):
    out, error = command(
        "--institution", rworld.world.wuchang_hospital.uscc, file_of(f.xlsx(f.rows(rworld, 2))), "--dry-run"
    )

    assert error is None
    assert out.splitlines()[-2:] == [
        "2 rows: 2 new, 0 changed, 0 unchanged, 0 skipped, 0 with errors",
        "dry run: nothing imported",
    ]
    assert ProbationRecord.objects.count() == 0


@pytest.mark.parametrize("code", ["uscc", "public_id", "lowercase_uscc"])
def test_a_clean_file_is_imported_for_the_institution_named_by_code_or_public_id(rworld, file_of, code):
    world = rworld.world
    institution = world.wuchang_hospital
    value = {
        "uscc": institution.uscc,
        "public_id": str(institution.public_id),
        "lowercase_uscc": institution.uscc.lower(),
    }[code]

    out, error = command("--institution", value, file_of(f.xlsx(f.rows(rworld, 2))))

    assert error is None, out
    assert "imported in" in out and "2 new" in out
    assert (
        list(ProbationRecord.objects.values_list("institution", "created_by"))
        == [(institution.pk, world.master.pk)] * 2
    )
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.IMPORT).actor == world.master


def test_another_account_of_the_institution_may_be_named(rworld, file_of):
    world = rworld.world

    out, error = command(
        "--institution", world.wuchang_hospital.uscc, "--user", "wcyy_staff", file_of(f.xlsx(f.rows(rworld, 1)))
    )

    assert error is None, out
    assert ProbationRecord.objects.get().created_by == world.staff


def test_an_account_of_another_institution_cannot_import_into_this_one(rworld, file_of):
    world = rworld.world

    _out, error = command("--institution", world.wuchang_hospital.uscc, "--user", "hsz", file_of(f.xlsx([])))

    assert str(error) == "no active account hsz at 武汉市武昌医院"


def test_an_unknown_institution_is_refused(rworld, file_of):
    _out, error = command("--institution", "91110000600037341L", file_of(f.xlsx([])))

    assert str(error) == "no institution with the unified social credit code or public id 91110000600037341L"


def test_a_file_that_cannot_be_read_is_reported(rworld, file_of):
    out, error = command(
        "--institution", rworld.world.wuchang_hospital.uscc, file_of(b"\x89PNG\r\n\x1a\n\x00", "x.csv")
    )

    assert (
        out.splitlines()[0] == "file: This file is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file."
    )
    assert str(error) == "the file cannot be imported; nothing was imported"
