"""The filing dashboard of an office: one row per sub-office (its whole subtree) or directly supervised institution.

Every figure is aggregated in PostgreSQL, a fixed number of queries whatever the size of the subtree:

- ``_institution_facts``: institutions, complete profiles, the state of each institution's current roster and the
  late filers, grouped by row;
- ``_record_facts``: active records of the exam year and distinct eligible persons, grouped by row, plus the
  distinct total (a person with records in two rows counts once in the total);
- ``_daily_entries``: records entered per day of the entry period.

Rows are keyed by the child office's id, read from the institution's materialized path (the path segment after
the office's own), or by the negated id of an institution the office supervises directly (``subtree``). The indexes
these queries use are created by reports migration 0003; bench/dashboard.py times the region-level page on
province-scale data.
"""

import datetime
from dataclasses import dataclass, field

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
from reports.models import Roster
from trainees.models import ProbationRecord

ROSTER_COLUMNS = ("not_started", "finalised", "submitted", "accepted", "returned")
#: The most recent days shown on the entries chart.
DAILY_CHART_DAYS = 90

# Per row: institutions, complete profiles, the status of each institution's latest roster of the year that was not
# discarded (no roster: not started) and late filers: submitted after the filing window closed (under a reopening),
# or not submitted although the window has closed and the institution has active records of the year.
INSTITUTION_FACTS = """
WITH inst AS ({subtree}), latest AS (
    SELECT DISTINCT ON (r.institution_id) r.institution_id, r.status, r.submitted_at
    FROM reports_roster r
    WHERE r.exam_year_id = %(year)s AND r.status <> 'cancelled'
    ORDER BY r.institution_id, r.version DESC
)
SELECT inst.node,
       count(*),
       count(*) FILTER (WHERE inst.complete),
       count(*) FILTER (WHERE latest.status IS NULL),
       count(*) FILTER (WHERE latest.status = 'finalised'),
       count(*) FILTER (WHERE latest.status = 'submitted'),
       count(*) FILTER (WHERE latest.status = 'accepted'),
       count(*) FILTER (WHERE latest.status = 'returned'),
       count(*) FILTER (
           WHERE (latest.status IN ('submitted', 'accepted') AND latest.submitted_at >= %(closed_at)s)
              OR (%(window_closed)s AND latest.status IS DISTINCT FROM 'submitted'
                  AND latest.status IS DISTINCT FROM 'accepted'
                  AND EXISTS (SELECT 1 FROM trainees_probationrecord p
                              WHERE p.institution_id = inst.id AND p.exam_year_id = %(year)s
                                AND p.withdrawn_at IS NULL))
       )
FROM inst LEFT JOIN latest ON latest.institution_id = inst.id
GROUP BY inst.node
"""

# Per row: active records of the year and distinct eligible persons. A record's person is eligible in the record's
# category by the rule of the trainees_eligibility view (trainees migration 0002): the passed periods that start by
# the cut-off, capped at it, add up to a full year from the first start (a year from 29 February is 366 days). The
# view computes it for every person of every year; here a window over the year's records, read in index order, does
# it in the same pass that counts them (tests/test_dashboard.py checks that both agree). Beneath a sub-office only
# the persons with a record in its subtree are read, with all their records of the year (elsewhere too) for the
# rule. A person is counted once per row and once in the total.
RECORD_FACTS = """
WITH inst AS ({subtree}), rec AS (
    SELECT r.person_id, r.institution_id,
           min(r.start_date) FILTER (WHERE r.result = 'passed' AND r.start_date <= %(cutoff)s) OVER w AS first_start,
           COALESCE(sum(LEAST(r.end_date, %(cutoff)s) - r.start_date + 1)
                    FILTER (WHERE r.result = 'passed' AND r.start_date <= %(cutoff)s) OVER w, 0) AS covered
    FROM trainees_probationrecord r
    WHERE r.exam_year_id = %(year)s AND r.withdrawn_at IS NULL {persons}
    WINDOW w AS (PARTITION BY r.person_id, r.category_id)
)
SELECT inst.node, count(*)::integer,
       count(DISTINCT rec.person_id) FILTER (
           WHERE rec.covered >= (rec.first_start + interval '1 year')::date - rec.first_start
               -- a year from 29 February ends on 28 February: the only date whose day before is a year away from
               -- the same date as itself
               + CASE WHEN (rec.first_start - 1 + interval '1 year')::date = (rec.first_start + interval '1 year')::date
                      THEN 1 ELSE 0 END)
FROM rec JOIN inst ON inst.id = rec.institution_id
GROUP BY ROLLUP (inst.node)
"""

# Records entered per local day: each entry time falls into the bucket of the last local midnight before it.
DAILY_ENTRIES = """
SELECT width_bucket(r.created_at, %(midnights)s::timestamptz[]) AS day, count(*)
FROM trainees_probationrecord r
WHERE r.exam_year_id = %(year)s AND r.withdrawn_at IS NULL
  AND r.created_at >= %(first)s AND r.created_at < %(last)s
  {subtree}
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
        for name in ("institutions", "profiles_complete", *ROSTER_COLUMNS, "late"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Dashboard:
    office: Office
    exam_year: object
    rows: list[Row]
    totals: Row
    daily: list[tuple[datetime.date, int]] = field(default_factory=list)
    today: datetime.date | None = None

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
        Institution.objects.filter(path__startswith=office.path)
        .annotate(node=node, complete=ExpressionWrapper(PROFILE_COMPLETE, output_field=BooleanField()))
        .order_by()
        .values("id", "node", "complete")
    )


def _as_sql(queryset) -> str:
    """A queryset as SQL text with its parameters quoted by the driver, to embed in a raw query that has parameters
    of its own (so its percent signs, e.g. of LIKE patterns, are doubled)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        return cursor.mogrify(sql, params).replace("%", "%%")


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


def _institution_facts(subtree_sql, params) -> dict[int, Row]:
    with connection.cursor() as cursor:
        cursor.execute(INSTITUTION_FACTS.format(subtree=subtree_sql), params)
        return {node: Row(None, *counts[:2], 0, 0, *counts[2:]) for node, *counts in cursor.fetchall()}


PERSONS_IN_SUBTREE = """
    AND r.person_id IN (SELECT p.person_id FROM trainees_probationrecord p
                        WHERE p.exam_year_id = %(year)s AND p.withdrawn_at IS NULL
                          AND p.institution_id IN (SELECT id FROM inst))"""


def _record_facts(office, subtree_sql, params) -> dict[int | None, tuple[int, int]]:
    # The region office's subtree holds every record of the region's exam year: nothing to restrict.
    persons = PERSONS_IN_SUBTREE if office.parent_id is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(RECORD_FACTS.format(subtree=subtree_sql, persons=persons), params)
        return {node: (records, eligible) for node, records, eligible in cursor.fetchall()}


def daily_entries(office, exam_year, today) -> list[tuple[datetime.date, int]]:
    """(day, records entered) for each day of the entry period up to today, the last DAILY_CHART_DAYS of them."""
    last = min(today, exam_year.entry_closes)
    first = max(exam_year.entry_opens, last - datetime.timedelta(days=DAILY_CHART_DAYS - 1))
    if last < first:
        return []
    days = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    midnights = [_midnight(day) for day in days]
    params = {
        "midnights": midnights,
        "year": exam_year.pk,
        "first": midnights[0],
        "last": _midnight(last + datetime.timedelta(days=1)),
    }
    condition = ""
    if office.parent_id is not None:  # the region office's subtree is every institution of the year's region
        institutions = Institution.objects.filter(path__startswith=office.path).order_by().values("id")
        condition = f"AND r.institution_id IN ({_as_sql(institutions)})"
    with connection.cursor() as cursor:
        cursor.execute(DAILY_ENTRIES.format(subtree=condition), params)
        counts = dict(cursor.fetchall())
    return [(day, counts.get(bucket, 0)) for bucket, day in enumerate(days, start=1)]


def build(office: Office, exam_year, *, today: datetime.date | None = None) -> Dashboard:
    """The dashboard of ``office`` for ``exam_year``: sub-offices first, then the institutions it supervises."""
    today = today or timezone.localdate()
    params = _params(office, exam_year, today)
    subtree_sql = _as_sql(subtree(office))
    facts = _institution_facts(subtree_sql, params)
    records = _record_facts(office, subtree_sql, params)
    children = list(office.children.order_by("pk"))  # creation order: how the office laid out its tree
    own = list(Institution.objects.filter(office=office).order_by("name").only("name", "public_id", "office_id"))
    rows = []
    for node, key in [*((child, child.pk) for child in children), *((inst, -inst.pk) for inst in own)]:
        row = facts.get(key) or Row(None)
        row.node = node
        row.records, row.eligible = records.get(key, (0, 0))
        rows.append(row)
    totals = Row(None)
    for row in rows:
        totals.add(row)
    totals.records, totals.eligible = records.get(None, (0, 0))
    return Dashboard(office, exam_year, rows, totals, daily_entries(office, exam_year, today), today)


def not_submitted(office: Office, exam_year):
    """Institutions beneath ``office`` whose current roster is not submitted or filed, with what an office needs to
    chase them: contact, supervising office, master account, records of the year and roster status."""
    latest = (
        Roster.objects.filter(institution=OuterRef("pk"), exam_year=exam_year)
        .exclude(status=Roster.Status.CANCELLED)
        .order_by("-version")
    )
    records = (
        ProbationRecord.objects.filter(institution=OuterRef("pk"), exam_year=exam_year, withdrawn_at__isnull=True)
        .order_by()
        .values("institution")
        .annotate(n=Count("pk"))
        .values("n")
    )
    master = User.objects.filter(institution=OuterRef("pk"), is_master=True)
    return (
        Institution.objects.filter(path__startswith=office.path)
        .select_related("office")
        .annotate(
            filing_status=Subquery(latest.values("status")[:1]),
            records_count=Coalesce(Subquery(records, output_field=IntegerField()), Value(0)),
            master_username=Subquery(master.values("username")[:1]),
            master_name=Subquery(master.values("full_name")[:1]),
            master_phone=Subquery(master.values("phone")[:1]),
        )
        .filter(Q(filing_status__isnull=True) | Q(filing_status__in=[Roster.Status.FINALISED, Roster.Status.RETURNED]))
        .order_by("-records_count", "path", "name")
    )
