"""Benchmark of the spreadsheet import: files of 10,000 and 50,000 rows, dry run and import, against bulk_create.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hbwsrc .venv/bin/python bench/import.py [--rows 10000 50000]

Works in its own scratch database (<name>_bench, created with the migrations and dropped afterwards). For each size
it builds an xlsx file of that many new trainees for one hospital, then, in a fresh process so that peak memory
is that size's own:

1. a plain ``bulk_create`` of the same persons and records (rolled back): the floor any import is compared to;
2. the dry run (``imports.check_file``): every row read, converted and validated by the record form;
3. the import (``imports.import_file``): every row validated again and saved, in one transaction;
4. the same file imported a second time: every row validated again and found unchanged, nothing written (checked:
   same records, same ``updated_at``, no new history event).

It prints rows per second, the ratio to bulk_create and the peak resident memory of the process.
Targets: 10,000 rows validated and imported in under 30 s; peak memory under 500 MB for 50,000 rows.
"""

import argparse
import datetime
import io
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hbwsrc.settings")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from pghistory.models import Events  # noqa: E402

from hbwsrc import identifiers  # noqa: E402
from trainees import imports  # noqa: E402
from trainees.models import Person, ProbationRecord  # noqa: E402
from trainees.resources import RecordImportResource  # noqa: E402

FIRST_BIRTH = datetime.date(1990, 1, 1)
PER_DAY = 400  # sequence numbers used per birth date
BATCH = RecordImportResource._meta.batch_size  # rows per INSERT, as the import writes them


def person(serial: int) -> tuple:
    """(ID number, sex, birth date) of the serial-th trainee: unique, valid, consistent."""
    birth = FIRST_BIRTH + datetime.timedelta(days=serial // PER_DAY)
    sequence = serial % PER_DAY * 2 + 1  # odd: male
    first17 = f"420106{birth:%Y%m%d}{sequence:03d}"
    return first17 + identifiers.resident_id_check_character(first17), "M", birth


def build_xlsx(year: int, first: int, count: int) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("试用期考核记录")
    sheet.append([column.header for column in imports.template_columns()])
    start, end, assessed = datetime.date(2024, 7, 1), datetime.date(2025, 6, 30), datetime.date(2025, 7, 5)
    for serial in range(first, first + count):
        number, _sex, birth = person(serial)
        sheet.append(
            [
                "居民身份证",
                number,
                f"学员{serial}",
                "男",
                birth,
                "本科",
                "武汉大学",
                "临床医学",
                datetime.date(2024, 6, 30),
                year,
                "110",
                "否",
                "内科、外科、儿科",
                "病史采集、体格检查",
                "李医生",
                "110420100001234",
                start,
                end,
                "合格",
                assessed,
                "王主任",
                "",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bulk_baseline(world, first: int, count: int) -> float:
    """bulk_create of the same persons and records in the import's batches, timed, then rolled back."""
    institution, user, year, category = world.world.wuchang_hospital, world.world.staff, world.year, world.clinical
    started = time.perf_counter()
    with transaction.atomic():
        persons = []
        for serial in range(first, first + count):
            number, sex, birth = person(serial)
            persons.append(
                Person(
                    id_number=number,
                    name=f"学员{serial}",
                    sex=sex,
                    birth_date=birth,
                    education="bachelor",
                    school="武汉大学",
                    major="临床医学",
                    graduation_date=datetime.date(2024, 6, 30),
                )
            )
        persons = Person.objects.bulk_create(persons, batch_size=BATCH)
        ProbationRecord.objects.bulk_create(
            [
                ProbationRecord(
                    person=p,
                    institution=institution,
                    exam_year=year,
                    category=category,
                    departments="内科、外科、儿科",
                    content="病史采集、体格检查",
                    supervisor_name="李医生",
                    supervisor_licence="110420100001234",
                    start_date=datetime.date(2024, 7, 1),
                    end_date=datetime.date(2025, 6, 30),
                    result="passed",
                    assessed_on=datetime.date(2025, 7, 5),
                    assessor="王主任",
                    created_by=user,
                )
                for p in persons
            ],
            batch_size=BATCH,
        )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def run_size(world, first: int, count: int, queue) -> None:
    connections.close_all()  # a fresh connection in this process
    institution, user = world.world.wuchang_hospital, world.world.staff
    started = time.perf_counter()
    data = build_xlsx(world.year.year, first, count)
    built = time.perf_counter() - started
    bulk = bulk_baseline(world, first, count)
    cpu = time.process_time()
    dry = imports.check_file(data, institution=institution, user=user)
    dry_cpu, cpu = time.process_time() - cpu, time.process_time()
    assert dry.ok and dry.counts[imports.NEW] == count, (dry.file_errors, dry.errors[:5])
    done = imports.import_file(data, institution=institution, user=user)
    import_cpu = time.process_time() - cpu
    assert done.imported and done.counts[imports.NEW] == count, (done.file_errors, done.errors[:5])
    records = ProbationRecord.objects.filter(institution=institution)
    assert records.count() >= count
    before = (records.aggregate(Count("pk"), Max("updated_at")), Events.objects.count())
    again = imports.import_file(data, institution=institution, user=user)
    assert again.imported and again.counts[imports.UNCHANGED] == count, (again.counts, again.errors[:5])
    assert (records.aggregate(Count("pk"), Max("updated_at")), Events.objects.count()) == before, "re-import wrote"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    queue.put(
        {
            "rows": count,
            "file_mb": len(data) / 1024 / 1024,
            "build": built,
            "bulk": bulk,
            "dry": dry.seconds,
            "import": done.seconds,
            "reimport": again.seconds,
            "dry_cpu": dry_cpu,
            "import_cpu": import_cpu,
            "peak_mb": peak,
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 50_000])
    args = parser.parse_args()

    settings.DEBUG = False
    settings.IMPORT_MAX_ROWS = max(args.rows)
    settings.IMPORT_MAX_BYTES = 200 * 1024 * 1024
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    database = settings.DATABASES["default"]
    database["TEST"]["NAME"] = f"{database['NAME']}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from tests.world import RecordsWorld, World

        world = RecordsWorld.build(World.build())
        connections.close_all()
        context = multiprocessing.get_context("fork")
        results, first = [], 0
        for count in args.rows:
            queue = context.Queue()
            process = context.Process(target=run_size, args=(world, first, count, queue))
            process.start()
            results.append(queue.get())
            process.join()
            if process.exitcode:
                raise SystemExit(f"the {count}-row run failed")
            first += count
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(database["NAME"], verbosity=0)

    print(f"cores: {os.cpu_count()}, load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = (
        f"{'rows':>7} {'file MB':>8} {'bulk s':>7} {'dry s':>7} {'dry r/s':>8} {'import s':>9} {'imp r/s':>8} "
        f"{'dry+imp s':>10} {'imp/bulk':>9} {'reimp s':>8} {'peak MB':>8} {'py cpu s (dry/imp)':>19}"
    )
    print(header)
    for r in results:
        print(
            f"{r['rows']:>7} {r['file_mb']:>8.1f} {r['bulk']:>7.2f} {r['dry']:>7.2f} {r['rows'] / r['dry']:>8.0f} "
            f"{r['import']:>9.2f} {r['rows'] / r['import']:>8.0f} {r['dry'] + r['import']:>10.2f} "
            f"{r['import'] / r['bulk']:>9.1f} {r['reimport']:>8.2f} {r['peak_mb']:>8.0f} "
            f"{r['dry_cpu']:>9.1f}/{r['import_cpu']:<9.1f}"
        )
    for r in results:
        if r["rows"] == 10_000:
            verdict = "met" if r["import"] < 30 else "NOT met"
            print(f"target 10,000 rows validated and imported < 30 s: {r['import']:.1f} s ({verdict})")
        if r["rows"] == 50_000:
            verdict = "met" if r["peak_mb"] < 500 else "NOT met"
            print(f"target peak memory < 500 MB for 50,000 rows: {r['peak_mb']:.0f} MB ({verdict})")


if __name__ == "__main__":
    main()
