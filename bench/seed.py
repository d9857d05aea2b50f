"""Province-scale data for benchmarks: one region, 17 prefectures, ~100 counties, 5,000 institutions, 60,000
persons with 180,000 probation records in the current exam year, and rosters in every state.

The rows are written with COPY (persons, records) and bulk_create (the rest), so a full province takes a minute
rather than an hour. Identifiers are valid (ID numbers and USCCs carry correct check characters) and every database
constraint holds: each person's periods follow one another at distinct institutions, so the anti-挂靠 exclusion
constraint accepts them. The history triggers fire as they would in production.

Reusable: ``seed(institutions=..., persons=...)`` from a management command or a script (see bench/dashboard.py).
Run it only against an empty, migrated database of its own.
"""

import datetime
import random
import secrets
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import User
from hbwsrc import identifiers
from institutions.management.commands.seed_demo import PREFECTURES
from institutions.models import Institution, Office, Region
from institutions.scope import OFFICE_PERMISSIONS
from reports.dashboard import rebuild_eligible
from reports.models import VERIFICATION_ALPHABET, Roster
from trainees.models import ExamCategory, ExamYear, Person, ProbationRecord

REGION_USERNAME = "bench_region"
PASSWORD = "Bench-Region-2026"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
SCHOOLS = ["武汉大学", "华中科技大学", "湖北医药学院", "湖北中医药大学", "长江大学", "三峡大学"]
ROSTER_MIX = [  # (share of institutions with records, latest roster state)
    (0.22, None),
    (0.10, Roster.Status.FINALISED),
    (0.33, Roster.Status.SUBMITTED),
    (0.28, Roster.Status.ACCEPTED),
    (0.07, Roster.Status.RETURNED),
]


@dataclass
class Seeded:
    region: Region
    root: Office
    exam_year: ExamYear
    user: User
    institutions: int
    persons: int
    records: int
    rosters: int


def _uscc(serial: int, division: str) -> str:
    organisation = f"{serial:08d}"
    first17 = "12" + division + organisation + identifiers.organisation_code_check_character(organisation)
    return first17 + identifiers.uscc_check_character(first17)


def _resident_id(index: int, rng: random.Random) -> tuple[str, datetime.date, str]:
    """Unique per index: the birth date walks 3,650 days, the sequence number counts the laps."""
    birth = datetime.date(1990, 1, 1) + datetime.timedelta(days=index % 3650)
    sequence = index // 3650 * 2 + rng.randint(0, 1)
    first17 = f"420106{birth:%Y%m%d}{sequence:03d}"
    return first17 + identifiers.resident_id_check_character(first17), birth, "M" if sequence % 2 else "F"


def _verification_code() -> str:
    raw = "".join(secrets.choice(VERIFICATION_ALPHABET) for _position in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _offices(region, counties: int) -> tuple[Office, list[Office]]:
    """The region office, its 17 prefectures and ``counties`` county offices spread over them."""
    root = Office.objects.create(region=region, name=region.name, kind=Office.Kind.REGION, division_code="420000")
    prefectures = [
        Office.objects.create(region=region, parent=root, name=name, kind=kind, division_code=code)
        for code, name, kind in PREFECTURES
    ]
    leaves = list(prefectures)
    for n in range(counties):
        prefecture = prefectures[n % len(prefectures)]
        number = n // len(prefectures) + 1
        leaves.append(
            Office.objects.create(
                region=region,
                parent=prefecture,
                name=f"{prefecture.name}第{number}区",
                kind=Office.Kind.COUNTY,
                division_code="",  # like a development zone: a county-level office without a code of its own
            )
        )
    return root, leaves


def _institutions(region, root, leaves, count: int, rng: random.Random) -> list[Institution]:
    """About 1% directly under the region office (部省属), the rest over prefectures and counties."""
    rows = []
    for serial in range(1, count + 1):
        office = root if serial % 100 == 0 else leaves[rng.randrange(len(leaves))]
        institution = Institution(
            region=region,
            office=office,
            path=office.path,
            name=f"{office.name}第{serial}医疗机构",
            contact_person=rng.choice(SURNAMES) + "主任",
            contact_phone=f"0{rng.randint(710, 728)}-{rng.randint(10000000, 99999999)}",
        )
        if rng.random() < 0.85:  # most profiles are complete
            division = office.division_code or "420000"
            institution.uscc = _uscc(serial, division)
            institution.licence_number = f"{serial:08d}{division}11A1001"[:22]
            institution.licence_valid_until = datetime.date(2030, 12, 31)
            institution.category, institution.category_code = "A", "A100"
            institution.level, institution.grade = "2", "A"
            institution.ownership, institution.profit_status = "public", "non_profit"
            institution.address = f"湖北省{office.name}健康路{serial}号"
            institution.head_name = rng.choice(SURNAMES) + "院长"
            institution.departments = ["内科", "外科", "妇产科", "儿科", "口腔科", "中医科"]
        rows.append(institution)
    return Institution.objects.bulk_create(rows, batch_size=1000)


def _exam_years(region, today, years: int) -> list[ExamYear]:
    """``years`` exam years, the newest current: its entry has run for 60 days and its filing window closed
    yesterday (so late filers exist); the older ones are over."""
    current = today.year + 1
    made = []
    for year in range(current - years + 1, current + 1):
        is_current = year == current
        shift = datetime.timedelta(days=365 * (current - year))
        made.append(
            ExamYear.objects.create(
                region=region,
                year=year,
                cutoff=ExamYear.default_cutoff(year),
                entry_opens=today - datetime.timedelta(days=60) - shift,
                entry_closes=today + datetime.timedelta(days=30) - shift,
                filing_opens=today - datetime.timedelta(days=21) - shift,
                filing_closes=today - datetime.timedelta(days=1) - shift,
                is_current=is_current,
            )
        )
    return made


@contextmanager
def _row_triggers_off():
    """Bulk loads skip row triggers (session_replication_role = replica; needs a superuser role).

    Each django-pghistory trigger call opens subtransactions; a hundred thousand of them in one transaction make
    every later row check slower (the subtransaction cache overflows), so the load would take an hour. Constraints
    and indexes are not triggers and still hold; the history events are written in bulk afterwards
    (``_history_events``), so are the dashboard's eligible persons (``rebuild_eligible``), and the generated
    foreign keys are right by construction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield
        finally:
            cursor.execute("SET LOCAL session_replication_role = origin")


def _history_events(*tracked_models) -> None:
    """The "insert" events the pghistory triggers would have written, one INSERT ... SELECT per model."""
    events = {m.pgh_tracked_model: m for m in apps.get_models() if hasattr(m, "pgh_tracked_model")}
    with connection.cursor() as cursor:
        for model in tracked_models:
            event = events[model]
            columns = ", ".join(f'"{f.column}"' for f in event._meta.concrete_fields if not f.name.startswith("pgh_"))
            cursor.execute(
                f"""INSERT INTO "{event._meta.db_table}" ({columns}, pgh_created_at, pgh_label, pgh_obj_id)
                    SELECT {columns}, now(), 'insert', id FROM "{model._meta.db_table}" """
            )


def _copy(table: str, columns: list[str], rows) -> None:
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _persons(count: int, first_index: int, rng: random.Random, now) -> list[int]:
    columns = ["public_id", "id_type", "id_number", "name", "sex", "birth_date", "education", "school", "major"]
    columns += ["graduation_date", "created_at"]

    def rows():
        for index in range(first_index, first_index + count):
            number, birth, sex = _resident_id(index, rng)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            graduation = datetime.date(birth.year + 23, 6, 30)
            school = rng.choice(SCHOOLS)
            yield (uuid.uuid4(), "resident", number, name, sex, birth, "bachelor", school, "临床医学", graduation, now)

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM trainees_person")
        last = cursor.fetchone()[0]
        _copy("trainees_person", columns, rows())
        cursor.execute("SELECT id FROM trainees_person WHERE id > %s ORDER BY id", [last])
        return [row[0] for row in cursor.fetchall()]


def _records(person_ids, institution_ids, exam_year, records: int, rng: random.Random) -> int:
    """One year's records: each person serves about a year, most at one institution; ``records - persons`` of
    them split it into two consecutive periods at distinct institutions. Most pass; in the current year some are
    still under assessment, a few failed or fall short of a year. Entry dates spread over the entry period so far;
    one person in a hundred also has a withdrawn record (a mistaken entry at another institution)."""
    categories = dict(ExamCategory.objects.filter(code__in=["110", "120", "141"]).values_list("code", "pk"))
    last_entry_day = min(timezone.localdate(), exam_year.entry_closes)
    entry_days = max((last_entry_day - exam_year.entry_opens).days, 1)
    weights = [rng.paretovariate(1.5) for _institution in institution_ids]  # a few large teaching hospitals
    split = set(rng.sample(range(len(person_ids)), max(records - len(person_ids), 0)))
    columns = [
        "public_id", "person_id", "institution_id", "exam_year_id", "category_id", "is_fresh_graduate",
        "departments", "content", "supervisor_name", "supervisor_licence", "start_date", "end_date", "result",
        "assessed_on", "assessor", "remarks", "created_at", "updated_at", "withdrawn_at", "withdrawal_reason",
        "region_id",  # written by the load: the trigger that copies the institution's is off (one region here)
    ]  # fmt: skip
    written = 0

    def entered():
        day = exam_year.entry_opens + datetime.timedelta(days=rng.randrange(entry_days))
        moment = datetime.time(8 + rng.randrange(10), rng.randrange(60))
        return timezone.make_aware(datetime.datetime.combine(day, moment))

    def rows():
        nonlocal written
        chosen = iter(rng.choices(institution_ids, weights=weights, k=len(person_ids) * 3))
        for index, person_id in enumerate(person_ids):
            picks = [next(chosen)]
            if index in split:
                picks.append(next(candidate for candidate in chosen if candidate != picks[0]))
            roll = rng.random()
            code = "110" if roll < 0.85 else ("120" if roll < 0.95 else "141")
            start = datetime.date(exam_year.year - 1, 7, 1) + datetime.timedelta(days=rng.randrange(60))
            full_end = start + datetime.timedelta(days=364 + rng.choice([0] * 9 + [-30]))  # some fall short
            length = (full_end - start).days // len(picks)
            outcome = rng.random()
            for position, institution_id in enumerate(picks):
                period_start = start + datetime.timedelta(days=position * length)
                last = position == len(picks) - 1
                end = full_end if last else period_start + datetime.timedelta(days=length - 1)
                result = "passed"
                if last and outcome < 0.12 and exam_year.is_current:
                    result, end = "in_progress", None
                elif position == 0 and outcome > 0.97:
                    result = "failed"
                at = entered()
                written += 1
                yield (
                    uuid.uuid4(), person_id, institution_id, exam_year.pk, categories[code], result == "in_progress",
                    "内科、外科、儿科", "", "赵医生", f"1104201{rng.randrange(10**8):08d}", period_start, end, result,
                    end if result != "in_progress" else None, "医务科" if result != "in_progress" else "", "",
                    at, at, None, "", exam_year.region_id,
                )  # fmt: skip
            if outcome < 0.01:  # a mistaken entry at another institution, withdrawn
                at = entered()
                written += 1
                other = next(candidate for candidate in chosen if candidate not in picks)
                yield (
                    uuid.uuid4(), person_id, other, exam_year.pk, categories[code], False, "内科", "", "赵医生",
                    "110420100000000", start, full_end, "in_progress", None, "", "", at, at, at, "录入错误",
                    exam_year.region_id,
                )  # fmt: skip

    _copy("trainees_probationrecord", columns, rows())
    return written


def _rosters(institutions, exam_year, user, rng: random.Random) -> int:
    """A roster for each institution with records. In the current year the latest one's state follows ROSTER_MIX;
    some were discarded first (an earlier, cancelled version) and some submitted after the window closed. Past
    years were all filed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT institution_id FROM trainees_probationrecord WHERE exam_year_id = %s", [exam_year.pk]
        )
        with_records = {row[0] for row in cursor.fetchall()}
    closes = timezone.make_aware(datetime.datetime.combine(exam_year.filing_closes, datetime.time(12)))
    rows = []
    for institution in institutions:
        if institution.pk not in with_records:
            continue
        roll, status = rng.random(), None if exam_year.is_current else Roster.Status.ACCEPTED
        for share, candidate in ROSTER_MIX if exam_year.is_current else ():
            if roll < share:
                status = candidate
                break
            roll -= share
        if status is None:
            continue
        versions = [Roster.Status.CANCELLED, status] if rng.random() < 0.1 and exam_year.is_current else [status]
        for version, version_status in enumerate(versions, start=1):
            roster = Roster(
                institution=institution,
                exam_year=exam_year,
                version=version,
                status=version_status,
                verification_code=_verification_code(),
                row_count=rng.randint(1, 80),
                institution_name=institution.name,
                institution_uscc=institution.uscc,
                institution_licence=institution.licence_number,
                institution_head=institution.head_name,
                office_name=institution.office.name,
                finalised_by=user,
                pdf_state=Roster.PdfState.READY,
            )
            if version_status in (Roster.Status.SUBMITTED, Roster.Status.ACCEPTED, Roster.Status.RETURNED):
                late = rng.random() < 0.05 and exam_year.is_current
                roster.submitted_at = closes + datetime.timedelta(days=1 if late else -rng.randint(1, 20))
                roster.submitted_by = user
            if version_status in (Roster.Status.ACCEPTED, Roster.Status.RETURNED):
                roster.decided_at, roster.decided_by = roster.submitted_at, user
            if version_status == Roster.Status.RETURNED:
                roster.return_reason = "盖章不清晰"
            rows.append(roster)
    Roster.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def seed(
    *,
    institutions=5000,
    persons_per_year=55000,
    records_per_year=60000,
    years=3,
    counties=100,
    seed_value=2026,
    log=None,
) -> Seeded:
    """Fill an empty database with one province (``years`` exam years of records); return what was made."""
    say = log or (lambda _text: None)
    if Region.objects.exists():
        raise RuntimeError("seed() expects an empty database")
    rng = random.Random(seed_value)
    today = timezone.localdate()
    persons = records = rosters = 0
    with transaction.atomic():
        region = Region.objects.create(name="湖北考区", division_code="420000")
        root, leaves = _offices(region, counties)
        user = User(username=REGION_USERNAME, office=root, full_name="考区基准测试")
        user.set_password(PASSWORD)
        user.save()
        for perm in OFFICE_PERMISSIONS:
            assign_perm(perm, user, root)
        exam_years = _exam_years(region, today, years)
        with _row_triggers_off():
            made = _institutions(region, root, leaves, institutions, rng)
            say(f"{len(leaves) + 1} offices, {len(made)} institutions")
            for exam_year in exam_years:
                person_ids = _persons(persons_per_year, persons, rng, timezone.now())
                persons += len(person_ids)
                written = _records(person_ids, [i.pk for i in made], exam_year, records_per_year, rng)
                records += written
                say(f"{exam_year.year}: {len(person_ids)} persons, {written} probation records")
        _history_events(Institution, Person, ProbationRecord)
        with connection.cursor() as cursor:
            # Statistics first: planned over tables it believes empty, the rebuild's eligibility query ran for
            # more than fifteen minutes instead of seconds.
            cursor.execute("ANALYZE")
        rebuild_eligible(exam_years)  # what the records' triggers would have kept up to date
        for exam_year in exam_years:
            rosters += _rosters(made, exam_year, user, rng)
        say(f"{rosters} rosters")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return Seeded(region, root, exam_years[-1], user, len(made), persons, records, rosters)
