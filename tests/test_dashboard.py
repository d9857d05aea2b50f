"""The filing dashboard: its figures against counts computed here in Python from the models (and eligibility from
the trainees_eligibility view) over a generated data set, the table of eligible persons per institution that the
database keeps for it (after every kind of write, and under concurrent writes), its query budget, who may see which
office, the charts and the list of institutions yet to submit."""

import datetime
import random
from collections import Counter, defaultdict

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from bench.seed import seed
from institutions.models import Institution
from reports import dashboard
from reports.models import EligibleAtInstitution, Roster
from tests.record_helpers import FAILED, IN_PROGRESS, PASSED, ensure_categories, exam_year, make_person, make_record
from tests.test_record_constraints import run_concurrently
from tests.test_record_region import index_columns
from tests.world import RecordsWorld, World, complete_profile, make_account
from trainees.models import Eligibility, ExamYear, ProbationRecord

S = Roster.Status
D = datetime.date


def make_roster(institution, year, version, status, *, submitted_at=None, by) -> Roster:
    return Roster.objects.create(
        institution=institution,
        exam_year=year,
        version=version,
        status=status,
        institution_name=institution.name,
        institution_uscc=institution.uscc,
        institution_licence=institution.licence_number,
        institution_head=institution.head_name,
        office_name=institution.office.name,
        finalised_by=by,
        submitted_at=submitted_at,
        return_reason="盖章不清晰" if status == S.RETURNED else "",
    )


def generate(rworld, *, seed=2026, extra_institutions=8, persons=30):
    """Institutions under every office of Hubei (some with complete profiles), persons with one to three records
    at distinct institutions (in a row, never overlapping), every result, a leap-day start, withdrawn records,
    records of a past year and of Hunan, and rosters in every state (discarded versions, late submissions)."""
    rng = random.Random(seed)
    world, year = rworld.world, rworld.year
    offices = [world.hubei_office, world.wuhan, world.wuchang, world.hongshan, world.yichang]
    for n in range(extra_institutions):
        institution = Institution.objects.create(office=offices[n % len(offices)], name=f"生成机构{n}")
        if n % 3:
            complete_profile(institution, 100 + n)
    hubei = list(Institution.objects.filter(region=world.hubei).order_by("pk"))
    categories = [rworld.clinical, rworld.dental]
    past = exam_year(world.hubei, year.year - 1)
    cutoff = year.cutoff
    for serial in range(1, persons + 1):
        person = make_person(serial)
        category = categories[serial % 2]
        places = rng.sample(hubei, rng.choice([1, 1, 2, 3]))
        start = D(cutoff.year - 1, 7, 1) + datetime.timedelta(days=rng.randrange(60))
        if serial == 1:
            start = D(2024, 2, 29)  # a year from a leap day: 366 days (see the eligibility view)
        length = rng.choice([365, 366, 300, 400]) // len(places)
        for position, institution in enumerate(places):
            begin = start + datetime.timedelta(days=position * length)
            end = begin + datetime.timedelta(days=length - 1)
            last = position == len(places) - 1  # only the last period may still run (no end date)
            result = rng.choice([PASSED, PASSED, PASSED, FAILED, IN_PROGRESS] if last else [PASSED, PASSED, FAILED])
            make_record(person, institution, year, category, begin, None if result == IN_PROGRESS else end, result)
        if serial % 7 == 0:  # a mistaken entry elsewhere, withdrawn (written withdrawn: it overlaps)
            other = next(i for i in hubei if i not in places)
            end = start + datetime.timedelta(days=30)
            make_record(person, other, year, category, start, end, withdrawn_at=timezone.now(), withdrawal_reason="错")
        if serial % 5 == 0:  # last year's certificate: another year, not counted
            make_record(
                person,
                places[0],
                past,
                category,
                start - datetime.timedelta(days=400),
                start - datetime.timedelta(days=40),
            )
    leap = make_person(900)
    make_record(leap, world.provincial_hospital, year, rworld.clinical, "2024-02-29", "2025-02-27")  # one day short
    hunan_person = make_person(901)
    make_record(hunan_person, world.hunan_hospital, rworld.hunan_year, rworld.clinical, "2025-07-01", "2026-06-30")

    closes = timezone.make_aware(datetime.datetime.combine(year.filing_closes, datetime.time(12)))
    states = [None, S.FINALISED, S.SUBMITTED, S.ACCEPTED, S.RETURNED, "late", "discarded"]
    for index, institution in enumerate(hubei):
        state = states[index % len(states)]
        if state is None:
            continue
        if state == "discarded":
            make_roster(institution, year, 1, S.CANCELLED, by=world.master)
            make_roster(
                institution, year, 2, S.SUBMITTED, submitted_at=closes - datetime.timedelta(days=2), by=world.master
            )
        elif state == "late":
            make_roster(
                institution, year, 1, S.ACCEPTED, submitted_at=closes + datetime.timedelta(days=1), by=world.master
            )
        else:
            submitted = closes - datetime.timedelta(days=3) if state != S.FINALISED else None
            make_roster(institution, year, 1, state, submitted_at=submitted, by=world.master)
    make_roster(world.hunan_hospital, rworld.hunan_year, 1, S.SUBMITTED, submitted_at=closes, by=world.hunan_master)


def expected(office, year, today) -> dict:
    """Every dashboard figure of ``office``, computed from the models in Python: {row key: {figure: value}}."""
    institutions = [i for i in Institution.objects.select_related("office") if i.path.startswith(office.path)]

    def row_of(institution):
        if institution.office_id == office.pk:
            return ("institution", institution.pk)
        return ("office", int(institution.path[len(office.path) :].split("/")[0]))

    eligible_pairs = set(
        Eligibility.objects.filter(exam_year=year, status="eligible").values_list("person_id", "category_id")
    )
    records = [r for r in ProbationRecord.objects.filter(exam_year=year, withdrawn_at__isnull=True)]
    rows = defaultdict(lambda: defaultdict(int))
    eligible_persons, all_eligible = defaultdict(set), set()
    for institution in institutions:
        row = rows[row_of(institution)]
        row["institutions"] += 1
        row["profiles_complete"] += institution.profile_complete
        own = [r for r in records if r.institution_id == institution.pk]
        row["records"] += len(own)
        for record in own:
            if (record.person_id, record.category_id) in eligible_pairs:
                eligible_persons[row_of(institution)].add(record.person_id)
                all_eligible.add(record.person_id)
        rosters = [r for r in Roster.objects.filter(institution=institution, exam_year=year) if r.status != S.CANCELLED]
        latest = max(rosters, key=lambda r: r.version) if rosters else None
        status = latest.status if latest else None
        row[{None: "not_started"}.get(status, status)] += 1
        filed = status in (S.SUBMITTED, S.ACCEPTED)
        late_submission = filed and timezone.localdate(latest.submitted_at) > year.filing_closes
        missing = not filed and today > year.filing_closes and bool(own)
        row["late"] += late_submission or missing
    for key, persons in eligible_persons.items():
        rows[key]["eligible"] = len(persons)
    totals = defaultdict(int)
    for row in rows.values():
        for name, value in row.items():
            totals[name] += value
    totals["eligible"] = len(all_eligible)
    return {key: dict(row) for key, row in rows.items()} | {"totals": dict(totals)}


def figures(row) -> dict:
    names = ("institutions", "profiles_complete", "records", "eligible", "late", *dashboard.ROSTER_COLUMNS)
    return {name: getattr(row, name) for name in names if getattr(row, name)}


def actual(board) -> dict:
    rows = {("office" if row.is_office else "institution", row.node.pk): figures(row) for row in board.rows}
    return {key: value for key, value in rows.items() if value} | {"totals": figures(board.totals)}


def nonzero(table) -> dict:
    return {key: {n: v for n, v in row.items() if v} for key, row in table.items() if any(row.values())}


@pytest.fixture
def generated(rworld):
    generate(rworld)
    return rworld


@pytest.mark.parametrize("office_name", ["hubei_office", "wuhan", "wuchang", "yichang"])
def test_dashboard_figures_match_counts_computed_independently(generated, office_name):
    office = getattr(generated.world, office_name)
    today = timezone.localdate()
    board = dashboard.build(office, generated.year, today=today)
    assert actual(board) == nonzero(expected(office, generated.year, today))


def test_after_the_window_closes_institutions_with_records_that_have_not_submitted_are_late(generated):
    year = generated.year
    today = year.filing_closes + datetime.timedelta(days=1)
    board = dashboard.build(generated.world.hubei_office, year, today=today)
    figures_then = expected(generated.world.hubei_office, year, today)
    assert board.totals.late == figures_then["totals"]["late"]
    assert board.totals.late > dashboard.build(generated.world.hubei_office, year).totals.late
    assert board.window_closed


def test_eligible_persons_agree_with_the_eligibility_view_record_by_record(generated):
    """The dashboard's one-pass rule and the view agree (leap-day starts, gaps, caps at the cut-off, failures)."""
    year = generated.year
    view = set(Eligibility.objects.filter(exam_year=year, status="eligible").values_list("person_id", flat=True))
    region_persons = set(
        ProbationRecord.objects.filter(
            exam_year=year, withdrawn_at__isnull=True, institution__region=year.region
        ).values_list("person_id", flat=True)
    )
    board = dashboard.build(generated.world.hubei_office, year)
    assert board.totals.eligible == len(view & region_persons) > 0


def stored_eligible() -> set:
    """reports_eligible_at_institution as the triggers left it: {(person, exam year, institution, shared)}."""
    return set(EligibleAtInstitution.objects.values_list("person_id", "exam_year_id", "institution_id", "shared"))


def eligible_from_the_view() -> set:
    """The same rows derived here from the trainees_eligibility view and the active records."""
    pairs = set(Eligibility.objects.filter(status="eligible").values_list("person_id", "exam_year_id", "category_id"))
    rows = [
        (record.person_id, record.exam_year_id, record.institution_id)
        for record in ProbationRecord.objects.filter(withdrawn_at__isnull=True)
        if (record.person_id, record.exam_year_id, record.category_id) in pairs
    ]
    institutions = Counter((person, year) for person, year, _institution in rows)
    return {(person, year, institution, institutions[person, year] > 1) for person, year, institution in rows}


def test_stored_eligible_persons_follow_every_kind_of_write_and_agree_with_the_view(generated):
    world, year = generated.world, generated.year
    stored = stored_eligible()
    assert stored == eligible_from_the_view()
    assert any(shared for *_key, shared in stored) and any(not shared for *_key, shared in stored)
    history = [stored]

    def check():
        now = stored_eligible()
        assert now == eligible_from_the_view()
        assert now != history[-1]  # each write below changes who is eligible where
        history.append(now)

    # A person eligible by periods at several institutions, none a year long alone.
    person, _year, institution, _shared = min(row for row in stored if row[3])
    record = ProbationRecord.objects.get(person_id=person, institution_id=institution, exam_year=year)
    record.withdrawn_at, record.withdrawal_reason = timezone.now(), "录入错误"
    record.save()  # withdrawn: no longer counts
    check()
    ProbationRecord.objects.filter(pk=record.pk).update(withdrawn_at=None)  # QuerySet.update, back again
    check()
    other = generated.dental if record.category_id == generated.clinical.pk else generated.clinical
    ProbationRecord.objects.filter(pk=record.pk).update(category=other)  # a year in neither category now
    check()
    ProbationRecord.objects.filter(pk=record.pk).update(category=record.category)
    check()
    ProbationRecord.objects.filter(pk=record.pk).update(remarks="备注")  # nothing the rule reads: nothing recomputed
    assert stored_eligible() == history[-1]
    newcomers = [make_person(700 + n) for n in range(3)]  # one statement, several persons, one of them twice
    ProbationRecord.objects.bulk_create(
        ProbationRecord(
            person=newcomer,
            institution=place,
            exam_year=year,
            category=generated.clinical,
            departments="内科",
            supervisor_name="李医生",
            supervisor_licence="110420100001234",
            start_date=start,
            end_date=end,
            result=PASSED,
            assessed_on=end,
        )
        for newcomer, place, start, end in [
            (newcomers[0], world.wuchang_hospital, D(2025, 7, 1), D(2026, 6, 30)),
            (newcomers[1], world.yichang_hospital, D(2025, 7, 1), D(2026, 6, 30)),
            (newcomers[2], world.wuchang_hospital, D(2025, 7, 1), D(2025, 12, 31)),
            (newcomers[2], world.yichang_hospital, D(2026, 1, 1), D(2026, 6, 30)),
        ]
    )
    check()
    assert {(p, i, shared) for p, _y, i, shared in history[-1] if p == newcomers[2].pk} == {
        (newcomers[2].pk, world.wuchang_hospital.pk, True),
        (newcomers[2].pk, world.yichang_hospital.pk, True),
    }
    ExamYear.objects.filter(pk=year.pk).update(cutoff=year.cutoff - datetime.timedelta(days=120))  # less time to count
    check()
    year.refresh_from_db()
    board = dashboard.build(world.hubei_office, year)
    assert actual(board) == nonzero(expected(world.hubei_office, year, timezone.localdate()))


@pytest.fixture
def tworld(transactional_db) -> RecordsWorld:
    """Committed data, for tests that write from two connections at once."""
    ensure_categories()
    return RecordsWorld.build(World.build())


@pytest.mark.django_db(transaction=True)
def test_two_institutions_entering_halves_of_one_probation_at_once_make_the_person_eligible_once(tworld):
    """Each transaction alone would find half a year; the second recomputes after the first commits."""
    world, year = tworld.world, tworld.year
    person = make_person()

    def insert(institution, start, end):
        return lambda: make_record(person, institution, year, tworld.clinical, start, end).pk

    results = run_concurrently(
        insert(world.wuchang_hospital, "2025-07-01", "2025-12-31"),
        insert(world.yichang_hospital, "2026-01-01", "2026-06-30"),
    )
    assert [outcome for outcome, _value in results] == ["ok", "ok"]
    both = {
        (person.pk, year.pk, world.wuchang_hospital.pk, True),
        (person.pk, year.pk, world.yichang_hospital.pk, True),
    }
    assert stored_eligible() == eligible_from_the_view() == both
    board = dashboard.build(world.hubei_office, year)
    assert board.totals.eligible == 1 and board.totals.records == 2


@pytest.mark.django_db(transaction=True)
def test_a_cutoff_changed_while_a_record_is_entered_counts_the_record_under_the_new_cutoff(tworld):
    """Whichever commits first, the other waits for it: the record is not counted with the old cut-off."""
    world, year = tworld.world, tworld.year
    person = make_person()
    start, end = D(year.cutoff.year - 1, 7, 1), D(year.cutoff.year, 6, 30)
    earlier = D(year.cutoff.year, 5, 31)  # the full year to 30 June no longer fits before it

    results = run_concurrently(
        lambda: make_record(person, world.wuchang_hospital, year, tworld.clinical, start, end).pk,
        lambda: ExamYear.objects.filter(pk=year.pk).update(cutoff=earlier),
    )
    assert [outcome for outcome, _value in results] == ["ok", "ok"]
    assert Eligibility.objects.get(person=person, exam_year=year).status == Eligibility.Status.INSUFFICIENT
    assert stored_eligible() == eligible_from_the_view() == set()


@pytest.mark.django_db(transaction=True)  # both loads end with VACUUM: outside a test transaction
@pytest.mark.parametrize("loader", ["bench_seed", "seed_scale"])
def test_bulk_loads_that_switch_triggers_off_leave_the_eligible_persons_right(loader):
    ensure_categories()
    if loader == "bench_seed":
        seed(institutions=40, persons_per_year=60, records_per_year=70, years=2, counties=4)
    else:
        call_command("seed_scale", regions=1, institutions=40, persons=150, years=2, prefectures=2, counties=3, seed=3)
    # The record's region, which the loads write themselves with the copying trigger off.
    records = ProbationRecord.objects.all()
    assert records.exists() and not records.exclude(region=F("institution__region")).exists()
    stored = stored_eligible()
    assert len({year for _person, year, _institution, _shared in stored}) == 2
    assert any(shared for *_key, shared in stored)
    assert stored == eligible_from_the_view()


def test_a_person_with_records_in_two_rows_counts_in_both_and_once_in_the_total(rworld):
    world = rworld.world
    person = make_person(1)
    make_record(person, world.wuchang_hospital, rworld.year, rworld.clinical, "2025-07-01", "2025-12-31")
    make_record(person, world.yichang_hospital, rworld.year, rworld.clinical, "2026-01-01", "2026-06-30")
    board = dashboard.build(world.hubei_office, rworld.year)
    by_node = {row.node: row for row in board.rows}
    assert by_node[world.wuhan].eligible == by_node[world.yichang].eligible == 1
    assert board.totals.eligible == 1
    assert board.totals.records == 2


def test_records_entered_per_day_count_from_local_midnight_to_midnight_within_the_office(rworld):
    world, year = rworld.world, rworld.year
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)

    def entered(serial, institution, day, hour, minute, **fields):
        record = make_record(
            make_person(serial), institution, fields.pop("exam_year", year), rworld.clinical, "2025-07-01",
            "2026-06-30", **fields,
        )  # fmt: skip
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
        ProbationRecord.objects.filter(pk=record.pk).update(created_at=moment)

    entered(1, world.wuchang_hospital, yesterday, 0, 0)  # the first moment of yesterday
    entered(2, world.wuchang_hospital, yesterday, 23, 59)
    entered(3, world.yichang_hospital, yesterday, 12, 0)  # another prefecture
    entered(4, world.wuchang_hospital, today, 0, 0)
    entered(5, world.wuchang_hospital, today, 9, 0, withdrawn_at=timezone.now(), withdrawal_reason="错")  # withdrawn
    entered(6, world.wuchang_hospital, today, 9, 0, exam_year=exam_year(world.hubei, year.year - 1))  # another year
    region = dict(dashboard.daily_entries(world.hubei_office, year, today))
    wuhan = dict(dashboard.daily_entries(world.wuhan, year, today))
    assert len(region) == dashboard.DAILY_CHART_DAYS and max(region) == today
    assert (region[yesterday], region[today]) == (3, 1)
    assert (wuhan[yesterday], wuhan[today]) == (2, 1)
    assert sum(region.values()) == 4 and sum(wuhan.values()) == 3


def test_a_sub_office_counts_its_entries_per_day_from_the_institution_index_alone(db):
    """reports migration 0007: beneath the region office the entries per day are read by institution, and the
    index by year and institution carries the entry time the buckets need (a prefecture: 10 -> 4 ms, province).
    Migration 0008: keyed by the result too and carrying the region, it answers a region office's record list
    filtered by year, result and sub-office from the index alone (a prefecture's count: 10 -> 2.7 ms), and, with
    the id, its page of ids (nation: 5.1 -> 0.9 ms)."""
    columns, predicate = index_columns("reports_dash_record_institution_idx")
    assert columns == ["exam_year_id", "institution_id", "result", "created_at", "region_id", "id"]
    assert predicate == "(withdrawn_at IS NULL)"


def test_the_region_dashboard_lists_prefectures_then_directly_supervised_institutions(generated):
    world = generated.world
    board = dashboard.build(world.hubei_office, generated.year)
    nodes = [row.node for row in board.rows]
    assert nodes[:2] == [world.wuhan, world.yichang]
    assert world.provincial_hospital in nodes[2:]
    assert all(not row.is_office for row in board.rows[2:])


def dashboard_queries(client, url) -> int:
    cache.clear()  # the cost of computing the board, not of reading it from the cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_dashboard_query_count_does_not_grow_with_the_number_of_institutions(generated):
    world = generated.world
    client = world.client_for(world.region_user)
    url = reverse("reports:dashboard")
    beneath = reverse("reports:dashboard_office", args=[world.wuhan.public_id])
    client.get(url)
    before = dashboard_queries(client, url)
    before_beneath = dashboard_queries(client, beneath)
    # The office shown, and its breadcrumbs (the offices between the account's and it): the account's own office and
    # its region's current year were read with its session.
    assert before_beneath == before + 2
    for n in range(25):
        institution = Institution.objects.create(office=[world.wuchang, world.hubei_office][n % 2], name=f"又一家{n}")
        person = make_person(40 + n)
        make_record(person, institution, generated.year, generated.clinical, "2025-07-01", "2026-06-30")
    assert dashboard_queries(client, url) == before
    assert dashboard_queries(client, beneath) == before_beneath


def test_region_office_drills_down_from_region_to_prefecture_to_county(generated):
    world = generated.world
    client = world.client_for(world.region_user)
    region_page = client.get(reverse("reports:dashboard")).content.decode()
    wuhan_url = reverse("reports:dashboard_office", args=[world.wuhan.public_id])
    assert wuhan_url in region_page
    wuhan_page = client.get(wuhan_url).content.decode()
    wuchang_url = reverse("reports:dashboard_office", args=[world.wuchang.public_id])
    assert wuchang_url in wuhan_page
    wuchang_page = client.get(wuchang_url).content.decode()
    assert world.wuchang_hospital.get_absolute_url() in wuchang_page
    assert reverse("reports:dashboard_office", args=[world.hubei_office.public_id]) in wuchang_page  # breadcrumbs


def test_county_office_sees_its_own_dashboard_but_not_its_prefecture_or_a_neighbour(generated):
    world = generated.world
    client = world.client_for(world.wuchang_user)
    assert client.get(reverse("reports:dashboard")).status_code == 200
    for office in (world.wuhan, world.hongshan, world.hubei_office, world.hunan_office):
        assert client.get(reverse("reports:dashboard_office", args=[office.public_id])).status_code == 404


def test_institution_accounts_have_no_dashboard(generated):
    world = generated.world
    client = world.client_for(world.master)
    assert client.get(reverse("reports:dashboard")).status_code == 403
    assert client.get(reverse("reports:not_submitted", args=[world.wuchang.public_id])).status_code == 403


def test_charts_are_inline_svg_without_scripts_or_outside_resources(generated):
    world = generated.world
    page = world.client_for(world.region_user).get(reverse("reports:dashboard")).content.decode()
    assert page.count("<svg") == 2
    progress = page[page.index("<svg") : page.index("</svg>")]
    assert ">武汉市<" in progress and ">宜昌市<" in progress
    assert "<script" not in page
    assert 'src="http' not in page and 'href="http' not in page


def test_dashboard_without_a_current_exam_year_shows_no_figures(world):
    response = world.client_for(world.region_user).get(reverse("reports:dashboard"))
    assert response.status_code == 200
    assert "board" not in response.context
    assert 'id="totals"' not in response.content.decode()


def test_not_submitted_lists_institutions_without_a_submitted_or_filed_roster_with_contacts(generated):
    world, year = generated.world, generated.year
    client = world.client_for(world.wuhan_user)
    response = client.get(reverse("reports:not_submitted", args=[world.wuhan.public_id]))
    listed = {institution.pk for institution in response.context["page"]}
    expected_ids = set()
    for institution in Institution.objects.filter(path__startswith=world.wuhan.path):
        live = Roster.objects.filter(institution=institution, exam_year=year).exclude(status=S.CANCELLED)
        latest = live.order_by("-version").first()
        if latest is None or latest.status in (S.FINALISED, S.RETURNED):
            expected_ids.add(institution.pk)
    assert listed == expected_ids and listed
    page = response.content.decode()
    assert world.wuchang_hospital.contact_phone in page or world.hongshan_centre.contact_phone in page


def test_not_submitted_list_exports_as_csv_with_a_bom_and_the_export_is_audited(generated):
    world = generated.world
    client = world.client_for(world.wuhan_user)
    url = reverse("reports:not_submitted", args=[world.wuhan.public_id])
    response = client.get(url + "?export=csv")
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    lines = body.strip().splitlines()
    shown = client.get(url).context["page"].paginator.count
    assert len(lines) == shown + 1
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT, actor=world.wuhan_user)
    assert event.changes["rows"] == shown and event.changes["export"] == "not_submitted"
    assert event.region_id == world.hubei.pk
    xlsx = client.get(url + "?export=xlsx")
    assert xlsx.content[:2] == b"PK"


def test_not_submitted_list_of_another_office_is_not_found(generated):
    world = generated.world
    client = world.client_for(world.yichang_user)
    assert client.get(reverse("reports:not_submitted", args=[world.wuhan.public_id])).status_code == 404


def test_office_with_an_account_but_no_rows_shows_an_empty_dashboard(rworld):
    world = rworld.world
    lonely = make_account("lonely", world.hongshan)
    board = dashboard.build(world.hongshan, rworld.year)
    assert [row.node for row in board.rows] == [world.hongshan_centre]
    assert board.totals.records == 0 and board.totals.institutions == 1
    assert world.client_for(lonely).get(reverse("reports:dashboard")).status_code == 200


def totals_shown(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode().split('id="totals"')[1].split("</dl>")[0]


def test_the_board_is_recomputed_at_most_once_per_refresh_period_and_says_when_it_was(generated, settings):
    settings.DASHBOARD_CACHE_SECONDS = 60
    world = generated.world
    client = world.client_for(world.region_user)
    url = reverse("reports:dashboard")
    before = totals_shown(client, url)
    make_record(make_person(90), world.wuchang_hospital, generated.year, generated.clinical, "2025-07-01", "2026-06-30")
    page = client.get(url).content.decode()
    assert totals_shown(client, url) == before  # the same board, a minute at most
    assert "统计时间" in page and "60 秒" in page
    cache.clear()  # what the minute's end does
    assert totals_shown(client, url) != before


def test_a_changed_filing_window_shows_at_once_and_a_zero_period_computes_every_view(generated, settings):
    settings.DASHBOARD_CACHE_SECONDS = 60
    world = generated.world
    client = world.client_for(world.region_user)
    url = reverse("reports:dashboard")
    client.get(url)
    year = ExamYear.objects.get(pk=generated.year.pk)
    year.filing_closes = timezone.localdate() - datetime.timedelta(days=1)
    year.save()
    assert "名单备案时间已截止" in client.get(url).content.decode()
    settings.DASHBOARD_CACHE_SECONDS = 0
    before = totals_shown(client, url)
    make_record(make_person(91), world.wuchang_hospital, generated.year, generated.clinical, "2025-07-01", "2026-06-30")
    assert totals_shown(client, url) != before
    assert "统计时间" not in client.get(url).content.decode()


def test_the_rendered_board_is_kept_with_the_board_for_its_office_and_language_only(generated, settings):
    settings.DASHBOARD_CACHE_SECONDS = 60
    world = generated.world
    client = world.client_for(world.region_user)
    url = reverse("reports:dashboard")
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    board = dashboard.current(world.hubei_office, generated.year)
    key = make_template_fragment_key(
        "dashboard_board", [world.hubei_office.pk, board.computed_at.isoformat(), "zh-hans"]
    )
    assert cache.get(key) is not None and cache.get(key) in chinese

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Figures as of" in english and "统计时间" not in english
    assert "统计时间" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    wuhan = world.client_for(world.wuhan_user).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    rows = wuhan.split('id="dashboard-rows"')[1]
    assert world.wuchang.name in rows and world.yichang.name not in rows
