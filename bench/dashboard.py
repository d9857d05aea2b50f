"""Benchmark: the region office's filing dashboard over a whole province (target: median under 300 ms).

    cd /work/main && .venv/bin/python bench/dashboard.py [--runs 30] [--database-url postgres://...]

Uses a database of its own (default ``hbwsrc_bench`` on the local server): creates and migrates it, and when it is
empty fills it with bench/seed.py (5,000 institutions under 17 prefectures and 100 counties, 3 exam years of
60,000 records; about a minute). The pages are fetched through Django's test client with production settings
(DEBUG off), logged in as the region office past its second factor. Each run fetches the baseline (bench/views.py:
a bare view rendering a 50-row template, no database) and then the dashboard; the report gives medians, the ratio
of the dashboard to the baseline (which cancels out how busy the machine is), the number of queries and the
database time, and the machine's load average.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300


def setup(database_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("DEBUG", "False")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return elapsed


def statement(sql: str) -> str:
    """The query without the history context django-pghistory puts before every query of a request."""
    prefix = "SELECT set_config('pghistory.context_id'"
    return sql.split("; ", 1)[1] if sql.startswith(prefix) and "; " in sql else sql


def summary(samples) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(ordered):7.1f} ms   min {ordered[0]:7.1f}   p90 {p90:7.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hbwsrc_bench"),
    )
    args = parser.parse_args()
    setup(args.database_url)

    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import User
    from bench.seed import REGION_USERNAME, seed
    from institutions.models import Institution, Office, Region
    from tests.world import logged_in
    from trainees.models import ExamYear, Person, ProbationRecord

    call_command("ensure_database", verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)
    if not Region.objects.exists():
        print("Seeding a province (about a minute)...")
        started = time.perf_counter()
        seed(log=lambda text: print("  " + text))
        print(f"  done in {time.perf_counter() - started:.0f} s")

    root = Office.objects.get(parent=None, region__name="湖北考区")
    year = ExamYear.objects.current_for(root.region)
    prefecture = root.children.order_by("pk").first()
    county = prefecture.children.order_by("pk").first()
    print(
        f"Data: {Office.objects.count()} offices, {Institution.objects.count()} institutions, "
        f"{Person.objects.count()} persons, {ProbationRecord.objects.count()} records "
        f"({ProbationRecord.objects.filter(exam_year=year).count()} in the current year {year.year})"
    )
    client = logged_in(User.objects.get(username=REGION_USERNAME))
    pages = {
        "baseline (50-row template, no query)": reverse("bench_baseline"),
        "dashboard, region office": reverse("reports:dashboard"),
        "dashboard, one prefecture": reverse("reports:dashboard_office", args=[prefecture.public_id]),
        "dashboard, one county": reverse("reports:dashboard_office", args=[county.public_id]),
        "not submitted, region office (page 1)": reverse("reports:not_submitted", args=[root.public_id]),
    }
    # Static files are served from the source tree: the benchmark does not need collectstatic's manifest.
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    load_before = os.getloadavg()
    # Every run computes the board: the page keeps it DASHBOARD_CACHE_SECONDS otherwise, and this times computing it.
    with override_settings(STORAGES=storages, DASHBOARD_CACHE_SECONDS=0):
        for url in pages.values():  # warm-up: connections, templates, caches, the database's buffers
            for _run in range(3):
                timed(client, url)
        samples = {name: [] for name in pages}
        for _run in range(args.runs):
            for name, url in pages.items():
                samples[name].append(timed(client, url))
        with CaptureQueriesContext(connection) as queries:
            timed(client, pages["dashboard, region office"])
    load_after = os.getloadavg()

    baseline = statistics.median(samples["baseline (50-row template, no query)"])
    print(f"{args.runs} runs each; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (2 cores)")
    for name, values in samples.items():
        print(f"  {name:<40} {summary(values)}   x{statistics.median(values) / baseline:6.1f} baseline")
    sql_ms = sum(float(query["time"]) for query in queries.captured_queries) * 1000
    print(f"Region dashboard: {len(queries.captured_queries)} queries, {sql_ms:.0f} ms in the database (one run)")
    for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:4]:
        print(f"  {float(query['time']) * 1000:6.1f} ms  {' '.join(statement(query['sql']).split())[:90]}")
    dashboard = statistics.median(samples["dashboard, region office"])
    verdict = "met" if dashboard < TARGET_MS else "MISSED"
    print(f"Target: region dashboard median < {TARGET_MS} ms: {verdict} ({dashboard:.0f} ms)")
    return 0 if dashboard < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
