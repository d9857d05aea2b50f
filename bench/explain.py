"""Index review: EXPLAIN (ANALYZE, BUFFERS) of every query the main list pages run, on a scale database.

    .venv/bin/python bench/explain.py --database-url postgres://postgres@127.0.0.1:5432/hbwsrc_nation

The queries are not written by hand: each page is requested through Django's test client as an account of the
right role (湖北's region office, 武汉, a county office, an institution with about 100 records this year), the SQL
it runs is captured, and each query touching the application's tables is explained. The verdict flags a
sequential scan of any table holding more than SMALL_TABLE rows; bench/EXPLAIN.md records the result.
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL_TABLE = 10_000
# What every authenticated request reads (the session with its account and grants, accounts.session_store; the
# account or the grants alone where a session did not offer them): explained once, under "request overhead".
OVERHEAD = ("django_session", "accounts_usersession", "userobjectpermission", 'FROM "accounts_user"')


INDEXES_ADDED = """## What this review changed

- `record_active_inst_idx` on records (institution, created_at DESC, id) INCLUDE (person, region) WHERE withdrawn_at
  IS NULL (trainees migrations 0004, 0006), with the record list paging primary keys first
  (`trainees.views.paginate_records`): an office's list is counted and ordered by index-only scans of its own
  institutions' records. Before, the count
  used the GiST exclusion index by institution (122,000 buffers for one county) and the ordered page walked
  every record of the country newest first until 50 of the office's turned up (289 ms for 武汉 at nation scale).
  The person is included (0006) because a search by a two-character name (no trigram) joins each of the office's
  records to its person: without it the planner chose the GiST exclusion index, the only other index holding
  both, for an index-only scan by institution: 284 ms for one county at province scale, 7 ms now.
- `person_name_trgm_idx` (UPPER(name) gin_trgm_ops) and `person_id_number_trgm_idx` (pg_trgm, trainees 0004):
  the list's search over a region went from 3 s (every record of the country, newest first) to 2 ms.
- `person_name_grams_idx` (GIN over `trainees_search_grams(name)`, the name's characters and character pairs,
  trainees migration 0007) in place of the name's trigram index: a search for a two-character name (most Chinese
  names) has no trigram, and a region office's read every person twice (count and page: 45 + 41 ms at province
  scale), now 0.8 ms. The search matches ID numbers from three characters on, so the ID number's trigram index
  always answers its half of the search.
- `person_name_idx` (name) and `record_region_start_idx` (region, start_date, id) (trainees 0007, 0010): a region
  office's list sorted by name or by start date reads its first page in order (province: 108 ms and 123 ms, a
  sort of the region's records, now 1.7 ms and 0.6 ms for that query).
- Statistics target 1000 on institution paths (institutions migration 0003): one histogram bucket held a whole
  prefecture at nation scale and misled the planner about how many records an office has.
- The office list's and office page's subtree counts: grouped index-only scan under the common path prefix
  instead of a correlated `path LIKE office.path || '%'` per office (4 s a page at nation scale, now 2 ms).
- `record_region_new_idx` on records (region, created_at DESC, id) (trainees migration 0005; over every record,
  withdrawn ones included, since 0008; by region since 0010): a region office's list, which holds nearly every
  record of its region, walks it newest first and stops at the 50th (province: 120 ms, a sort of 210,000
  records, now 3.5 ms). The list with "include withdrawn" ticked had no index while it was partial and sorted
  the region's records (61 ms at province scale, 0.3 ms). Without the region, at nation scale the walk read the
  whole country's records newest first and looked up each one's institution until 50 of the region's turned up
  (1,509 records, 1,059 institutions: 3.9 ms against 0.45 at province scale); records carry their institution's
  region since trainees migration 0009 (kept by the database), the region office's scope is its region, and the
  page's rows are the region's first 50 entries (0.26 ms), counted from `record_active_region_idx` (region) WHERE
  active, index-only (1.9 -> 0.6 ms at nation scale). An earlier
  review left such an index out, because the planner then walked the whole table for small offices whose size it
  misjudged; with the path statistics above it does not (the county and prefecture lists below; also checked for
  60 random offices of every depth at nation scale: see bench/README.md).
- `institution_name_idx` (name) and `institution_tree_order_idx` ((path COLLATE "C"), name) (institutions
  migration 0004), with the filing list ordered by the institution's own copy of its office's path: a region
  office's institution and filing lists read their first 50 entries in order instead of sorting the region's
  institutions (province: 4.4 ms and 5.2 ms, now 0.1 ms and 0.3 ms; nation: the institution list 5.2 ms, now
  0.7 ms). At nation scale `institution_name_idx` still read the whole country's institutions in name order until
  50 of the region's turned up (Hubei: 1,349 rows read, 2.9 ms; a small region or one whose names sort late,
  more): since institutions migration 0008 a region office's scope of institutions is its region, as for its
  records, and the lists read the region's first 50 from `institution_unique_name_in_region` (region, name) and
  `institution_region_tree_idx` (region, (path COLLATE "C"), name) (0.3 ms and 0.1 ms).
- `institution_name_grams_idx` (GIN over `trainees_search_grams(name)`, institutions migration 0005): the
  institution and filing lists' searches and the record list's institution filter find the institutions by the
  typed text's pairs, as persons are found by name; the record admin's search, which read all 40,000
  institutions' names at nation scale (19-22 ms, even for a credit code OR'd with the name), 0.6-1.5 ms.
- `reports_dash_record_institution_idx` keyed by (exam year, institution, result), carrying the entry time, the
  region and the record id (reports migration 0008): a region office's record list filtered by year, result and
  sub-office counts each of the sub-office's institutions' matching records from the index alone, where it hashed
  the region's entries of the year against them (a province's prefecture: 9.5 ms, now 2.1 ms); at nation scale
  its page of ids is read from the index alone too (5.1 ms, now 0.9 ms).
- The filing list filtered by status reads the year's rosters once (`reports_dash_roster_latest_idx`, index-only,
  DISTINCT ON institution) instead of probing every institution's latest roster twice, for the count and for the
  page: a province's region office 11 + 31 ms, now 3.6 + 6 ms.
"""

# What the plans say, page by page (the verdict column is computed; these notes are the review).
NOTES = {
    "record list": "Counted (at most LIST_COUNT_CAP, 10,000 rows: the list then says 'more than') and paged on "
    "primary keys from `record_active_inst_idx` (institution, created_at "
    "DESC, id) WHERE active: a nested loop over the subtree's institutions (`institution_path_idx` prefix range) "
    "with index-only scans, then a top-N sort; the 50 rows are fetched by primary key. A list known to be under "
    "the cap (remembered for a minute) reads its page of ids and its count in one query "
    "(`hbwsrc.pagination.CountedRows`): its rows materialized as the count reads them, then sorted in memory and "
    "counted by a window. Cost grows with the "
    "records of the account's own subtree, not with the table. Where the subtree holds most records (a region "
    "office, whose scope is its region), the rows are the first 50 of the region in `record_region_new_idx` "
    "(region, created_at DESC, id), counted from `record_active_region_idx`, both index-only (trainees "
    "migrations 0005-0010; a sort of the whole region, 15 ms at nation scale, then a walk of the country's "
    "records newest first, 3.9 ms).",
    "record list, search by name + result filter": "The institution's records by `record_active_inst_idx`; "
    "the name filter on the joined person.",
    "record list, eligibility filter": "The eligibility view is grouped per (person, year, category) and reached "
    "through `reports_dash_record_person_idx` for each record of the scope: fine for an institution, O(scope) "
    "for a whole region.",
    "record detail": "Primary-key and unique (public_id) lookups.",
    "record create form": "Small reference tables (exam years, categories).",
    "roster draft (roster home)": "The institution's records of the year by `record_institution_year_idx`, their "
    "eligibility by `reports_dash_record_person_idx`; rosters by `roster_unique_version`.",
    "record list, year + result + sub-office filters": "As the record list, restricted to the sub-office's "
    "institutions (a narrower path prefix). The count: the sub-office's institutions, then each one's records "
    "of that year and result from `reports_dash_record_institution_idx` (year, institution, result) INCLUDE "
    "(entry time, region, id) alone (reports migration 0008; before it, a province's prefecture hashed the whole "
    "region's entries of the year in `reports_dash_record_person_idx` against its institutions: 9.5 ms, now "
    "2.1). The page: where the sub-office holds a fair part of the year's entries (province), the entries newest "
    "first until 50 of its records turn up; where it holds few (nation), each institution's from the same index, "
    "which carries the record id for that (index-only: 5.1 -> 0.9 ms), then the newest 50. Known to be under the "
    "cap, the page comes with the count, by the count's plan (`CountedRows`), then a sort in memory: no walk of "
    "the year's entries.",
    "record list, search by name": "`person_name_grams_idx` (the name's characters and character pairs) and "
    "`person_id_number_trgm_idx` (trigrams): a BitmapOr finds the few matching persons, then their records by "
    "person, and the subtree's by institution path.",
    "record list, two-character name search": "The same grams index, which has the pair (a trigram index has "
    "nothing to look up for two characters): the persons of that name in the whole table, then their records, "
    "then the office's. Where the name is common and the office small the planner may start from the office's "
    "records instead (`record_active_inst_idx`, index-only, the person included).",
    "record list, sorted by name": "Persons read in name order from `person_name_idx`, each joined to its "
    "records, until 50 of the office's are found (an incremental sort orders records of one name). The count is "
    "the record list's, without the order.",
    "record list, sorted by start date": "`record_region_start_idx` (region, start_date, id), the region's "
    "entries read backwards; the count is the record list's.",
    "record list, withdrawn included": "As the record list, withdrawn records too: `record_region_new_idx` covers "
    "every record (trainees migration 0008; the partial index before it could not serve this list, which then "
    "sorted the region's records).",
    "record list, institution name filter": "The account's institutions whose name has the typed pair "
    "(`institution_name_grams_idx`, with the subtree's path), then: the count, their records from "
    "`record_active_inst_idx` alone (it includes the region the scope tests: trainees migration 0012; a "
    "province's 10,001 records, 36 ms from the table, 3.7 ms); the page, the region's records newest first "
    "from `record_region_new_idx` until 50 of those institutions' turn up (a sort of all their 24,574 records "
    "before a two-character pair was searched by its grams alone: the LIKE beside it, which PostgreSQL cannot "
    "estimate, made it plan for one institution where 313 matched: 30 ms, now 2.6 ms). Filtered by the records' "
    "region alone, the name matched 322 institutions across the country, each probed for records (5.9 ms at "
    "nation scale; 0.4 ms from the account's institutions).",
    "office list": "Offices by `office_path_idx`; subtree counts from one index-only scan of "
    "`institution_path_idx` under the page's common prefix, grouped by path (was a correlated LIKE reading the "
    "whole institution table once per office: 4 s a page at nation scale).",
    "office detail": "As the office list, for the children; the office's institutions by its foreign key.",
    "institution list": "A small subtree: `institution_path_idx` prefix range, then a sort by name. A region "
    "office, whose scope is its region: the region's first 50 in `institution_unique_name_in_region` (region, "
    "name) (institutions migration 0008; was `institution_name_idx` read until 50 of the region's turned up, "
    "2.9 ms at nation scale, and before that a sort of the region's institutions, 5 ms).",
    "institution list, search": "`institution_name_grams_idx` (the name's characters and pairs) and the "
    "subtree's prefix range, then the full name check.",
    "filing list, search": "As the institution list's search, then each listed institution's latest roster.",
    "filing list": "The subtree's institutions in tree order from `institution_tree_order_idx` ((path COLLATE "
    "\"C\"), name), the first 50 read in order (a small subtree: prefix range, then a sort); the latest roster "
    "of each on the page by `reports_dash_roster_latest_idx` (institutions migration 0004; was a sort by the "
    "joined office's path, 5 ms for a region office). A region office, whose scope is its region: "
    "`institution_region_tree_idx` (region, (path COLLATE \"C\"), name) (institutions migration 0008).",
    "filing list, status filter": "The institutions whose current roster has the status: one index-only pass "
    "over the year's rosters in `reports_dash_roster_latest_idx` order (DISTINCT ON institution, no sort, "
    "`reports.models.CURRENT_ROSTERS_SQL`), then the institutions by primary key; O(the region's rosters of "
    "the year), where probing each institution's latest roster was O(subtree institutions) (31 + 11 ms here).",
    "eligibility lookup (POST)": "`person_unique_id`, then the person's records by `record_person_year_cat_idx`.",
    "roster page, largest roster": "The roster by `public_id` (unique), its rows by the index on their roster, the "
    "version before it by `roster_unique_version` (read backwards).",
    "dashboard": "One facts query: per institution, records by `reports_dash_record_institution_idx` and eligible "
    "persons from `reports_eligible_at_institution` (kept by triggers, reports migrations 0004-0005) by its "
    "partial indexes, grouped into the page's rows; entries per day by `reports_dash_record_entered_idx` (region "
    "office) or from the subtree's records in `reports_dash_record_institution_idx`, which carries the entry time "
    "(offices beneath it).",
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--output", default=str(ROOT / "bench" / "EXPLAIN.md"))
    return parser.parse_args()


def setup(database_url):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="False",
        SECRET_KEY=os.environ.get("SECRET_KEY", "explain-only-" + "x" * 40),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="False",
        DATABASE_URL=database_url,
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def pages():
    from django.db.models import Count, Q
    from django.urls import NoReverseMatch, reverse

    from accounts.models import User
    from institutions.models import Institution, Office, Region
    from reports.models import Roster
    from trainees.models import ExamYear, Person, ProbationRecord

    region = Region.objects.get(division_code="420000")
    year = ExamYear.objects.get(region=region, is_current=True)
    root = Office.objects.get(region=region, parent=None)
    prefecture = Office.objects.filter(parent=root).order_by("pk").first()
    county = Office.objects.filter(parent=prefecture).annotate(n=Count("institutions")).order_by("-n", "pk").first()
    sized = (
        Institution.objects.filter(region=region)
        .annotate(n=Count("records", filter=Q(records__exam_year=year, records__withdrawn_at__isnull=True)))
        .filter(n__gte=1)
        .values_list("pk", "n")
    )
    institution = Institution.objects.get(pk=min(sized, key=lambda row: (abs(row[1] - 100), row[0]))[0])
    users = {
        "region office": User.objects.filter(office=root).first(),
        "prefecture office": User.objects.filter(office=prefecture).first(),
        "county office": User.objects.filter(office=county).first(),
        "institution": User.objects.get(institution=institution, is_master=True),
    }
    record = ProbationRecord.objects.filter(institution=institution).order_by("pk").first()
    name = Person.objects.filter(records__institution=institution).order_by("pk").values_list("name", flat=True)[0]
    region_names = Person.objects.filter(records__exam_year=year).order_by("-pk").values_list("name", flat=True)
    region_name = region_names.filter(name__regex=r"^...$").first() or "王平涛"
    region_short_name = region_names.filter(name__regex=r"^..$").first() or "王芳"
    short_name = (
        Person.objects.filter(records__institution__path__startswith=county.path, name__regex=r"^..$")
        .order_by("pk")
        .values_list("name", flat=True)
        .first()
        or "王芳"
    )
    name_part = institution.name[2:4]  # two characters from the middle of a name, as an office types them
    number = Person.objects.filter(records__exam_year=year).order_by("pk").values_list("id_number", flat=True)[0]
    roster = (  # the largest the county office reviews
        Roster.objects.filter(institution__path__startswith=county.path)
        .annotate(n=Count("entries"))
        .order_by("-n", "pk")
        .first()
    )
    listed = [
        ("record list", "institution", "/records/"),
        ("record list, search by name + result filter", "institution", f"/records/?q={name}&result=passed"),
        ("record list, eligibility filter", "institution", "/records/?eligibility=eligible"),
        ("record detail", "institution", f"/records/{record.public_id}/"),
        ("record create form", "institution", "/records/new/"),
        ("roster draft (roster home)", "institution", "/rosters/"),
        ("record list", "county office", "/records/"),
        ("record list", "prefecture office", "/records/"),
        ("record list", "region office", "/records/"),
        ("record list, year + result + sub-office filters", "region office",
         f"/records/?exam_year={year.pk}&result=passed&office={prefecture.pk}"),
        ("record list, search by name", "region office", f"/records/?q={region_name}"),
        ("record list, two-character name search", "region office", f"/records/?q={region_short_name}"),
        ("record list, two-character name search", "county office", f"/records/?q={short_name}"),
        ("record list, sorted by name", "region office", "/records/?sort=person__name"),
        ("record list, sorted by start date", "region office", "/records/?sort=-start_date"),
        ("record list, withdrawn included", "region office", "/records/?withdrawn=on"),
        ("record list, institution name filter", "region office", f"/records/?institution={name_part}"),
        ("office list", "region office", "/offices/"),
        ("office detail", "prefecture office", f"/offices/{prefecture.public_id}/"),
        ("institution list", "region office", "/institutions/"),
        ("institution list, search", "region office", f"/institutions/?q={institution.name[:4]}"),
        ("filing list", "county office", "/rosters/filings/"),
        ("filing list", "region office", "/rosters/filings/"),
        ("filing list, status filter", "region office", "/rosters/filings/?status=submitted"),
        ("filing list, search", "region office", f"/rosters/filings/?q={name_part}"),
        ("eligibility lookup (POST)", "county office", "/lookup/", {"id_type": "resident", "id_number": number}),
    ]  # fmt: skip
    if roster:
        listed.append(("roster page, largest roster", "county office", f"/rosters/{roster.public_id}/"))
    try:
        listed.append(("dashboard", "region office", reverse("reports:dashboard"), None))
    except NoReverseMatch:
        pass
    return users, listed


def explain(sql: str) -> tuple[str, float]:
    from django.db import connection

    sql = re.sub(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(OUT)? HOLD FOR ', "", sql)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    match = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return plan, float(match.group(1)) if match else 0.0


def table_sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class"
            " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        return dict(cursor.fetchall())


def verdict(plan: str, sizes: dict) -> str:
    large = []
    for table in re.findall(r"(?:Parallel )?Seq Scan on (\w+)", plan):
        if sizes.get(table, 0) > SMALL_TABLE:
            large.append(f"{table} ({sizes[table]:,} rows)")
    if large:
        return "SEQUENTIAL SCAN of " + ", ".join(sorted(set(large)))
    small = sorted({t for t in re.findall(r"Seq Scan on (\w+)", plan)})
    note = f"; sequential scans only of small tables ({', '.join(small)})" if small else ""
    return "indexes" + note


def main():
    args = parse_args()
    setup(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    sizes = table_sizes()
    users, listed = pages()
    middleware = [m for m in settings.MIDDLEWARE if "TwoFactorRequired" not in m]
    database = settings.DATABASES["default"]["NAME"]
    out = [
        f"# Index review: {database}",
        "",
        f"Generated by `bench/explain.py` on {time.strftime('%Y-%m-%d %H:%M')}. Table sizes: "
        + ", ".join(
            f"{t} {sizes.get(t, 0):,}"
            for t in (
                "trainees_probationrecord",
                "trainees_person",
                "institutions_institution",
                "institutions_office",
                "reports_roster",
                "reports_rosterentry",
                "accounts_user",
            )
        )  # fmt: skip
        + ".",
        "",
        "Each page is requested through the test client as the account named; every query it runs on the "
        "application's tables is explained with `EXPLAIN (ANALYZE, BUFFERS)`. The verdict flags a sequential scan "
        f"of a table of more than {SMALL_TABLE:,} rows.",
        "",
    ]
    intro_length = len(out)
    summary = []
    overhead_done = False
    # The dashboard's board would come from the cache after the first view: explain what computing it costs.
    with override_settings(MIDDLEWARE=middleware, DASHBOARD_CACHE_SECONDS=0):
        for title, role, path, *data in listed:
            client = Client()
            client.force_login(users[role])

            def request(client=client, path=path, data=data):
                return client.post(path, data[0]) if data and data[0] else client.get(path)

            request()  # warm the caches
            with CaptureQueriesContext(connection) as captured:
                response = request()
            out += [f"## {title} ({role}): `{path}`", "", f"HTTP {response.status_code}, {len(captured)} queries.", ""]
            worst, slowest = "indexes", 0.0
            for query in captured.captured_queries:
                sql = query["sql"].strip()
                if not re.match(r"^(SELECT|DECLARE|WITH)", sql):
                    continue
                is_overhead = any(marker in sql.split(" WHERE ")[0] for marker in OVERHEAD) and "COUNT" not in sql
                if is_overhead and overhead_done:
                    continue
                plan, ms = explain(sql)
                result = verdict(plan, sizes)
                if not is_overhead:
                    slowest = max(slowest, ms)
                if result.startswith("SEQ"):
                    worst = result
                label = "request overhead (every page)" if is_overhead else "query"
                out += [
                    f"**{label}**, {ms:.2f} ms: {result}",
                    "",
                    "```sql",
                    sql[:2500],
                    "```",
                    "",
                    "```",
                    plan,
                    "```",
                    "",
                ]
            overhead_done = True
            summary.append((title, role, len(captured), slowest, worst))
    table = ["| page | account | queries | slowest query | plan | note |", "| --- | --- | ---: | ---: | --- | --- |"]
    noted = set()
    for title, role, count, ms, plan in summary:
        note = NOTES.get(title, "") if title not in noted else "as above"
        noted.add(title)
        table.append(f"| {title} | {role} | {count} | {ms:.1f} ms | {plan} | {note} |")
    text = "\n".join(out[:intro_length] + [INDEXES_ADDED, "## Summary", "", *table, ""] + out[intro_length:])
    Path(args.output).write_text(text)
    print("\n".join(table))
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
