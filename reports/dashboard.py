"""The filing dashboard of an office: one row per sub-office (its whole subtree) or directly supervised institution.

Every figure is aggregated in PostgreSQL, a fixed number of queries whatever the size of the subtree:

- ``_facts``: per row, institutions, complete profiles, active records of the exam year, distinct eligible persons,
  the state of each institution's current roster and the late filers, plus the distinct eligible persons of the
  whole subtree (a person with records in two rows counts once in the total);
- ``daily_entries``: records entered per day of the entry period.

Rows are keyed by the child office's id, read from the institution's materialized path (the path segment after
the office's own), or by the negated id of an institution the office supervises directly (``subtree``). Eligible
persons are counted from ``reports_eligible_at_institution``, which triggers keep up to date (reports migration
0004), so that no page view evaluates the eligibility rule over a whole region. The indexes these queries use are
created by reports migrations 0003 and 0004; bench/dashboard.py times the region-level page on province-scale data.

The page shows a board at most DASHBOARD_CACHE_SECONDS old (``current``): in the last days before a deadline many
office accounts watch the same figures, which change by the minute, not by the request.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Substr
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from institutions.models import PROFILE_COMPLETE, Institution, Office
from reports.models import CURRENT_ROSTERS_SQL, Roster
from trainees.models import ProbationRecord

ROSTER_COLUMNS = ("not_started", "finalised", "submitted", "accepted", "returned")
#: The most recent days shown on the entries chart.
DAILY_CHART_DAYS = 90

# Per row: institutions, complete profiles, active records of the year, distinct eligible persons, the status of
# each institution's latest roster of the year that was not discarded (no roster: not started) and late filers:
# submitted after the filing window closed (under a reopening), or not submitted although the window has closed and
# the institution has active records of the year; and on every row the distinct eligible persons of the whole
# subtree (a person with records in two rows counts in both and once in the total).
#
# The rule of eligibility is not evaluated here: reports_eligible_at_institution holds, kept up to date by triggers
# (reports migration 0004), one row per (person, exam year, institution) where the person has an active record and is
# eligible in its category by the trainees_eligibility view. At one institution a person has one active record a
# year, so its rows are distinct persons; only the persons eligible at several institutions (``shared``, one in six
# in bench/seed.py's province) can count twice in a row, and only those are listed to be counted once. Everything
# else is counted per institution from the indexes (records by institution, roster versions, eligible persons)
# before it is grouped into rows: a few thousand groups, never a pass over each record with its row's key. ``inst``
# is read twice rather than materialized: the planner then knows its ids are the institutions' (unique), where a
# materialized CTE would make it expect millions of joined rows and spend some 80 ms compiling the query (JIT).
FACTS = """
WITH inst AS NOT MATERIALIZED ({subtree}), latest AS ({current_rosters}), recorded AS (
    SELECT institution_id, count(*) AS n
    FROM trainees_probationrecord
    WHERE exam_year_id = %(year)s AND withdrawn_at IS NULL {within}
    GROUP BY institution_id
), alone AS (
    SELECT institution_id, count(*) AS n
    FROM reports_eligible_at_institution
    WHERE exam_year_id = %(year)s AND NOT shared {within}
    GROUP BY institution_id
), shared AS (
    SELECT inst.node, e.person_id
    FROM reports_eligible_at_institution e JOIN inst ON inst.id = e.institution_id
    WHERE e.exam_year_id = %(year)s AND e.shared {within}
), per_row AS (
    SELECT inst.node,
           count(*) AS institutions,
           count(*) FILTER (WHERE inst.complete) AS complete,
           COALESCE(sum(recorded.n), 0) AS records,
           COALESCE(sum(alone.n), 0) AS alone,
           count(*) FILTER (WHERE latest.status IS NULL) AS not_started,
           count(*) FILTER (WHERE latest.status = 'finalised') AS finalised,
           count(*) FILTER (WHERE latest.status = 'submitted') AS submitted,
           count(*) FILTER (WHERE latest.status = 'accepted') AS accepted,
           count(*) FILTER (WHERE latest.status = 'returned') AS returned,
           count(*) FILTER (
               WHERE (latest.status IN ('submitted', 'accepted') AND latest.submitted_at >= %(closed_at)s)
                  OR (%(window_closed)s AND latest.status IS DISTINCT FROM 'submitted'
                      AND latest.status IS DISTINCT FROM 'accepted' AND recorded.n IS NOT NULL)
           ) AS late
    FROM inst
    LEFT JOIN latest ON latest.institution_id = inst.id
    LEFT JOIN recorded ON recorded.institution_id = inst.id
    LEFT JOIN alone ON alone.institution_id = inst.id
    GROUP BY inst.node
), shared_per_row AS (
    SELECT node, count(DISTINCT person_id) AS n FROM shared GROUP BY node
)
SELECT per_row.node, institutions::integer, complete::integer, records::integer,
       (alone + COALESCE(shared_per_row.n, 0))::integer,
       not_started::integer, finalised::integer, submitted::integer, accepted::integer, returned::integer,
       late::integer,
       (sum(alone) OVER () + (SELECT count(DISTINCT person_id) FROM shared))::integer
FROM per_row LEFT JOIN shared_per_row ON shared_per_row.node = per_row.node
"""

# Records entered per local day, from midnight to midnight.
# The region office's subtree is every record of the year: one count of a range of the entry-time index per day
# (about twice as fast as reading the whole period once and grouping each entry into its day).
DAILY_ENTRIES_REGION = """
SELECT day.n, (
    SELECT count(*)
    FROM trainees_probationrecord r
    WHERE r.exam_year_id = %(year)s AND r.withdrawn_at IS NULL
      AND r.created_at >= day.starts AND r.created_at < day.ends
)
FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY AS day (starts, ends, n)
"""

# Beneath it, the subtree's records of the year, read by institution from reports_dash_record_institution_idx
# (which carries the entry time, reports migration 0007) and put into their day's bucket: per day, the range of the
# entry-time index would read the whole region's entries of that day (a county: 16 -> 1 ms, province scale).
DAILY_ENTRIES_SUBTREE = """
SELECT width_bucket(r.created_at, %(bounds)s::timestamptz[]), count(*)
FROM trainees_probationrecord r
WHERE r.exam_year_id = %(year)s AND r.withdrawn_at IS NULL
  AND r.created_at >= %(first)s AND r.created_at < %(last)s
  AND r.institution_id = ANY(ARRAY({institutions}))
GROUP BY 1
"""


@dataclass
class Row:
    """One line of the dashboard: a sub-office's whole subtree, an institution, or the totals."""

    node: Office | Institution | None
    institutions: int = 0
    profiles_complete: int = 0
    records: int = 0
    eligible: int = 0
    not_started: int = 0
    finalised: int = 0
    submitted: int = 0
    accepted: int = 0
    returned: int = 0
    late: int = 0

    @property
    def is_office(self) -> bool:
        return isinstance(self.node, Office)

    @property
    def url(self) -> str:
        """Where the row leads: the sub-office's dashboard, or the institution's page."""
        if self.is_office:
            return reverse("reports:dashboard_office", args=[self.node.public_id])
        return self.node.get_absolute_url()

    @property
    def filed(self) -> int:
        """Submitted or already filed: nothing more is expected from these institutions."""
        return self.submitted + self.accepted

    @property
    def pending(self) -> int:
        return self.institutions - self.filed

    def add(self, other: "Row") -> None:
        for name in ("institutions", "profiles_complete", "records", *ROSTER_COLUMNS, "late"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Dashboard:
    office: Office
    exam_year: object
    rows: list[Row]
    totals: Row
    daily: list[tuple[datetime.date, int]] = field(default_factory=list)
    today: datetime.date | None = None
    computed_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def window_closed(self) -> bool:
        return self.today > self.exam_year.filing_closes

    @property
    def days_left(self) -> int:
        return (self.exam_year.filing_closes - self.today).days

    @property
    def office_rows(self) -> list[Row]:
        return [row for row in self.rows if row.is_office]


def subtree(office: Office):
    """The institutions beneath ``office`` with the key of their dashboard row (``node``) and whether their profile is
    complete (the PROFILE_COMPLETE rule): the ``inst`` table of the queries above."""
    child_id = Func(Substr("path", len(office.path) + 1), Value("/"), Value(1), function="split_part")
    node = Case(
        When(office=office, then=ExpressionWrapper(Value(0) - F("pk"), output_field=BigIntegerField())),
        default=Cast(child_id, BigIntegerField()),
    )
    return (
        Institution.objects.filter(path__subtree=office.path)
        .annotate(node=node, complete=ExpressionWrapper(PROFILE_COMPLETE, output_field=BooleanField()))
        .order_by()
        .values("id", "node", "complete")
    )


def _as_sql(queryset) -> str:
    """A queryset as SQL text with its parameters quoted by the driver, to embed in a raw query that has parameters
    of its own (so its percent signs, e.g. of LIKE patterns, are doubled)."""
    sql, params = queryset.query.sql_with_params()
    return connection.ops.compose_sql(sql, params).replace("%", "%%")


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _params(office, exam_year, today) -> dict:
    closed_at = _midnight(exam_year.filing_closes + datetime.timedelta(days=1))
    return {
        "year": exam_year.pk,
        "cutoff": exam_year.cutoff,
        "closed_at": closed_at,
        "window_closed": today > exam_year.filing_closes,
    }


def _facts(office, subtree_sql, params) -> tuple[dict[int, Row], int]:
    """The rows' figures by row key, and the distinct eligible persons of the whole subtree."""
    # The region office's subtree holds every record of the region's exam year: nothing to restrict. Beneath it,
    # only the subtree's institutions are read, each by its entries in the year's indexes: as an array of ids the
    # planner probes them, where a join would read the whole region's year and discard most of it (a prefecture:
    # 26 -> 11 ms, province scale).
    within = "AND institution_id = ANY(ARRAY(SELECT id FROM inst))" if office.parent_id is not None else ""
    with connection.cursor() as cursor:
        current_rosters = CURRENT_ROSTERS_SQL.format(year="%(year)s")
        cursor.execute(FACTS.format(subtree=subtree_sql, within=within, current_rosters=current_rosters), params)
        rows = cursor.fetchall()
    eligible = rows[0][-1] if rows else 0
    return {node: Row(None, *counts) for node, *counts, _total in rows}, eligible


def rebuild_eligible(exam_years) -> None:
    """Recompute the eligible persons per institution of these exam years (reports_eligible_at_institution) from the
    trainees_eligibility view, after a load that wrote records with triggers off (bench/seed.py,
    institutions/scale.py); triggers keep them up to date otherwise."""
    with connection.cursor() as cursor:
        for exam_year in exam_years:
            cursor.execute("SELECT reports_rebuild_eligible(%s)", [exam_year.pk])


def daily_entries(office, exam_year, today) -> list[tuple[datetime.date, int]]:
    """(day, records entered) for each day of the entry period up to today, the last DAILY_CHART_DAYS of them."""
    last = min(today, exam_year.entry_closes)
    first = max(exam_year.entry_opens, last - datetime.timedelta(days=DAILY_CHART_DAYS - 1))
    if last < first:
        return []
    days = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    bounds = [_midnight(day) for day in days] + [_midnight(last + datetime.timedelta(days=1))]
    if office.parent_id is None:
        sql, params = DAILY_ENTRIES_REGION, {"starts": bounds[:-1], "ends": bounds[1:]}
    else:
        institutions = Institution.objects.filter(path__subtree=office.path).order_by().values("id")
        sql = DAILY_ENTRIES_SUBTREE.format(institutions=_as_sql(institutions))
        params = {"bounds": bounds, "first": bounds[0], "last": bounds[-1]}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"year": exam_year.pk, **params})
        counts = dict(cursor.fetchall())
    return [(day, counts.get(bucket, 0)) for bucket, day in enumerate(days, start=1)]


def build(office: Office, exam_year, *, today: datetime.date | None = None) -> Dashboard:
    """The dashboard of ``office`` for ``exam_year``: sub-offices first, then the institutions it supervises."""
    today = today or timezone.localdate()
    params = _params(office, exam_year, today)
    subtree_sql = _as_sql(subtree(office))
    facts, eligible = _facts(office, subtree_sql, params)
    children = list(office.children.order_by("pk"))  # creation order: how the office laid out its tree
    own = list(Institution.objects.filter(office=office).order_by("name").only("name", "public_id", "office_id"))
    rows = []
    for node, key in [*((child, child.pk) for child in children), *((inst, -inst.pk) for inst in own)]:
        row = facts.get(key) or Row(None)
        row.node = node
        rows.append(row)
    totals = Row(None)
    for row in rows:
        totals.add(row)
    totals.eligible = eligible  # distinct persons: not the sum of the rows'
    return Dashboard(office, exam_year, rows, totals, daily_entries(office, exam_year, today), today)


def current(office: Office, exam_year) -> Dashboard:
    """``build``'s board, computed at most once per DASHBOARD_CACHE_SECONDS for each office and exam year (0: every
    time). The key holds what the board depends on besides the records: the day and the exam year's dates."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return build(office, exam_year)
    today = timezone.localdate()
    key = ":".join(
        str(part)
        for part in ("dashboard", office.pk, office.path, exam_year.pk, exam_year.cutoff, exam_year.filing_opens,
                     exam_year.filing_closes, exam_year.entry_opens, exam_year.entry_closes, today)
    )  # fmt: skip
    board = cache.get(key)
    if board is None:
        board = build(office, exam_year, today=today)
        cache.set(key, board, seconds)
    return board


def not_submitted(office: Office, exam_year):
    """Institutions beneath ``office`` whose current roster is not submitted or filed, with what an office needs to
    chase them: contact, supervising office, master account, records of the year and roster status."""
    current = Roster.objects.current_first(OuterRef("pk"), exam_year)
    records = (
        ProbationRecord.objects.filter(institution=OuterRef("pk"), exam_year=exam_year, withdrawn_at__isnull=True)
        .order_by()
        .values("institution")
        .annotate(n=Count("pk"))
        .values("n")
    )
    master = User.objects.filter(institution=OuterRef("pk"), is_master=True)
    return (
        Institution.objects.filter(path__subtree=office.path)
        .select_related("office")
        .annotate(
            filing_status=Subquery(current.values("status")[:1]),
            records_count=Coalesce(Subquery(records, output_field=IntegerField()), Value(0)),
            master_username=Subquery(master.values("username")[:1]),
            master_name=Subquery(master.values("full_name")[:1]),
            master_phone=Subquery(master.values("phone")[:1]),
        )
        .filter(Q(filing_status__isnull=True) | Q(filing_status__in=[Roster.Status.FINALISED, Roster.Status.RETURNED]))
        .order_by("-records_count", "path", "name")
    )
