"""Settings for the load benchmark (bench/load/run.py): production settings plus a bare baseline view.

Only what a benchmark over plain HTTP on 127.0.0.1 needs differs from production:

- ``ROOT_URLCONF`` adds ``/bench/baseline/`` (bench/urls.py), a view that renders a 50-row template without
  touching the database: the yardstick every page is measured against in the same run;
- session and CSRF cookies are not marked Secure, because the benchmark speaks HTTP (no TLS proxy in front);
- the per-account eligibility lookup rate limit is lifted: wrk sends thousands of lookups with one cookie.
"""

from hbwsrc.settings import *  # noqa: F403
from hbwsrc.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LOOKUP_RATE_LIMIT = (10**9, 60)
