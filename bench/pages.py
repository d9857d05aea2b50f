"""Where a page's time goes: the main pages timed in-process, with their queries' planning and execution apart.

    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/hbwsrc_province
    .venv/bin/python bench/pages.py --rounds 60 --only "record detail,dashboard"

The pages, accounts and URLs are bench/explain.py's. Each is requested through Django's test client with the
production settings (bench.settings, DEBUG off), ``--rounds`` times, each round going through every page and the
load benchmark's two baselines (bench/views.py) so that the machine's drift touches all of them alike. Per page:
the median time and its ratio to the bare baseline's, the queries and the time the client waited for them, and
of that what PostgreSQL reports as planning and as execution (``EXPLAIN (ANALYZE, SUMMARY)`` of each read, best of
three, after the timing; writes such as the audit event of a record view are timed but not explained).

Less noisy than the load benchmark, and it says where to look: planning far above execution means too many tables
joined in one query; queries a small part of the page's time means the time goes to Python (the ORM turning rows
into objects, the templates): profile that page (``py-spy record`` on gunicorn's workers, or cProfile).

As in explain.py, the second factor is not asked (its middleware is left out), so the region office's pages skip
the check of the device the session passed it with (read with the session since stop 24). The dashboard is
measured as served (its board kept for DASHBOARD_CACHE_SECONDS).
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.explain import pages, setup  # noqa: E402

BASELINES = [
    ("baseline (bare view, 50 rows)", None, "/bench/baseline/"),
    ("baseline (logged in, site layout, 50 rows)", "institution", "/bench/baseline-logged-in/"),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL")
    )
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--only", help="comma-separated parts of page names")
    return parser.parse_args()


class QueryTimer:
    """Counts and times the queries of one request, keeping their SQL for EXPLAIN."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, time.perf_counter() - started))


def plan_and_run_ms(sql, params) -> tuple[float, float]:
    """PostgreSQL's planning and execution times of one read, best of three."""
    from django.db import connection

    best = None
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("EXPLAIN (ANALYZE, SUMMARY) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            times = tuple(
                float(re.search(rf"{label} Time: ([\d.]+) ms", plan).group(1)) for label in ("Planning", "Execution")
            )
            best = times if best is None or sum(times) < sum(best) else best
    return best


def main():
    args = parse_args()
    setup(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    users, listed = pages()
    listed = BASELINES + [(title, role, path, *data) for title, role, path, *data in listed]
    if args.only:
        wanted = [part.strip() for part in args.only.split(",")]
        listed = [
            page
            for page in listed
            if page[1] is None or page[0].startswith("baseline") or any(w in page[0] for w in wanted)
        ]
    clients = {None: Client()}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)

    def request(page):
        title, role, path, *data = page
        client = clients[role]
        return client.post(path, data[0]) if data and data[0] else client.get(path)

    middleware = [m for m in settings.MIDDLEWARE if "TwoFactorRequired" not in m]
    times = [[] for _ in listed]
    queries = [[] for _ in listed]
    with override_settings(MIDDLEWARE=middleware):
        for page in listed:
            for _ in range(3):
                response = request(page)
            if response.status_code != 200:
                raise SystemExit(f"{page[0]} ({page[1]}): HTTP {response.status_code}")
        load_before = " ".join(f"{n:.2f}" for n in os.getloadavg())
        for _ in range(args.rounds):
            for index, page in enumerate(listed):
                timer = QueryTimer()
                with connection.execute_wrapper(timer):
                    started = time.perf_counter()
                    request(page)
                    times[index].append(time.perf_counter() - started)
                queries[index] = timer.queries
        load_after = " ".join(f"{n:.2f}" for n in os.getloadavg())

        bare = statistics.median(times[0])
        database = settings.DATABASES["default"]["NAME"]
        print(f"{database}: {args.rounds} rounds; load average before {load_before}, after {load_after}")
        print(f"{'page':<50} {'account':<18} median ms  ratio queries  in them planning  running")
        for page, samples, made in zip(listed, times, queries, strict=True):
            median = statistics.median(samples) * 1000
            waited = sum(seconds for _, _, seconds in made) * 1000
            planning = running = 0.0
            for sql, params, _ in made:
                if re.match(r"^\s*\(?\s*(SELECT|WITH)", sql):
                    plan_ms, run_ms = plan_and_run_ms(sql, params)
                    planning, running = planning + plan_ms, running + run_ms
            print(
                f"{page[0]:<50} {page[1] or '-':<18} {median:9.2f} {bare * 1000 / median:6.2f} {len(made):7d} "
                f"{waited:8.2f} {planning:8.2f} {running:8.2f}"
            )


if __name__ == "__main__":
    main()
